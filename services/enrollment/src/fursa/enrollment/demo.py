"""Demo reference data for the embedded development platform (never seeded in production)."""

from __future__ import annotations

from datetime import date

from fursa.enrollment.models import Association, Center, SchoolYear

DEMO_ASSOCIATION_ID = "2f6b1d0e-8a3c-4c57-9e21-5d7a0b4c3e91"
DEMO_CENTER_ID = "7c1e9a4b-3d2f-4b8e-a6c5-0e9d8f7a6b52"


def demo_association() -> Association:
    return Association(id=DEMO_ASSOCIATION_ID, name="Association Al-Amal", name_ar="جمعية الأمل")


def demo_center() -> Center:
    """The Al-Nasr center in Gueliz, Marrakech prefecture (071), Marrakech-Safi region (07)."""
    return Center(
        id=DEMO_CENTER_ID,
        name="Centre Al-Nasr",
        name_ar="مركز النصر",
        commune="Gueliz",
        province_code="071",
        region_code="07",
        association_id=DEMO_ASSOCIATION_ID,
        latitude=31.6346,
        longitude=-8.0103,
    )


def demo_school_years() -> list[SchoolYear]:
    """Two school years of intake for ages 12 to 18 (the programme's usual bounds)."""
    return [
        SchoolYear(
            code=f"{start}/{start + 1}",
            starts_on=date(start, 9, 1),
            ends_on=date(start + 1, 7, 31),
            min_age=12,
            max_age=18,
        )
        for start in (2025, 2026)
    ]

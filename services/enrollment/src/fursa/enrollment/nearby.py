"""Where else a learner waiting for a place could start: the centers of the province with room
on the same pathway, nearest first.

Pure rules, no framework: distances between centers located by latitude and longitude, and the
order in which staff see the open intakes (by distance when both centers are located, the same
commune first otherwise, then by name).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


def distance_km(a: Location, b: Location) -> float:
    """The great-circle distance (haversine): accurate to well under 1 % at a province's scale."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class OpenIntake:
    """A center of the province that takes one more learner on the pathway this school year.

    ``free_places`` is ``None`` where the center has set no limit; ``distance_km`` is ``None``
    unless both centers are located.
    """

    center_id: str
    name: str
    name_ar: str | None
    commune: str
    association_id: str
    free_places: int | None
    distance_km: float | None
    same_commune: bool


def nearest_first(intakes: Iterable[OpenIntake]) -> list[OpenIntake]:
    """Located centers by distance, then the unlocated ones of the same commune, then the
    others, each group by name."""
    return sorted(
        intakes,
        key=lambda i: (
            i.distance_km is None,
            i.distance_km or 0.0,
            not i.same_commune,
            i.name,
        ),
    )

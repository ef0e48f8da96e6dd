"""Builders of test data in the programme's words (deterministic: the same n, the same learner)."""

from __future__ import annotations

import uuid
from datetime import date

from fursa.shared.contracts import (
    Consent,
    Guardian,
    Language,
    LearnerEnrolled,
    LearnerPII,
    Pathway,
    Sex,
)

_NAMESPACE = uuid.UUID("6f3c2a8e-1d4b-4c1e-9a7f-3b2d5e8c0a11")


def uuid_of(kind: str, n: int) -> str:
    """A stable UUID for the n-th thing of a kind (learner 7 is always the same learner)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{n}"))


def learner_pii(n: int, *, notifications: bool = True, partner_sharing: bool = True) -> LearnerPII:
    return LearnerPII(
        first_name_ar="سلمى",
        last_name_ar="بنعلي",
        first_name_latin="Salma",
        last_name_latin="Benali",
        birth_date=date(2011, 3, 1 + n % 28),
        sex=Sex.FEMALE if n % 2 else Sex.MALE,
        guardian=Guardian(
            name="Fatima Benali",
            phone=f"+2126{n % 100_000_000:08d}",
            preferred_language=Language.AR if n % 3 else Language.FR,
        ),
        consent=Consent(
            data_use=True, notifications=notifications, partner_sharing=partner_sharing
        ),
    )


def learner_enrolled(n: int, *, notifications: bool = True) -> LearnerEnrolled:
    """The learner-enrolled event of the n-th test learner."""
    return LearnerEnrolled(
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        association_id=uuid_of("association", 1),
        center_id=uuid_of("center", 1),
        region_code="07",
        province_code="071",
        pathway=Pathway.VOCATIONAL_TRAINING,
        school_year="2025/2026",
        enrolled_on=date(2025, 10, 1),
        pii=learner_pii(n, notifications=notifications),
    )


# Three test learners placed for scope tests: learners 1 and 2 in two associations of region
# 07 (Marrakech-Safi, different provinces), learner 3 in a third association of region 04.
ASSOCIATION_A = uuid_of("association", 1)
ASSOCIATION_B = uuid_of("association", 2)
ASSOCIATION_C = uuid_of("association", 3)
PLACEMENTS = {
    1: {
        "association_id": ASSOCIATION_A,
        "center_id": uuid_of("center", 1),
        "region_code": "07",
        "province_code": "071",
    },
    2: {
        "association_id": ASSOCIATION_B,
        "center_id": uuid_of("center", 2),
        "region_code": "07",
        "province_code": "072",
    },
    3: {
        "association_id": ASSOCIATION_C,
        "center_id": uuid_of("center", 3),
        "region_code": "04",
        "province_code": "041",
    },
}

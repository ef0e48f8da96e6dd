"""The events the enrollment service publishes, built from its rows.

Personal data goes only into the ``pii`` block, and only of the events that need it.
"""

from __future__ import annotations

from fursa.enrollment.models import Center, Enrollment, Learner
from fursa.shared.contracts import (
    Consent,
    Guardian,
    LearnerContact,
    LearnerEnrolled,
    LearnerPII,
    LearnerWaitlisted,
)


def contact_of(learner: Learner) -> LearnerContact | None:
    """The learner's own contact, if recorded."""
    if learner.phone is None:
        return None
    return LearnerContact(
        phone=learner.phone,
        email=learner.email,
        preferred_language=learner.preferred_language or learner.guardian_language,
    )


def guardian_of(learner: Learner) -> Guardian:
    """The guardian block of v1 events, which requires one: for an adult enrolled without a
    guardian, the learner's own name and contact."""
    if learner.guardian_phone is None:
        assert learner.phone is not None
        return Guardian(
            name=f"{learner.first_name_latin} {learner.last_name_latin}",
            phone=learner.phone,
            email=learner.email,
            preferred_language=learner.preferred_language or learner.guardian_language,
        )
    return Guardian(
        name=learner.guardian_name or "",
        phone=learner.guardian_phone,
        email=learner.guardian_email,
        preferred_language=learner.guardian_language,
    )


def pii_of(learner: Learner) -> LearnerPII:
    """The learner's personal data as events carry it (never for an erased learner)."""
    if learner.erased_at is not None:
        raise ValueError(f"learner {learner.id} was erased")
    return LearnerPII.model_validate(
        {
            "first_name_ar": learner.first_name_ar,
            "last_name_ar": learner.last_name_ar,
            "first_name_latin": learner.first_name_latin,
            "last_name_latin": learner.last_name_latin,
            "birth_date": learner.birth_date,
            "birth_place_ar": learner.birth_place_ar,
            "birth_place_fr": learner.birth_place_fr,
            "sex": learner.sex,
            "nationality": learner.nationality,
            "massar_code": learner.massar_code,
            "guardian": guardian_of(learner),
            "contact": contact_of(learner),
            "consent": Consent(
                data_use=learner.consent_data_use,
                notifications=learner.consent_notifications,
                partner_sharing=learner.consent_partner_sharing,
            ),
        }
    )


def learner_enrolled(
    enrollment: Enrollment, center: Center, learner: Learner, *, promoted: bool
) -> LearnerEnrolled:
    assert enrollment.enrolled_on is not None
    return LearnerEnrolled(
        enrollment_id=enrollment.id,
        learner_id=learner.id,
        association_id=center.association_id,
        center_id=center.id,
        region_code=center.region_code,
        province_code=center.province_code,
        pathway=enrollment.pathway,
        school_year=enrollment.school_year,
        enrolled_on=enrollment.enrolled_on,
        promoted_from_waitlist=promoted,
        center_name=center.name,
        center_name_ar=center.name_ar,
        pii=pii_of(learner),
    )


def learner_waitlisted(
    enrollment: Enrollment, center: Center, learner: Learner, *, position: int
) -> LearnerWaitlisted:
    assert enrollment.waitlisted_on is not None
    return LearnerWaitlisted(
        enrollment_id=enrollment.id,
        learner_id=learner.id,
        association_id=center.association_id,
        center_id=center.id,
        region_code=center.region_code,
        province_code=center.province_code,
        pathway=enrollment.pathway,
        school_year=enrollment.school_year,
        position=position,
        waitlisted_on=enrollment.waitlisted_on,
        pii=pii_of(learner),
    )

"""The partner feed: what partner organisations may know of the programme's events.

Notify republishes each partner-visible event in this form to the `PARTNER` stream and to
partners' webhooks. None of these models has a `pii` block or a learner id: an enrollment is
known by its `enrollment_id` only, and nothing here names, dates the birth of, or reaches a
learner or guardian. Free-text fields of internal events (school or institution names) are
left out too, since free text can carry personal data. Attendance alerts (learner-at-risk) and
corrections of a learner's record (learner-updated) stay internal.

Referral status changes are told to the referring partner only, by webhook
(:data:`REFERRING_PARTNER_ONLY`), never on the stream that every partner reads.

Each model carries one example (in its JSON Schema), which the partner catalog publishes.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from fursa.shared.contracts.certification import CertificateKind, RevocationReason
from fursa.shared.contracts.common import Pathway, SchoolYear, UtcDateTime, Uuid
from fursa.shared.contracts.enrollment import (
    AdminCode,
    ExitOutcome,
    PartnerReference,
    ReferralClosingReason,
    ReferralStatus,
    WithdrawalReason,
)
from fursa.shared.contracts.registry import EventData, register
from fursa.shared.contracts.training import OutcomeStatus, TrainingResult

_ENROLLMENT = "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"
_ASSOCIATION = "0193a3c4-0000-7000-8000-00000000a501"
_CENTER = "0193a3c4-0000-7000-8000-00000000c301"
_OTHER_CENTER = "0193a3c4-0000-7000-8000-00000000c302"
_TRAINING = "0193a3c4-0000-7000-8000-00000000f001"
_CERTIFICATE = "0193a3c4-0000-7000-8000-00000000ce01"


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [values]})


@register("fursa.partner.learner-enrolled.v1", producer="notify", stable=True)
class PartnerLearnerEnrolled(EventData):
    """A learner was enrolled in a center for a school year (directly or from the waiting
    list)."""

    model_config = _example(
        enrollment_id=_ENROLLMENT,
        association_id=_ASSOCIATION,
        center_id=_CENTER,
        region_code="07",
        province_code="071",
        pathway="vocational_training",
        school_year="2025/2026",
        enrolled_on="2025-10-01",
        promoted_from_waitlist=False,
    )

    enrollment_id: Uuid
    association_id: Uuid
    center_id: Uuid
    region_code: AdminCode
    province_code: AdminCode
    pathway: Pathway
    school_year: SchoolYear
    enrolled_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    promoted_from_waitlist: bool = False


@register("fursa.partner.learner-waitlisted.v1", producer="notify", stable=True)
class PartnerLearnerWaitlisted(EventData):
    """The center's pathway was full: the enrollment waits at `position` (1 = next in line)."""

    model_config = _example(
        enrollment_id=_ENROLLMENT,
        association_id=_ASSOCIATION,
        center_id=_CENTER,
        region_code="07",
        province_code="071",
        pathway="school_reintegration",
        school_year="2025/2026",
        position=3,
        waitlisted_on="2025-09-20",
    )

    enrollment_id: Uuid
    association_id: Uuid
    center_id: Uuid
    region_code: AdminCode
    province_code: AdminCode
    pathway: Pathway
    school_year: SchoolYear
    position: Annotated[int, Field(ge=1)]
    waitlisted_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.partner.learner-transferred.v1", producer="notify", stable=True)
class PartnerLearnerTransferred(EventData):
    """An enrollment moved to another center."""

    model_config = _example(
        enrollment_id=_ENROLLMENT,
        association_id=_ASSOCIATION,
        from_center_id=_CENTER,
        to_center_id=_OTHER_CENTER,
        region_code="07",
        province_code="072",
        pathway="vocational_training",
        transferred_on="2026-01-15",
    )

    enrollment_id: Uuid
    association_id: Annotated[Uuid, Field(description="Association of the new center.")]
    from_center_id: Uuid
    to_center_id: Uuid
    region_code: Annotated[AdminCode, Field(description="Region of the new center.")]
    province_code: Annotated[AdminCode, Field(description="Province of the new center.")]
    pathway: Pathway
    transferred_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.partner.learner-withdrawn.v1", producer="notify", stable=True)
class PartnerLearnerWithdrawn(EventData):
    """A learner left the programme before completing; the enrollment is closed."""

    model_config = _example(
        enrollment_id=_ENROLLMENT,
        association_id=_ASSOCIATION,
        center_id=_CENTER,
        pathway="socio_professional_insertion",
        reason="work",
        withdrawn_on="2026-02-02",
        exit_outcome="apprenticed",
    )

    enrollment_id: Uuid
    association_id: Uuid
    center_id: Uuid
    pathway: Pathway
    reason: WithdrawalReason
    withdrawn_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    exit_outcome: Annotated[
        ExitOutcome | None,
        Field(description="Where the learner went, when known; absent: not recorded."),
    ] = None


@register("fursa.partner.enrollments-erased.v1", producer="notify", stable=True)
class PartnerEnrollmentsErased(EventData):
    """A learner's personal data was erased: partners forget what they hold about these
    enrollments beyond anonymous statistics."""

    model_config = _example(enrollment_ids=[_ENROLLMENT], erased_at="2026-03-01T10:00:00Z")

    enrollment_ids: list[Uuid]
    erased_at: UtcDateTime


@register("fursa.partner.training-completed.v1", producer="notify", stable=True)
class PartnerTrainingCompleted(EventData):
    """An enrollment's training ended with a result."""

    model_config = _example(
        training_id=_TRAINING,
        enrollment_id=_ENROLLMENT,
        center_id=_CENTER,
        pathway="vocational_training",
        workshops=["tailoring"],
        hours_attended=412.5,
        attendance_rate=0.87,
        result="passed",
        completed_on="2026-06-30",
    )

    training_id: Uuid
    enrollment_id: Uuid
    center_id: Uuid
    pathway: Pathway
    workshops: list[Annotated[str, Field(min_length=1, max_length=64)]]
    hours_attended: Annotated[float, Field(ge=0)]
    attendance_rate: Annotated[float, Field(ge=0, le=1, description="Share of sessions, 0..1.")]
    result: TrainingResult
    completed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.partner.learner-outcome-recorded.v1", producer="notify", stable=True)
class PartnerLearnerOutcomeRecorded(EventData):
    """A follow-up after the programme recorded where the former learner is (no school or
    institution names: they are free text)."""

    model_config = _example(
        outcome_id="0193a3c4-0000-7000-8000-0000000000e1",
        training_id=_TRAINING,
        enrollment_id=_ENROLLMENT,
        center_id=_CENTER,
        pathway="vocational_training",
        months_after=6,
        status="employed",
        recorded_on="2027-01-05",
    )

    outcome_id: Uuid
    training_id: Uuid
    enrollment_id: Uuid
    center_id: Uuid
    pathway: Pathway
    months_after: Annotated[int, Field(ge=1, le=60)]
    status: OutcomeStatus
    recorded_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.partner.certificate-issued.v1", producer="notify", stable=True)
class PartnerCertificateIssued(EventData):
    """A certificate was issued for an enrollment; a re-issue names the certificate it
    `replaces`. (Its number and verification page, which show the holder's name, are not
    part of the feed.)"""

    model_config = _example(
        certificate_id=_CERTIFICATE,
        enrollment_id=_ENROLLMENT,
        kind="diploma",
        pathway="vocational_training",
        issued_on="2026-07-10",
        replaces=None,
    )

    certificate_id: Uuid
    enrollment_id: Uuid
    kind: CertificateKind
    pathway: Pathway
    issued_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    replaces: Annotated[Uuid | None, Field(description="certificate_id re-issued by this.")] = None


@register("fursa.partner.certificate-revoked.v1", producer="notify", stable=True)
class PartnerCertificateRevoked(EventData):
    """A certificate was revoked; verification shows it."""

    model_config = _example(
        certificate_id=_CERTIFICATE,
        enrollment_id=_ENROLLMENT,
        reason="issued_in_error",
        revoked_on="2026-08-01",
    )

    certificate_id: Uuid
    enrollment_id: Uuid
    reason: RevocationReason
    revoked_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


_REFERRAL = "0193a3c4-0000-7000-8000-0000000000d1"
_AGREEMENT = "0193a3c4-0000-7000-8000-00000000a901"

REFERRING_PARTNER_ONLY = frozenset({"fursa.partner.referral-status-changed.v1"})
"""Partner events told only to one partner, by webhook: the PARTNER stream is one feed that
every partner reads whole, so these never travel on it."""


@register("fursa.partner.referral-status-changed.v1", producer="notify", stable=True)
class PartnerReferralStatusChanged(EventData):
    """One of your referrals changed status (told only to you, the referring partner, by
    webhook, as far as the referral's consent allows): `reference` is your own file number,
    `center_id` and `pathway` are there when the consent covers the placement."""

    model_config = _example(
        referral_id=_REFERRAL,
        agreement_id=_AGREEMENT,
        reference="ADD-2025-0042",
        status="enrolled",
        closing_reason=None,
        changed_on="2025-10-01",
        center_id=_CENTER,
        pathway="school_reintegration",
    )

    referral_id: Uuid
    agreement_id: Uuid
    reference: Annotated[
        PartnerReference | None, Field(description="Absent once the learner was erased.")
    ] = None
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None = None
    changed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    center_id: Uuid | None = None
    pathway: Pathway | None = None

"""The partner form of the programme's events, in plain code: which internal events partners
hear of, and what of each they may know (nothing from a `pii` block, no learner id).

A referral's status is for its referring partner alone (:func:`referring_partner_form`): it
is never on the PARTNER stream, which every partner reads whole."""

from __future__ import annotations

from dataclasses import dataclass

from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    EventData,
    LearnerEnrolled,
    LearnerErased,
    LearnerOutcomeRecorded,
    LearnerTransferred,
    LearnerWaitlisted,
    LearnerWithdrawn,
    PartnerCertificateIssued,
    PartnerCertificateRevoked,
    PartnerEnrollmentsErased,
    PartnerLearnerEnrolled,
    PartnerLearnerOutcomeRecorded,
    PartnerLearnerTransferred,
    PartnerLearnerWaitlisted,
    PartnerLearnerWithdrawn,
    PartnerReferralStatusChanged,
    PartnerTrainingCompleted,
    ReferralStatusChanged,
    TrainingCompleted,
)


@dataclass(frozen=True)
class PartnerEvent:
    """What to publish to partners: the data and the aggregate it is about."""

    data: EventData
    subject: str


def _copy(source: EventData, target: type[EventData]) -> EventData:
    # Only the target's fields are read from the internal event: a field added to an internal
    # contract later never reaches partners by accident.
    return target(**{name: getattr(source, name) for name in target.model_fields})


def partner_form(data: EventData) -> PartnerEvent | None:
    """The partner form of an internal event's data, or ``None`` for events partners do not
    hear of (learner-updated, learner-at-risk, notify's own)."""
    match data:
        case LearnerEnrolled():
            return PartnerEvent(_copy(data, PartnerLearnerEnrolled), data.enrollment_id)
        case LearnerWaitlisted():
            return PartnerEvent(_copy(data, PartnerLearnerWaitlisted), data.enrollment_id)
        case LearnerTransferred():
            return PartnerEvent(_copy(data, PartnerLearnerTransferred), data.enrollment_id)
        case LearnerWithdrawn():
            return PartnerEvent(_copy(data, PartnerLearnerWithdrawn), data.enrollment_id)
        case LearnerErased():
            # Its aggregate is the learner, whose id partners never see: the erasure is about
            # the enrollments, each an aggregate of its own; the first one names it.
            if not data.enrollment_ids:
                return None
            return PartnerEvent(_copy(data, PartnerEnrollmentsErased), data.enrollment_ids[0])
        case TrainingCompleted():
            return PartnerEvent(_copy(data, PartnerTrainingCompleted), data.enrollment_id)
        case LearnerOutcomeRecorded():
            return PartnerEvent(_copy(data, PartnerLearnerOutcomeRecorded), data.enrollment_id)
        case CertificateIssued():
            return PartnerEvent(_copy(data, PartnerCertificateIssued), data.certificate_id)
        case CertificateRevoked():
            return PartnerEvent(_copy(data, PartnerCertificateRevoked), data.certificate_id)
    return None


def referring_partner_form(data: ReferralStatusChanged) -> PartnerEvent:
    """What the referring partner is told of its referral's new status: enrollment decided
    what its consent lets the partner know (no center or pathway without the placement)."""
    return PartnerEvent(_copy(data, PartnerReferralStatusChanged), data.referral_id)

"""Fursa's event contracts: the CloudEvents envelope, the registry and every event's data.

Importing this package registers every event type. The registry's own `registry()` function
is not re-exported here: `fursa.shared.contracts.registry` must stay the module.
"""

from fursa.shared.contracts.certification import (
    CertificateIssued,
    CertificateKind,
    CertificateRevoked,
    RevocationReason,
)
from fursa.shared.contracts.common import ContractModel, Pathway
from fursa.shared.contracts.enrollment import (
    Consent,
    Guardian,
    Language,
    LearnerContact,
    LearnerEnrolled,
    LearnerErased,
    LearnerPII,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    LearnerWithdrawn,
    Sex,
    WithdrawalReason,
)
from fursa.shared.contracts.envelope import (
    CloudEvent,
    InvalidEvent,
    envelope_model,
    new_event,
    parse_event,
    to_json_bytes,
)
from fursa.shared.contracts.notify import (
    Channel,
    NotificationFailed,
    NotificationSent,
    RecipientKind,
)
from fursa.shared.contracts.partner import (
    PartnerCertificateIssued,
    PartnerCertificateRevoked,
    PartnerEnrollmentsErased,
    PartnerLearnerEnrolled,
    PartnerLearnerOutcomeRecorded,
    PartnerLearnerTransferred,
    PartnerLearnerWaitlisted,
    PartnerLearnerWithdrawn,
    PartnerTrainingCompleted,
)
from fursa.shared.contracts.registry import (
    EventData,
    Registration,
    all_types,
    for_model,
    get,
    register,
    stream_for,
    stream_subject,
)
from fursa.shared.contracts.training import (
    LearnerAtRisk,
    LearnerOutcomeRecorded,
    OutcomeStatus,
    TrainingCompleted,
    TrainingResult,
)

__all__ = [
    "CertificateIssued",
    "CertificateKind",
    "CertificateRevoked",
    "Channel",
    "CloudEvent",
    "Consent",
    "ContractModel",
    "EventData",
    "Guardian",
    "InvalidEvent",
    "Language",
    "LearnerAtRisk",
    "LearnerContact",
    "LearnerEnrolled",
    "LearnerErased",
    "LearnerOutcomeRecorded",
    "LearnerPII",
    "LearnerTransferred",
    "LearnerUpdated",
    "LearnerWaitlisted",
    "LearnerWithdrawn",
    "NotificationFailed",
    "NotificationSent",
    "OutcomeStatus",
    "PartnerCertificateIssued",
    "PartnerCertificateRevoked",
    "PartnerEnrollmentsErased",
    "PartnerLearnerEnrolled",
    "PartnerLearnerOutcomeRecorded",
    "PartnerLearnerTransferred",
    "PartnerLearnerWaitlisted",
    "PartnerLearnerWithdrawn",
    "PartnerTrainingCompleted",
    "Pathway",
    "RecipientKind",
    "Registration",
    "RevocationReason",
    "Sex",
    "TrainingCompleted",
    "TrainingResult",
    "WithdrawalReason",
    "all_types",
    "envelope_model",
    "for_model",
    "get",
    "new_event",
    "parse_event",
    "register",
    "stream_for",
    "stream_subject",
    "to_json_bytes",
]

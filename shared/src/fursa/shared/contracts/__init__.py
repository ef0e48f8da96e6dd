"""Fursa's event contracts: the CloudEvents envelope, the registry and every event's data.

Importing this package registers every event type. The registry's own `registry()` function
is not re-exported here: `fursa.shared.contracts.registry` must stay the module.
"""

from fursa.shared.contracts.certification import CertificateIssued, CertificateKind
from fursa.shared.contracts.common import ContractModel, Pathway
from fursa.shared.contracts.enrollment import (
    Consent,
    Guardian,
    Language,
    LearnerEnrolled,
    LearnerPII,
    Sex,
)
from fursa.shared.contracts.envelope import (
    CloudEvent,
    InvalidEvent,
    envelope_model,
    new_event,
    parse_event,
    to_json_bytes,
)
from fursa.shared.contracts.notify import Channel, NotificationSent, RecipientKind
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
from fursa.shared.contracts.training import TrainingCompleted, TrainingResult

__all__ = [
    "CertificateIssued",
    "CertificateKind",
    "Channel",
    "CloudEvent",
    "Consent",
    "ContractModel",
    "EventData",
    "Guardian",
    "InvalidEvent",
    "Language",
    "LearnerEnrolled",
    "LearnerPII",
    "NotificationSent",
    "Pathway",
    "RecipientKind",
    "Registration",
    "Sex",
    "TrainingCompleted",
    "TrainingResult",
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

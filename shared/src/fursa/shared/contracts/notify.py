"""Events published by the notify service."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from fursa.shared.contracts.common import EventTypeName, UtcDateTime, Uuid
from fursa.shared.contracts.registry import EventData, register


class RecipientKind(StrEnum):
    """Who a notification was for."""

    GUARDIAN = "guardian"
    LEARNER = "learner"  # an adult learner, their own contact
    ASSOCIATION = "association"
    PARTNER = "partner"


class Channel(StrEnum):
    """How a notification was delivered."""

    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"


@register("fursa.notify.notification-sent.v1", producer="notify", stable=True)
class NotificationSent(EventData):
    """A notification was delivered. It names the recipient's kind, never their address."""

    delivery_id: Uuid
    learner_id: Uuid | None = None
    recipient_kind: RecipientKind
    channel: Channel
    # An identifier, not free text: rendered messages (which carry names) must not leak here.
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")]
    cause_event_id: Annotated[Uuid, Field(description="Id of the event that caused it.")]
    cause_type: EventTypeName
    sent_at: UtcDateTime


@register("fursa.notify.notification-failed.v1", producer="notify", stable=True)
class NotificationFailed(EventData):
    """A notification could not be delivered after its last attempt."""

    delivery_id: Uuid
    learner_id: Uuid | None = None
    recipient_kind: RecipientKind
    channel: Channel
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")]
    cause_event_id: Uuid
    cause_type: EventTypeName
    attempts: Annotated[int, Field(ge=1)]
    # A short code (`http_503`, `smtp_550`, `timeout`), never a message that could echo data.
    last_error: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]
    failed_at: UtcDateTime

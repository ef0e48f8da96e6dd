"""The notify service's tables, on its own metadata next to the kernel's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from fursa.notify.domain import DeliveryStatus
from fursa.shared.audit import AuditEntryFields, AuditTrail
from fursa.shared.db import UtcDateTime, service_base
from fursa.shared.messaging.tables import kernel_tables

if TYPE_CHECKING:
    # What mypy can check as a base class; at run time, a base with the service's own registry.
    Base = SQLModel
else:
    Base = service_base("notify")

KERNEL = kernel_tables(Base.metadata)


class Contact(Base, table=True):
    """Whom to tell about a learner — the guardian — copied from the `pii` of enrollment's
    events, and where the learner is enrolled (association, center, territory): what decides
    who may see the learner's deliveries, and which association hears of them."""

    __tablename__ = "contact"

    learner_id: str = Field(primary_key=True, max_length=36)
    enrollment_id: str = Field(max_length=36)
    association_id: str = Field(index=True, max_length=36)
    center_id: str = Field(index=True, max_length=36)
    region_code: str = Field(index=True, max_length=16)
    province_code: str = Field(index=True, max_length=16)
    # The learner's name in both scripts, for the association's notices (forgotten on erasure).
    learner_name_ar: str | None = Field(default=None, max_length=200)
    learner_name_latin: str | None = Field(default=None, max_length=200)
    guardian_name: str = Field(max_length=200)
    phone: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=254)
    preferred_language: str = Field(max_length=2)
    # The learner's birth date and own contact: from 18 the learner is their own contact.
    birth_date: date | None = None
    learner_phone: str | None = Field(default=None, max_length=16)
    learner_email: str | None = Field(default=None, max_length=254)
    learner_language: str | None = Field(default=None, max_length=2)
    consent_notifications: bool
    # What the learner's partner events need (see ``fursa.shared.consent``): not given unless
    # an event said so.
    consent_data_use: bool = False
    consent_partner_sharing: bool = False
    # A partner event about the learner was published: their erasure is then told to partners
    # too (never for a learner partners never heard of).
    known_to_partners: bool = False
    # When enrollment published what this row holds: an older event redelivered late (across
    # aggregates, so the kernel's sequence check cannot see it) never undoes a newer one,
    # e.g. a withdrawn consent.
    as_of: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AssociationContact(Base, table=True):
    """Where an association wants the notices about its learners (set by its own staff): an
    organisation's address, not a person's."""

    __tablename__ = "association_contact"

    association_id: str = Field(primary_key=True, max_length=36)
    email: str = Field(max_length=254)
    preferred_language: str = Field(max_length=2)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    updated_by: str = Field(max_length=200)


class ErasedLearner(Base, table=True):
    """A learner whose personal data was erased: a late or redelivered event about them must
    not bring the contact back (a tombstone that holds no personal data)."""

    __tablename__ = "erased_learner"

    learner_id: str = Field(primary_key=True, max_length=36)
    erased_at: datetime = Field(sa_type=UtcDateTime)


class Delivery(Base, table=True):
    """One message to one recipient over one channel, from creation to its last attempt.

    ``recipient`` is the learner (a guardian's message) or the partner endpoint; the address
    is looked up when sending, so a corrected phone number or a withdrawn consent applies to
    retries too. ``body`` is the rendered message (or the partner event, for webhooks); it is
    deleted with the delivery when the learner is erased.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        # One event gives at most one message per recipient and channel.
        UniqueConstraint(
            "cause_event_id", "channel", "recipient", name="uq_delivery_cause_recipient"
        ),
        # The worker's scan: what is due, by time.
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str | None = Field(default=None, index=True, max_length=36)
    endpoint_id: str | None = Field(default=None, index=True, max_length=36)
    recipient_kind: str = Field(max_length=20)
    recipient: str = Field(max_length=36)
    channel: str = Field(max_length=20)
    template: str = Field(max_length=100)
    cause_event_id: str = Field(max_length=36)
    cause_type: str = Field(max_length=200)
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The named delivery worker holding the claim (see NotifySettings.delivery_worker).
    claimed_by: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=200)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The sequence of this delivery's last notification-sent/-failed event.
    event_sequence: int = 0
    # The trace of the event that caused it: sending and notification-sent continue it.
    traceparent: str | None = Field(default=None, max_length=64)
    # SMS: the segments its last sent attempt cost, and when the SMSC reported it delivered.
    segments: int | None = None
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SmsSegment(Base, table=True):
    """One SMS segment an SMSC accepted (each is paid for): what its delivery receipt names
    (``smsc_message_id``), which delivery and attempt it belongs to, and the association the
    learner was enrolled with then (what an association's SMS cost is counted by). It holds
    no number and no text, so it outlives a learner's erasure."""

    __tablename__ = "sms_segment"
    __table_args__ = (Index("ix_sms_segment_usage", "association_id", "submitted_at"),)

    smsc_message_id: str = Field(primary_key=True, max_length=65)
    delivery_id: str = Field(index=True, max_length=36)
    attempt: int
    number: int
    segments: int
    association_id: str | None = Field(default=None, max_length=36)
    submitted_at: datetime = Field(sa_type=UtcDateTime)
    # The receipt's state (DELIVRD, UNDELIV, EXPIRED…) once it came.
    state: str | None = Field(default=None, max_length=16)


class Partner(Base, table=True):
    """A partner organisation whose systems hear of the programme through the partner feed.
    Its name is unique: the operator's commands (``fursa partner add``) know it by name."""

    __tablename__ = "partner"
    __table_args__ = (UniqueConstraint("name", name="uq_partner_name"),)

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)


class PartnerEndpoint(Base, table=True):
    """A partner's webhook URL and the partner event types it wants."""

    __tablename__ = "partner_endpoint"

    id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=36)
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(sa_type=JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = Field(default=None, max_length=64)


class EndpointSecret(Base, table=True):
    """A signing secret of an endpoint; after a rotation the old one keeps signing beside the
    new one until ``expires_at``."""

    __tablename__ = "endpoint_secret"

    id: str = Field(primary_key=True, max_length=36)
    endpoint_id: str = Field(foreign_key="partner_endpoint.id", index=True, max_length=36)
    secret: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PartnerFeedPosition(Base, table=True):
    """The last `sequence` given to a partner feed aggregate (an enrollment or a certificate):
    partner events of one aggregate carry increasing sequences, whatever they came from."""

    __tablename__ = "partner_feed_position"

    subject: str = Field(primary_key=True, max_length=128)
    sequence: int


class AuditEntry(AuditEntryFields, Base, table=True):
    """Who onboarded a partner or changed its webhooks, set or removed an association's
    address, sent a message again or erased, when and why (the kernel's audit trail)."""


AUDIT = AuditTrail(AuditEntry, service="notify")

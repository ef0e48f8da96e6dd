"""The notify service's tables, on its own metadata next to the kernel's tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from fursa.notify.domain import DeliveryStatus
from fursa.shared.db import service_base
from fursa.shared.messaging.tables import kernel_tables

if TYPE_CHECKING:
    # What mypy can check as a base class; at run time, a base with the service's own registry.
    Base = SQLModel
else:
    Base = service_base("notify")

KERNEL = kernel_tables(Base.metadata)


class Contact(Base, table=True):
    """Whom to tell about a learner — the guardian — copied from learner-enrolled's pii, and
    where the learner is enrolled (association, center, territory): what decides who may see
    the learner's deliveries."""

    __tablename__ = "contact"

    learner_id: str = Field(primary_key=True, max_length=36)
    enrollment_id: str = Field(max_length=36)
    association_id: str = Field(index=True, max_length=36)
    center_id: str = Field(index=True, max_length=36)
    region_code: str = Field(index=True, max_length=16)
    province_code: str = Field(index=True, max_length=16)
    guardian_name: str = Field(max_length=200)
    phone: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=254)
    preferred_language: str = Field(max_length=2)
    consent_notifications: bool


class Delivery(Base, table=True):
    """One message delivered to one recipient over one channel. It names no address."""

    __tablename__ = "delivery"
    __table_args__ = (
        # One event gives at most one message per recipient and channel.
        UniqueConstraint(
            "cause_event_id", "recipient_kind", "channel", name="uq_delivery_cause_recipient"
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str | None = Field(default=None, index=True, max_length=36)
    recipient_kind: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    template: str = Field(max_length=100)
    cause_event_id: str = Field(max_length=36)
    cause_type: str = Field(max_length=200)
    status: str = Field(default=DeliveryStatus.SENT.value, max_length=20)
    sent_at: datetime = Field(sa_type=DateTime(timezone=True))

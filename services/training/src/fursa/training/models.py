"""The training service's tables.

Training keeps only what it needs of an enrollment (ids, pathway, and where it is placed:
association, center, region, province, which decide who may see it) and never the learner's
personal data: the ``pii`` block of learner-enrolled is not stored here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Dialect, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from fursa.shared.contracts import Pathway, TrainingResult
from fursa.shared.db import service_base
from fursa.shared.messaging.tables import kernel_tables
from fursa.training.domain import FIRST_VERSION, TrainingStatus

if TYPE_CHECKING:
    # mypy cannot derive from a class made at run time; to it the base is plain SQLModel.
    TrainingModel = SQLModel
else:
    TrainingModel = service_base("training")


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and read back timezone-aware on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no offset: what it returns was written in UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
    """A column holding an enum's values as text (no database enum type to migrate)."""
    column_type = SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )
    return Field(sa_type=column_type, **kwargs)


class TrainingRecord(TrainingModel, table=True):
    """One enrollment's training: opened when the learner is enrolled, completed with a result.

    ``version`` orders the record's events (their ``sequence``).
    """

    __tablename__ = "training_record"

    id: str = Field(primary_key=True, max_length=36)
    # One training per enrollment, whatever the redeliveries of learner-enrolled.
    enrollment_id: str = Field(unique=True, max_length=36)
    learner_id: str = Field(max_length=36, index=True)
    # Where the enrollment is placed, as learner-enrolled tells: who may see the record.
    association_id: str = Field(max_length=36, index=True)
    center_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=16, index=True)
    province_code: str = Field(max_length=16, index=True)
    pathway: Pathway = enum_field(Pathway)
    status: TrainingStatus = enum_field(TrainingStatus, index=True)
    opened_at: datetime = Field(sa_type=UtcDateTime)
    completed_on: date | None = None
    hours_attended: float | None = None
    attendance_rate: float | None = None
    result: TrainingResult | None = enum_field(TrainingResult, default=None)
    workshops: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = FIRST_VERSION


KERNEL = kernel_tables(TrainingModel.metadata)

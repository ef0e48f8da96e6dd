"""The training service's tables.

Training keeps only what it needs of an enrollment (ids, pathway, school year, and where it is
placed: association, center, region, province, which decide who may see it). Of the ``pii``
block of learner-enrolled it keeps the learner's sex, which the indicators report, and their
names, which class rosters show; it forgets both when the learner is erased.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Table, UniqueConstraint, inspect
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from fursa.shared.audit import AuditEntryFields
from fursa.shared.contracts import OutcomeStatus, Pathway, TrainingResult
from fursa.shared.db import UtcDateTime, service_base
from fursa.shared.messaging.tables import kernel_tables
from fursa.training.corrections import CorrectionKind, CorrectionReason
from fursa.training.domain import FIRST_VERSION, TrainingStatus

if TYPE_CHECKING:
    # mypy cannot derive from a class made at run time; to it the base is plain SQLModel.
    TrainingModel = SQLModel
else:
    TrainingModel = service_base("training")


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
    """A column holding an enum's values as text (no database enum type to migrate)."""
    column_type = SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )
    return Field(sa_type=column_type, **kwargs)


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements: a hot path reads and writes rows, not objects."""
    return cast(Table, inspect(model, raiseerr=True).local_table)


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
    school_year: str = Field(max_length=9, index=True)
    # From the pii block, for the indicators only; None once the learner is erased.
    sex: str | None = Field(default=None, max_length=16)
    status: TrainingStatus = enum_field(TrainingStatus, index=True)
    opened_at: datetime = Field(sa_type=UtcDateTime)
    completed_on: date | None = None
    closed_on: date | None = None
    at_risk: bool = False
    hours_attended: float | None = None
    attendance_rate: float | None = None
    result: TrainingResult | None = enum_field(TrainingResult, default=None)
    workshops: list[str] = Field(default_factory=list, sa_type=JSON)
    # The class of the center the learner follows (None until assigned or first called).
    class_name: str | None = Field(default=None, max_length=64)
    version: int = FIRST_VERSION


class TrainingCenter(TrainingModel, table=True):
    """A center as its enrollments place it: who may see its roster, curriculum and due list."""

    __tablename__ = "training_center"

    center_id: str = Field(primary_key=True, max_length=36)
    association_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=16)
    province_code: str = Field(max_length=16)


class LearnerName(TrainingModel, table=True):
    """A learner's names as the enrollment service last told them (rosters, due lists); the
    row is deleted when the learner is erased."""

    __tablename__ = "learner_name"

    learner_id: str = Field(primary_key=True, max_length=36)
    first_name_ar: str = Field(max_length=100)
    last_name_ar: str = Field(max_length=100)
    first_name_latin: str = Field(max_length=100)
    last_name_latin: str = Field(max_length=100)


class TrainingTransfer(TrainingModel, table=True):
    """A move of a training to another center (its history: the record holds the latest)."""

    __tablename__ = "training_transfer"

    id: int | None = Field(default=None, primary_key=True)
    training_id: str = Field(foreign_key="training_record.id", max_length=36, index=True)
    from_center_id: str = Field(max_length=36)
    to_center_id: str = Field(max_length=36)
    transferred_on: date


class ErasedLearner(TrainingModel, table=True):
    """The tombstone of an erased learner: a late learner-enrolled must not bring them back."""

    __tablename__ = "erased_learner"

    learner_id: str = Field(primary_key=True, max_length=36)
    erased_at: datetime = Field(sa_type=UtcDateTime)


class ClassSession(TrainingModel, table=True):
    """One session of a module given to a class of a center on a local date."""

    __tablename__ = "class_session"
    __table_args__ = (UniqueConstraint("center_id", "class_name", "module", "held_on"),)

    id: str = Field(primary_key=True, max_length=36)
    center_id: str = Field(max_length=36, index=True)
    class_name: str = Field(max_length=64)
    module: str = Field(max_length=64)
    held_on: date
    hours: float
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    # Who took the call (the token's subject); None for sessions recorded before it was kept.
    recorded_by: str | None = Field(default=None, max_length=200)


class Attendance(TrainingModel, table=True):
    """Whether one learner attended one session; an excused absence does not count against the
    early warning. ``recorded_by`` set the mark as it stands (its corrections keep the rest)."""

    __tablename__ = "attendance"

    session_id: str = Field(foreign_key="class_session.id", primary_key=True, max_length=36)
    training_id: str = Field(
        foreign_key="training_record.id", primary_key=True, max_length=36, index=True
    )
    present: bool
    excused: bool = False
    recorded_by: str | None = Field(default=None, max_length=200)


class Assessment(TrainingModel, table=True):
    """A learner's assessment in a module (score out of 20); the latest one counts."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("training_id", "module", "assessed_on"),)

    id: str = Field(primary_key=True, max_length=36)
    training_id: str = Field(foreign_key="training_record.id", max_length=36, index=True)
    module: str = Field(max_length=64)
    score: float
    passed: bool
    assessed_on: date
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    recorded_by: str | None = Field(default=None, max_length=200)


class FollowUpOutcome(TrainingModel, table=True):
    """Where a learner is ``months_after`` their training ended (one per follow-up)."""

    __tablename__ = "follow_up_outcome"
    __table_args__ = (UniqueConstraint("training_id", "months_after"),)

    id: str = Field(primary_key=True, max_length=36)
    training_id: str = Field(foreign_key="training_record.id", max_length=36, index=True)
    months_after: int
    status: OutcomeStatus = enum_field(OutcomeStatus)
    school: str | None = Field(default=None, max_length=200)
    level: str | None = Field(default=None, max_length=64)
    institution: str | None = Field(default=None, max_length=200)
    recorded_on: date
    recorded_by: str | None = Field(default=None, max_length=200)


class Correction(TrainingModel, table=True):
    """One correction of an attendance mark, an assessment or a follow-up: what it was
    (``previous``, None for a mark added after the call), what it became, why, who, when."""

    __tablename__ = "correction"

    id: str = Field(primary_key=True, max_length=36)
    training_id: str = Field(foreign_key="training_record.id", max_length=36, index=True)
    kind: CorrectionKind = enum_field(CorrectionKind)
    # The corrected entry: a session (attendance), an assessment or a follow-up outcome.
    entry_id: str = Field(max_length=36)
    previous: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    current: dict[str, Any] = Field(sa_type=JSON)
    reason: CorrectionReason = enum_field(CorrectionReason)
    corrected_by: str = Field(max_length=200)
    corrected_at: datetime = Field(sa_type=UtcDateTime)


class CenterCurriculum(TrainingModel, table=True):
    """A center's own curriculum for one pathway; the deployment's applies where none is set."""

    __tablename__ = "center_curriculum"

    center_id: str = Field(primary_key=True, max_length=36)
    pathway: Pathway = enum_field(Pathway, primary_key=True)
    modules: dict[str, float] = Field(sa_type=JSON)
    workshops: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    workshops_required: int = 0
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class FollowUpReminder(TrainingModel, table=True):
    """The follow-up-due reminder of one milestone of a training: published once."""

    __tablename__ = "follow_up_reminder"

    training_id: str = Field(foreign_key="training_record.id", primary_key=True, max_length=36)
    months_after: int = Field(primary_key=True)
    due_on: date
    reminded_at: datetime = Field(sa_type=UtcDateTime)


KERNEL = kernel_tables(TrainingModel.metadata)


class AuditEntry(AuditEntryFields, TrainingModel, table=True):
    """Who recorded or corrected attendance, scores, completions and follow-ups, set a
    curriculum or erased, when and why (the kernel's audit trail)."""

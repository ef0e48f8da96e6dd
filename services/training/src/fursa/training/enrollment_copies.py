"""What training keeps of enrollment's learners and centers, written as its events arrive.

Every learner-enrolled opens a training, places its center and keeps the learner's names,
with statements compiled once: placing a center and keeping names are one atomic upsert each
(:class:`~fursa.shared.db.Upsert`), where merging an ORM object took a read and a write.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.clock import utcnow
from fursa.shared.contracts import LearnerEnrolled, LearnerPII
from fursa.shared.db import InsertOf, Upsert, placeholders
from fursa.training.domain import FIRST_VERSION, TrainingStatus
from fursa.training.models import (
    ErasedLearner,
    LearnerName,
    TrainingCenter,
    TrainingRecord,
    table_of,
)

_erased = table_of(ErasedLearner)
_ERASED = select(_erased.c.learner_id).where(_erased.c.learner_id == bindparam("learner_id"))


def _latest(model: type[TrainingCenter] | type[LearnerName], key: str) -> Upsert:
    """Insert a row, or set what it holds to what the latest event says (no write when the
    event changes nothing)."""

    def build(insert: InsertOf) -> Insert:
        statement = insert(model).values(placeholders(model))
        newer, table = statement.excluded, table_of(model)
        kept = [name for name in placeholders(model) if name != key]
        return statement.on_conflict_do_update(
            index_elements=[key],
            set_={name: newer[name] for name in kept},
            where=or_(*(table.c[name] != newer[name] for name in kept)),
        )

    return Upsert(build)


_PLACE_CENTER = _latest(TrainingCenter, "center_id")
_KEEP_NAMES = _latest(LearnerName, "learner_id")
_records = table_of(TrainingRecord)
_OPENED = select(_records.c.id).where(_records.c.enrollment_id == bindparam("enrollment_id"))
# A plain INSERT (the unique key on the enrollment still refuses a second training): the
# dialects' ON CONFLICT forms would cast the JSON column's placeholder, which a textual
# statement does not read back as a placeholder.
_OPEN = insert(_records)


async def erased(session: AsyncSession, learner_id: str) -> bool:
    """Whether the learner was erased (their tombstone is kept)."""
    found = await session.execute(_ERASED, {"learner_id": learner_id})
    return found.first() is not None


async def place_center(
    session: AsyncSession,
    *,
    center_id: str,
    association_id: str,
    region_code: str,
    province_code: str,
) -> None:
    """Where a center is placed, as its latest enrollment or transfer says."""
    await _PLACE_CENTER.execute(
        session,
        center_id=center_id,
        association_id=association_id,
        region_code=region_code,
        province_code=province_code,
    )


async def keep_names(session: AsyncSession, learner_id: str, pii: LearnerPII) -> None:
    """A learner's names as enrollment last told them."""
    await _KEEP_NAMES.execute(
        session,
        learner_id=learner_id,
        first_name_ar=pii.first_name_ar,
        last_name_ar=pii.last_name_ar,
        first_name_latin=pii.first_name_latin,
        last_name_latin=pii.last_name_latin,
    )


async def open_training(session: AsyncSession, enrolled: LearnerEnrolled) -> str | None:
    """Open the enrollment's training as it starts (open, not at risk, in no class yet, at
    its first version); its id, or None when the enrollment's training is already open."""
    opened = await session.execute(_OPENED, {"enrollment_id": enrolled.enrollment_id})
    if opened.first() is not None:
        return None
    training_id = str(uuid.uuid4())
    await session.execute(
        _OPEN,
        dict(
            id=training_id,
            enrollment_id=enrolled.enrollment_id,
            learner_id=enrolled.learner_id,
            association_id=enrolled.association_id,
            center_id=enrolled.center_id,
            region_code=enrolled.region_code,
            province_code=enrolled.province_code,
            pathway=enrolled.pathway,
            school_year=enrolled.school_year,
            sex=str(enrolled.pii.sex),
            status=TrainingStatus.OPEN,
            opened_at=utcnow(),
            completed_on=None,
            closed_on=None,
            at_risk=False,
            hours_attended=None,
            attendance_rate=None,
            result=None,
            workshops=[],
            class_name=None,
            version=FIRST_VERSION,
        ),
    )
    return training_id

"""A class's call in rows: the learners an educator's session or assessment names, read and
written with Core statements built once, not as ORM objects.

A class of 25 is called for every session and every assessment: hydrating its 25 training
records, and flushing 25 assessments and their 25 audit entries one object at a time, was
most of what recording a class cost. Each statement here is one round trip for the whole
class (the writes by ``executemany``) and is compiled once per process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.contracts import Pathway
from fursa.training.domain import TrainingStatus
from fursa.training.models import Assessment, Attendance, ClassSession, TrainingRecord, table_of


@dataclass
class ClassLearner:
    """A learner's training as a class's call needs it: whom it is, where it is placed, and
    what the call may change (their class, their at-risk episode and the record's version)."""

    id: str
    enrollment_id: str
    learner_id: str
    association_id: str
    center_id: str
    region_code: str
    province_code: str
    pathway: Pathway
    status: TrainingStatus
    at_risk: bool
    class_name: str | None
    version: int


@dataclass(frozen=True)
class ScoreRecorded:
    """One learner's assessment as the call recorded it."""

    id: str
    training_id: str
    module: str
    score: float
    passed: bool
    assessed_on: date


_records = table_of(TrainingRecord)
_sessions = table_of(ClassSession)
_attendance = table_of(Attendance)

# Locked in id order: two calls about overlapping classes cannot deadlock.
_LEARNERS = (
    select(*(_records.c[f.name] for f in fields(ClassLearner)))
    .where(_records.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_records.c.id)
    .with_for_update()
)
# Only each learner's latest sessions are read (a window function), not their whole history:
# a class's hundredth session costs what its tenth did. An excused absence does not count.
_latest = (
    select(
        _attendance.c.training_id,
        _attendance.c.present,
        func.row_number()
        .over(
            partition_by=_attendance.c.training_id,
            order_by=(_sessions.c.held_on.desc(), _sessions.c.recorded_at.desc()),
        )
        .label("recency"),
    )
    .join(_sessions, _sessions.c.id == _attendance.c.session_id)
    .where(
        _attendance.c.training_id.in_(bindparam("ids", expanding=True)),
        ~_attendance.c.excused,
    )
    .subquery()
)
_RECENT = (
    select(_latest.c.training_id, _latest.c.present)
    .where(_latest.c.recency <= bindparam("window"))
    .order_by(_latest.c.training_id, _latest.c.recency)
)
_HOLD_SESSION = insert(_sessions)
_MARK = insert(_attendance)
_SCORE = insert(table_of(Assessment))
_JOIN_CLASS = (
    update(_records)
    .where(_records.c.id.in_(bindparam("ids", expanding=True)), _records.c.class_name.is_(None))
    .values(class_name=bindparam("joined"))
)
_EPISODE = (
    update(_records)
    .where(_records.c.id == bindparam("training"))
    .values(at_risk=bindparam("risk"), version=bindparam("next_version"))
)


async def learners(session: AsyncSession, ids: Sequence[str]) -> dict[str, ClassLearner]:
    """The named trainings that exist, locked, by id."""
    rows = await session.execute(_LEARNERS, {"ids": list(ids)})
    return {row.id: ClassLearner(*row) for row in rows}


async def recent_presence(
    session: AsyncSession, training_ids: Sequence[str], window: int
) -> dict[str, list[bool]]:
    """Each training's presence at its last ``window`` sessions that count, latest first."""
    recent: dict[str, list[bool]] = defaultdict(list)
    rows = await session.execute(_RECENT, {"ids": list(training_ids), "window": window})
    for training_id, present in rows:
        recent[training_id].append(present)
    return recent


async def hold_session(
    session: AsyncSession, held: ClassSession, marks: list[dict[str, Any]]
) -> None:
    """Write a session and its class's marks (a session of the same class, module and day
    recorded before breaks the unique key: an IntegrityError)."""
    await session.execute(_HOLD_SESSION, held.model_dump())
    await session.execute(_MARK, marks)


async def record_scores(
    session: AsyncSession, scores: Sequence[ScoreRecorded], *, at: datetime, by: str
) -> None:
    """Write a class's assessments, recorded ``at`` ``by`` (a learner assessed in the module
    that day before breaks the unique key: an IntegrityError)."""
    await session.execute(
        _SCORE, [vars(score) | {"recorded_at": at, "recorded_by": by} for score in scores]
    )


async def join_class(session: AsyncSession, learners: Sequence[ClassLearner], name: str) -> None:
    """Learners not yet in a class join ``name``."""
    joining = [learner for learner in learners if learner.class_name is None]
    if joining:
        await session.execute(_JOIN_CLASS, {"ids": [j.id for j in joining], "joined": name})
        for learner in joining:
            learner.class_name = name


async def write_episodes(session: AsyncSession, changed: Sequence[ClassLearner]) -> None:
    """Write the at-risk episodes that started or ended, and the versions they moved."""
    if changed:
        await session.execute(
            _EPISODE,
            [{"training": c.id, "risk": c.at_risk, "next_version": c.version} for c in changed],
        )

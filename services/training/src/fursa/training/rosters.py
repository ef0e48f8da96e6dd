"""Class rosters: who is in a class of a center, and who was called at a session, by name.

Names come from the enrollment service's events (learner-enrolled, learner-updated) and go
with learner-erased: an erased learner stays on a roster as an anonymous line, so that the
class's figures still add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.auth import Principal
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.training.center_curricula import CenterNotFound, visible_center
from fursa.training.domain import TrainingStatus, ensure_open
from fursa.training.models import Attendance, ClassSession, LearnerName, TrainingRecord
from fursa.training.service import TrainingNotFound, sees_training, visible_trainings


class SessionNotFound(LookupError):  # noqa: N818 - reads as what happened
    """A session training does not know, or one of a center outside the caller's scope."""


@dataclass(frozen=True)
class RosterLine:
    """One learner of a class: their training and their names (None once erased)."""

    record: TrainingRecord
    names: LearnerName | None


@dataclass(frozen=True)
class CalledLine:
    """One learner called at a session, with the mark as it stands and who set it."""

    line: RosterLine
    attendance: Attendance


@dataclass(frozen=True)
class ClassCount:
    class_name: str | None
    learners: int


async def names_of(session: AsyncSession, learner_ids: Sequence[str]) -> dict[str, LearnerName]:
    """The names training keeps of these learners (the erased have none)."""
    query = select(LearnerName).where(col(LearnerName.learner_id).in_(learner_ids))
    return {row.learner_id: row for row in (await session.exec(query)).all()}


def by_name(lines: Sequence[RosterLine]) -> list[RosterLine]:
    """Arabic surname then first name (the order of school registers); anonymous lines last."""

    def key(line: RosterLine) -> tuple[bool, str, str, str]:
        names = line.names
        if names is None:
            return (True, "", "", line.record.id)
        return (False, names.last_name_ar, names.first_name_ar, line.record.id)

    return sorted(lines, key=key)


class Rosters:
    """Reads the classes of a center and puts learners in them, within the caller's scope."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def classes(self, center_id: str, *, scope: Principal) -> list[ClassCount]:
        """The center's classes and how many open trainings each has (None: not yet in one)."""
        query = (
            select(TrainingRecord.class_name, func.count())
            .where(
                visible_trainings(scope),
                col(TrainingRecord.center_id) == center_id,
                col(TrainingRecord.status) == TrainingStatus.OPEN,
            )
            .group_by(col(TrainingRecord.class_name))
        )
        async with self.uow.read() as session:
            if not await visible_center(session, center_id, scope):
                raise CenterNotFound(center_id)
            counts = (await session.exec(query)).all()
        named = sorted((c for c in counts if c[0] is not None), key=lambda c: str(c[0]))
        unplaced = [c for c in counts if c[0] is None]
        return [ClassCount(name, n) for name, n in [*named, *unplaced]]

    async def class_roster(
        self, center_id: str, class_name: str, *, scope: Principal
    ) -> list[RosterLine]:
        """The open trainings of a class of the center, by name."""
        query = select(TrainingRecord).where(
            visible_trainings(scope),
            col(TrainingRecord.center_id) == center_id,
            col(TrainingRecord.class_name) == class_name,
            col(TrainingRecord.status) == TrainingStatus.OPEN,
        )
        async with self.uow.read() as session:
            if not await visible_center(session, center_id, scope):
                raise CenterNotFound(center_id)
            records = (await session.exec(query)).all()
            names = await names_of(session, [r.learner_id for r in records])
        return by_name([RosterLine(r, names.get(r.learner_id)) for r in records])

    async def class_sessions(
        self, center_id: str, class_name: str, *, limit: int, scope: Principal
    ) -> list[ClassSession]:
        """A class's latest sessions, the most recent day first (its corrections start here)."""
        query = (
            select(ClassSession)
            .where(
                col(ClassSession.center_id) == center_id,
                col(ClassSession.class_name) == class_name,
            )
            .order_by(col(ClassSession.held_on).desc(), col(ClassSession.module))
            .limit(limit)
        )
        async with self.uow.read() as session:
            if not await visible_center(session, center_id, scope):
                raise CenterNotFound(center_id)
            return list((await session.exec(query)).all())

    async def session_roster(
        self, session_id: str, *, scope: Principal
    ) -> tuple[ClassSession, list[CalledLine]]:
        """A session and each learner called at it, by name, with their mark."""
        query = (
            select(Attendance, TrainingRecord)
            .join(TrainingRecord, col(TrainingRecord.id) == col(Attendance.training_id))
            .where(col(Attendance.session_id) == session_id)
        )
        async with self.uow.read() as session:
            held = await session.get(ClassSession, session_id)
            if held is None or not await visible_center(session, held.center_id, scope):
                raise SessionNotFound(session_id)
            rows = (await session.exec(query)).all()
            names = await names_of(session, [record.learner_id for _, record in rows])
        marks = {record.id: mark for mark, record in rows}
        lines = by_name([RosterLine(record, names.get(record.learner_id)) for _, record in rows])
        return held, [CalledLine(line, marks[line.record.id]) for line in lines]

    async def assign(self, training_id: str, class_name: str, *, scope: Principal) -> RosterLine:
        """Put an open training in a class of its center; raises :class:`TrainingNotFound` or
        :class:`~fursa.training.domain.TrainingClosed`."""
        async with self.uow.begin() as tx:
            record = await tx.session.get(TrainingRecord, training_id, with_for_update=True)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            ensure_open(record)
            record.class_name = class_name
            tx.session.add(record)
            names = await names_of(tx.session, [record.learner_id])
        return RosterLine(record, names.get(record.learner_id))

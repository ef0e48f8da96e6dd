"""Follow-ups falling due: the list a center works through each week, and the reminders.

A completed training is due its follow-ups 6 and 12 months after it ended. The due list of a
week shows, per center, who is due and whether their follow-up is recorded yet. The reminder
worker publishes follow-up-due once per training and milestone (a unique row per pair, in the
same transaction as the event), in the week the milestone falls due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts.training import FollowUpDue
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.training.center_curricula import CenterNotFound, visible_center
from fursa.training.domain import TrainingStatus
from fursa.training.follow_up import (
    MILESTONES,
    REMINDER_CATCH_UP,
    Week,
    completions_due,
    due_on,
)
from fursa.training.models import (
    FollowUpOutcome,
    FollowUpReminder,
    LearnerName,
    TrainingRecord,
)
from fursa.training.rosters import names_of
from fursa.training.service import visible_trainings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueFollowUp:
    """One follow-up due: the training, the milestone, its date, and whether it is done."""

    record: TrainingRecord
    months_after: int
    due_on: date
    recorded: bool
    names: LearnerName | None


def _completed_between(first: date, last: date) -> ColumnElement[bool]:
    return and_(
        col(TrainingRecord.status) == TrainingStatus.COMPLETED,
        col(TrainingRecord.completed_on) >= first,
        col(TrainingRecord.completed_on) <= last,
    )


async def _recorded(
    session: AsyncSession, pairs: Sequence[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Which of these (training, milestone) follow-ups are recorded."""
    if not pairs:
        return set()
    query = select(FollowUpOutcome.training_id, FollowUpOutcome.months_after).where(
        or_(
            *(
                and_(
                    col(FollowUpOutcome.training_id) == training_id,
                    col(FollowUpOutcome.months_after) == months,
                )
                for training_id, months in pairs
            )
        )
    )
    return {(t, m) for t, m in (await session.exec(query)).all()}


class FollowUpReminders:
    """The weekly due list, within the caller's scope, and the reminders' tick."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def due(
        self, week: Week, *, scope: Principal, center_id: str | None = None
    ) -> list[DueFollowUp]:
        """Who is due a follow-up in ``week`` (of one center, or every center the caller
        sees), by due date; raises :class:`CenterNotFound` for a center outside the scope."""
        condition = visible_trainings(scope)
        if center_id is not None:
            condition = condition & (col(TrainingRecord.center_id) == center_id)
        found: list[tuple[TrainingRecord, int]] = []
        async with self.uow.read() as session:
            if center_id is not None and not await visible_center(session, center_id, scope):
                raise CenterNotFound(center_id)
            for months in MILESTONES:
                query = select(TrainingRecord).where(
                    condition, _completed_between(*completions_due(week, months))
                )
                found += [(record, months) for record in (await session.exec(query)).all()]
            recorded = await _recorded(session, [(r.id, m) for r, m in found])
            names = await names_of(session, [r.learner_id for r, _ in found])
        due = [
            DueFollowUp(
                record=record,
                months_after=months,
                due_on=due_on(_completed(record), months),
                recorded=(record.id, months) in recorded,
                names=names.get(record.learner_id),
            )
            for record, months in found
        ]
        return sorted(due, key=lambda d: (d.due_on, d.record.center_id, d.record.id))

    async def remind(self, today: date) -> int:
        """Publish follow-up-due for every milestone due by the end of ``today``'s week (and
        not before :data:`REMINDER_CATCH_UP`) that has neither a reminder nor a follow-up;
        returns how many. Two replicas ticking together publish each reminder once: the
        second one's insert breaks the reminder's key and its transaction rolls back."""
        week = Week.of(today)
        oldest = today - REMINDER_CATCH_UP
        try:
            async with self.uow.begin() as tx:
                candidates: list[tuple[TrainingRecord, int]] = []
                for months in MILESTONES:
                    first = completions_due(Week.of(oldest), months)[0]
                    last = completions_due(week, months)[1]
                    # Locked: the reminder takes the next of the record's event sequence.
                    query = (
                        select(TrainingRecord)
                        .where(_completed_between(first, last))
                        .order_by(col(TrainingRecord.id))
                        .with_for_update()
                    )
                    candidates += [(r, months) for r in (await tx.session.exec(query)).all()]
                pairs = [(record.id, months) for record, months in candidates]
                done = await _recorded(tx.session, pairs) | await self._reminded(tx.session, pairs)
                sent = 0
                for record, months in candidates:
                    due = due_on(_completed(record), months)
                    if (record.id, months) in done or due < oldest:
                        continue
                    record.version += 1
                    tx.session.add(record)
                    tx.session.add(
                        FollowUpReminder(
                            training_id=record.id,
                            months_after=months,
                            due_on=due,
                            reminded_at=utcnow(),
                        )
                    )
                    await tx.emit(
                        FollowUpDue(
                            training_id=record.id,
                            enrollment_id=record.enrollment_id,
                            learner_id=record.learner_id,
                            center_id=record.center_id,
                            pathway=record.pathway,
                            months_after=months,
                            completed_on=_completed(record),
                            due_on=due,
                        ),
                        subject=record.id,
                        sequence=record.version,
                    )
                    sent += 1
        except IntegrityError:
            log.info("follow-up reminders: another replica sent them first")
            return 0
        if sent:
            log.info("%d follow-up reminders published", sent)
        return sent

    @staticmethod
    async def _reminded(
        session: AsyncSession, pairs: Sequence[tuple[str, int]]
    ) -> set[tuple[str, int]]:
        ids = {training_id for training_id, _ in pairs}
        query = select(FollowUpReminder.training_id, FollowUpReminder.months_after).where(
            col(FollowUpReminder.training_id).in_(ids)
        )
        return {(t, m) for t, m in (await session.exec(query)).all()}


def _completed(record: TrainingRecord) -> date:
    assert record.completed_on is not None  # selected as completed
    return record.completed_on


class ReminderWorker:
    """Ticks the reminders every ``period_s`` (the calendar moves, not the service's commits:
    waking after a commit is not needed)."""

    name = "training-follow-up-reminders"

    def __init__(
        self,
        reminders: FollowUpReminders,
        *,
        period_s: float = 3600.0,
        today: Callable[[], date] = local_today,
    ) -> None:
        self.reminders = reminders
        self.period_s = period_s
        self.today = today
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """Commits bring no reminder forward: the next tick comes on time."""

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.reminders.remind(self.today())
            except Exception:
                log.exception("follow-up reminders: the tick failed; the next one retries")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.period_s)

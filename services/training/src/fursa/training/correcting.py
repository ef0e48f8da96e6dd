"""Correcting an attendance mark, an assessment or a follow-up: each a unit of work that keeps
the entry's history (:class:`~fursa.training.models.Correction`) beside the change.

A corrected mark recomputes the learner's early warning (a new episode publishes
learner-at-risk as a call would); a corrected follow-up publishes learner-outcome-recorded
again with the same outcome id, so that partners and indicators hold the corrected situation.
Entries of a training that has ended are not corrected (its completion figures stand).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.training import audit, domain
from fursa.training.center_curricula import plans_for, visible_center
from fursa.training.corrections import CorrectionKind, CorrectionReason, Mark, changed
from fursa.training.follow_up import FollowUp
from fursa.training.models import (
    Assessment,
    Attendance,
    ClassSession,
    Correction,
    FollowUpOutcome,
    TrainingRecord,
)
from fursa.training.rosters import SessionNotFound
from fursa.training.service import (
    EntriesRefused,
    TrainingNotCompleted,
    TrainingNotFound,
    TrainingService,
    outcome_recorded,
    sees_training,
)


class EntryNotFound(LookupError):  # noqa: N818 - reads as what happened
    """An assessment or follow-up training does not know (or outside the caller's scope)."""


def _keep_history(
    session: AsyncSession,
    record: TrainingRecord,
    kind: CorrectionKind,
    entry_id: str,
    previous: dict[str, Any] | None,
    current: dict[str, Any],
    reason: CorrectionReason,
    scope: Principal,
) -> None:
    """The entry's history (its previous and current values), and the audit trail's entry
    (who corrected what, and why: the values stay in the history)."""
    session.add(
        Correction(
            id=str(uuid.uuid4()),
            training_id=record.id,
            kind=kind,
            entry_id=entry_id,
            previous=previous,
            current=current,
            reason=reason,
            corrected_by=scope.subject,
            corrected_at=utcnow(),
        )
    )
    audit.record(
        session, scope, f"{kind}.corrected", record, entity=kind, entity_id=entry_id, reason=reason
    )


async def _visible_record(
    session: AsyncSession, training_id: str, scope: Principal
) -> TrainingRecord:
    record = await session.get(TrainingRecord, training_id, with_for_update=True)
    if record is None or not sees_training(scope, record):
        raise TrainingNotFound(training_id)
    return record


def _outcome_fields(outcome: FollowUpOutcome | FollowUp) -> dict[str, Any]:
    return {
        "status": str(outcome.status),
        "school": outcome.school,
        "level": outcome.level,
        "institution": outcome.institution,
    }


class Corrections:
    """Corrects what the classes recorded, within the caller's scope, keeping the history."""

    def __init__(self, trainings: TrainingService) -> None:
        self.trainings = trainings
        self.uow = trainings.uow

    async def correct_attendance(
        self,
        session_id: str,
        training_id: str,
        mark: Mark,
        reason: CorrectionReason,
        *,
        scope: Principal,
    ) -> tuple[Attendance, list[str]]:
        """Set a learner's mark at a session (adding a learner the call forgot, if their
        training may be in that session); returns the mark and the trainings whose at-risk
        episode it began. Raises :class:`SessionNotFound`, :class:`TrainingNotFound`,
        :class:`~fursa.training.domain.TrainingClosed` or :class:`EntriesRefused`."""
        refused = mark.errors()
        if refused:
            raise EntriesRefused(refused)
        async with self.uow.begin() as tx:
            held = await tx.session.get(ClassSession, session_id)
            if held is None or not await visible_center(tx.session, held.center_id, scope):
                raise SessionNotFound(session_id)
            record = await _visible_record(tx.session, training_id, scope)
            domain.ensure_open(record)
            attendance = await tx.session.get(Attendance, (session_id, training_id))
            previous = None
            if attendance is None:
                await self._may_join(tx.session, held, record)
                attendance = Attendance(
                    session_id=session_id, training_id=training_id, present=False
                )
            else:
                previous = Mark(attendance.present, attendance.excused).as_dict()
            if not changed(previous, mark.as_dict()):
                return attendance, []
            attendance.present, attendance.excused = mark.present, mark.excused
            attendance.recorded_by = scope.subject
            tx.session.add(attendance)
            _keep_history(
                tx.session,
                record,
                CorrectionKind.ATTENDANCE,
                session_id,
                previous,
                mark.as_dict(),
                reason,
                scope,
            )
            await tx.session.flush()
            alerts = await self.trainings.warn(tx, [record])
        return attendance, alerts

    async def _may_join(
        self, session: AsyncSession, held: ClassSession, record: TrainingRecord
    ) -> None:
        """A learner added to a session after the call must be of its center and pathway."""
        if record.center_id != held.center_id:
            raise EntriesRefused([("training_id", "other_center")])
        plan = (await plans_for(session, self.trainings.rules.curriculum, [record]))[record.id]
        if plan.kind_of(held.module) is None:
            raise EntriesRefused([("training_id", "module_not_in_pathway")])

    async def correct_assessment(
        self, assessment_id: str, score: float, reason: CorrectionReason, *, scope: Principal
    ) -> Assessment:
        """Correct a score (and so whether it passes). Raises :class:`EntryNotFound` or
        :class:`~fursa.training.domain.TrainingClosed`."""
        pass_mark = self.trainings.rules.completion.pass_mark
        async with self.uow.begin() as tx:
            assessment = await tx.session.get(Assessment, assessment_id, with_for_update=True)
            if assessment is None:
                raise EntryNotFound(assessment_id)
            record = await tx.session.get(TrainingRecord, assessment.training_id)
            if record is None or not sees_training(scope, record):
                raise EntryNotFound(assessment_id)
            domain.ensure_open(record)
            previous = {"score": assessment.score, "passed": assessment.passed}
            current = {"score": score, "passed": score >= pass_mark}
            if not changed(previous, current):
                return assessment
            assessment.score, assessment.passed = score, score >= pass_mark
            assessment.recorded_by = scope.subject
            tx.session.add(assessment)
            _keep_history(
                tx.session,
                record,
                CorrectionKind.ASSESSMENT,
                assessment.id,
                previous,
                current,
                reason,
                scope,
            )
        return assessment

    async def correct_outcome(
        self, training_id: str, follow_up: FollowUp, reason: CorrectionReason, *, scope: Principal
    ) -> FollowUpOutcome:
        """Correct the follow-up of ``follow_up.months_after`` and publish it again. Raises
        :class:`TrainingNotFound`, :class:`TrainingNotCompleted` or :class:`EntryNotFound`."""
        async with self.uow.begin() as tx:
            record = await _visible_record(tx.session, training_id, scope)
            if record.status != domain.TrainingStatus.COMPLETED:
                raise TrainingNotCompleted(training_id)
            query = select(FollowUpOutcome).where(
                col(FollowUpOutcome.training_id) == training_id,
                col(FollowUpOutcome.months_after) == follow_up.months_after,
            )
            outcome = (await tx.session.exec(query.with_for_update())).first()
            if outcome is None:
                raise EntryNotFound(f"{training_id}/{follow_up.months_after}")
            previous, current = _outcome_fields(outcome), _outcome_fields(follow_up)
            if not changed(previous, current):
                return outcome
            outcome.status = follow_up.status
            outcome.school, outcome.level = follow_up.school, follow_up.level
            outcome.institution = follow_up.institution
            outcome.recorded_by = scope.subject
            tx.session.add(outcome)
            record.version += 1
            tx.session.add(record)
            _keep_history(
                tx.session,
                record,
                CorrectionKind.FOLLOW_UP,
                outcome.id,
                previous,
                current,
                reason,
                scope,
            )
            await tx.emit(
                outcome_recorded(record, outcome), subject=record.id, sequence=record.version
            )
        return outcome

    async def history(self, training_id: str, *, scope: Principal) -> Sequence[Correction]:
        """Every correction of a training's entries, oldest first."""
        query = (
            select(Correction)
            .where(col(Correction.training_id) == training_id)
            .order_by(col(Correction.corrected_at), col(Correction.id))
        )
        async with self.uow.read() as session:
            record = await session.get(TrainingRecord, training_id)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            return (await session.exec(query)).all()

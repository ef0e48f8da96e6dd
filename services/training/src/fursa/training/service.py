"""The training service layer: each public operation is one unit of work.

State changes and the events they cause commit together (the transactional outbox): an
operation opens its transaction with ``uow.begin()`` and emits through it. Operations that
react to another service's event run inside the consumer's transaction instead, which the
kernel opens, so that the effect and the inbox record commit together.

Every event of a training record (training-completed, learner-at-risk,
learner-outcome-recorded) has the record's id as its subject and the record's version as its
sequence, so consumers order them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, case, delete, func, inspect, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts import (
    LearnerAtRisk,
    LearnerEnrolled,
    LearnerErased,
    LearnerOutcomeRecorded,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWithdrawn,
    OutcomeStatus,
    TrainingCompleted,
    TrainingResult,
)
from fursa.shared.messaging.outbox import Transaction, UnitOfWork
from fursa.training import audit, classes, domain, enrollment_copies
from fursa.training.center_curricula import plans_for
from fursa.training.classes import ClassLearner, ScoreRecorded
from fursa.training.corrections import CorrectionKind, Mark
from fursa.training.curriculum import (
    CompletionRule,
    Curriculum,
    Progress,
    UnmetCondition,
    followed_workshops,
    unmet_conditions,
)
from fursa.training.domain import Completion, Summary, TrainingStatus
from fursa.training.early_warning import EarlyWarning, Signal
from fursa.training.follow_up import FollowUp
from fursa.training.indicators import Dimension, Indicators, LearnerFigures, indicators
from fursa.training.models import (
    Assessment,
    Attendance,
    ClassSession,
    Correction,
    ErasedLearner,
    FollowUpOutcome,
    LearnerName,
    TrainingRecord,
    TrainingTransfer,
    table_of,
)

log = logging.getLogger(__name__)


class TrainingNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, training_id: str) -> None:
        super().__init__(f"there is no training {training_id}")


class EntriesRefused(ValueError):  # noqa: N818 - reads as what happened
    """A class's entries that the rules refuse: ``(field, rule)`` for each, nothing recorded."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__(f"{len(errors)} entries refused")
        self.errors = list(errors)


class AlreadyRecorded(Exception):  # noqa: N818 - reads as what happened
    """The same session, assessment or follow-up was recorded before."""


class CompletionRefused(Exception):  # noqa: N818 - reads as what happened
    """The training does not meet the completion rule yet; ``unmet`` lists why."""

    def __init__(self, unmet: Sequence[UnmetCondition]) -> None:
        super().__init__(", ".join(u.condition for u in unmet))
        self.unmet = list(unmet)


class TrainingNotCompleted(Exception):  # noqa: N818 - reads as what happened
    """A follow-up comes after the training ended with a completion."""


@dataclass(frozen=True)
class TrainingRules:
    """The programme's rules as configured: the default curriculum (a center may set its
    own), completion and early warning."""

    curriculum: Curriculum
    completion: CompletionRule = field(default_factory=CompletionRule)
    early_warning: EarlyWarning = field(default_factory=EarlyWarning)


@dataclass(frozen=True)
class ClassSessionRecord:
    """A session given to a class, and each learner's mark: one educator's call."""

    module: str
    held_on: date
    hours: float
    class_name: str
    attendance: Sequence[tuple[str, Mark]]


@dataclass(frozen=True)
class ClassAssessment:
    """A module's assessment of a class: each learner's score out of 20."""

    module: str
    assessed_on: date
    scores: Sequence[tuple[str, float]]


def visible_trainings(scope: Principal) -> ColumnElement[bool]:
    """The training records ``scope`` may see: by association, center, region or province."""
    records = inspect(TrainingRecord).c
    return scope.visible(
        association=records.association_id,
        center=records.center_id,
        region=records.region_code,
        province=records.province_code,
    )


def sees_training(scope: Principal, record: audit.Placed) -> bool:
    return scope.sees(
        association_id=record.association_id,
        center_id=record.center_id,
        region_code=record.region_code,
        province_code=record.province_code,
    )


_attendance, _sessions = table_of(Attendance), table_of(ClassSession)
_assessments = table_of(Assessment)
# Each training's hours held and attended per module.
_HOURS = (
    sa.select(
        _attendance.c.training_id,
        _sessions.c.module,
        func.sum(_sessions.c.hours),
        func.sum(case((_attendance.c.present, _sessions.c.hours), else_=0.0)),
    )
    .join(_sessions, _sessions.c.id == _attendance.c.session_id)
    .where(_attendance.c.training_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(_attendance.c.training_id, _sessions.c.module)
)
# Each training's results, oldest first: the latest assessment of a module counts.
_RESULTS = (
    sa.select(_assessments.c.training_id, _assessments.c.module, _assessments.c.passed)
    .where(_assessments.c.training_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_assessments.c.assessed_on, _assessments.c.recorded_at)
)


async def progress_of(session: AsyncSession, training_ids: Sequence[str]) -> dict[str, Progress]:
    """Each training's hours held and attended per module, and its latest result per module."""
    held: dict[str, dict[str, float]] = defaultdict(dict)
    attended: dict[str, dict[str, float]] = defaultdict(dict)
    passed: dict[str, dict[str, bool]] = defaultdict(dict)
    ids = {"ids": list(training_ids)}
    for training_id, module, module_held, module_attended in await session.execute(_HOURS, ids):
        held[training_id][module] = float(module_held)
        attended[training_id][module] = float(module_attended)
    for training_id, module, module_passed in await session.execute(_RESULTS, ids):
        passed[training_id][module] = module_passed  # the latest assessment counts
    return {
        training_id: Progress(held[training_id], attended[training_id], passed[training_id])
        for training_id in training_ids
    }


def outcome_recorded(record: TrainingRecord, outcome: FollowUpOutcome) -> LearnerOutcomeRecorded:
    """The event of a follow-up as it stands (a corrected one is published again, same id)."""
    return LearnerOutcomeRecorded(
        outcome_id=outcome.id,
        training_id=record.id,
        enrollment_id=record.enrollment_id,
        learner_id=record.learner_id,
        center_id=record.center_id,
        pathway=record.pathway,
        months_after=outcome.months_after,
        status=outcome.status,
        school=outcome.school,
        level=outcome.level,
        institution=outcome.institution,
        recorded_on=outcome.recorded_on,
    )


class TrainingService:
    """Records what happens in the classes, completes trainings and reports on them.

    Every operation a caller asks for takes the caller's ``scope``: a record outside it is
    treated exactly as one that does not exist.
    """

    def __init__(self, uow: UnitOfWork, rules: TrainingRules) -> None:
        self.uow = uow
        self.rules = rules

    async def get(self, training_id: str, *, scope: Principal) -> TrainingRecord:
        """One training record; raises :class:`TrainingNotFound`, also when outside ``scope``."""
        async with self.uow.read() as session:
            record = await session.get(TrainingRecord, training_id)
        if record is None or not sees_training(scope, record):
            raise TrainingNotFound(training_id)
        return record

    async def find(
        self,
        *,
        scope: Principal,
        enrollment_id: str | None = None,
        status: TrainingStatus | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Sequence[TrainingRecord]:
        """Training records within ``scope``, oldest first, filtered by enrollment (one has
        zero or one) and status; with ``after``, only those that come after that training in
        this order (keyset paging: a page costs the same however far the listing has gone).
        Raises :class:`TrainingNotFound` for an ``after`` outside ``scope``."""
        order = (col(TrainingRecord.opened_at), col(TrainingRecord.id))
        query = select(TrainingRecord).where(visible_trainings(scope))
        if enrollment_id is not None:
            query = query.where(col(TrainingRecord.enrollment_id) == enrollment_id)
        if status is not None:
            query = query.where(col(TrainingRecord.status) == status)
        async with self.uow.read() as session:
            if after is not None:
                last = await session.get(TrainingRecord, after)
                if last is None or not sees_training(scope, last):
                    raise TrainingNotFound(after)
                opened_at, training_id = order
                query = query.where(
                    or_(
                        opened_at > last.opened_at,
                        and_(opened_at == last.opened_at, training_id > last.id),
                    )
                )
            return (await session.exec(query.order_by(*order).limit(limit))).all()

    async def summary(self, *, scope: Principal) -> Summary:
        """How many trainings within ``scope`` are open, completed and withdrawn."""
        query = (
            select(TrainingRecord.status, func.count())
            .where(visible_trainings(scope))
            .group_by(col(TrainingRecord.status))
        )
        async with self.uow.read() as session:
            rows = await session.exec(query)
            counts = {TrainingStatus(status): count for status, count in rows.all()}
        return Summary.of(counts)

    async def progress(
        self, training_id: str, *, scope: Principal
    ) -> tuple[Progress, list[UnmetCondition]]:
        """Where a training stands, and the completion conditions it does not meet yet."""
        async with self.uow.read() as session:
            record = await session.get(TrainingRecord, training_id)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            progress = (await progress_of(session, [training_id]))[training_id]
            plan = (await plans_for(session, self.rules.curriculum, [record]))[record.id]
        unmet = unmet_conditions(plan, progress, self.rules.completion)
        return progress, unmet

    async def assessments(self, training_id: str, *, scope: Principal) -> Sequence[Assessment]:
        """A training's assessments, oldest first; raises :class:`TrainingNotFound`."""
        query = (
            select(Assessment)
            .where(col(Assessment.training_id) == training_id)
            .order_by(col(Assessment.assessed_on), col(Assessment.recorded_at))
        )
        async with self.uow.read() as session:
            record = await session.get(TrainingRecord, training_id)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            return (await session.exec(query)).all()

    async def class_records(
        self,
        session: AsyncSession,
        training_ids: Sequence[str],
        module: str,
        scope: Principal,
        *,
        entries: str,
    ) -> list[ClassLearner]:
        """The class's open records, locked, in the order given; refuses every entry that is
        unknown (or outside ``scope``), closed, or whose pathway does not teach ``module``."""
        found = await classes.learners(session, training_ids)
        plans = await plans_for(session, self.rules.curriculum, list(found.values()))
        errors: list[tuple[str, str]] = []
        seen: set[str] = set()
        records = []
        for n, training_id in enumerate(training_ids):
            name = f"{entries}.{n}.training_id"
            record = found.get(training_id)
            if training_id in seen:
                errors.append((name, "duplicate"))
            elif record is None or not sees_training(scope, record):
                errors.append((name, "not_found"))
            elif record.status != TrainingStatus.OPEN:
                errors.append((name, "training_closed"))
            elif plans[record.id].kind_of(module) is None:
                errors.append((name, "module_not_in_pathway"))
            else:
                records.append(record)
            seen.add(training_id)
        if errors:
            raise EntriesRefused(errors)
        return records

    async def record_session(
        self, command: ClassSessionRecord, *, scope: Principal
    ) -> tuple[ClassSession, list[str]]:
        """Record a session and its class's attendance in one go, then raise the early warnings
        it causes. Returns the session and the trainings now at risk (one alert per episode).

        Refuses, with every entry at fault, learners outside ``scope`` (as unknown), of
        another center, closed, or whose pathway does not teach the module, and excused
        presences; a session of the same class, module and day recorded before raises
        :class:`AlreadyRecorded`. Learners not yet in a class join the session's.
        """
        refused = [
            (f"attendance.{n}.{name}", rule)
            for n, (_, mark) in enumerate(command.attendance)
            for name, rule in mark.errors()
        ]
        if command.held_on > local_today():
            refused.append(("held_on", "future_date"))
        if refused:
            raise EntriesRefused(refused)
        ids = [training_id for training_id, _ in command.attendance]
        alerts: list[str] = []
        try:
            async with self.uow.begin() as tx:
                records = await self.class_records(
                    tx.session, ids, command.module, scope, entries="attendance"
                )
                self._same_center(records)
                session_row = ClassSession(
                    id=str(uuid.uuid4()),
                    center_id=records[0].center_id,
                    class_name=command.class_name,
                    module=command.module,
                    held_on=command.held_on,
                    hours=command.hours,
                    recorded_at=utcnow(),
                    recorded_by=scope.subject,
                )
                # A session of this class, module and day recorded before breaks the unique
                # key here: the IntegrityError below.
                await classes.hold_session(
                    tx.session,
                    session_row,
                    [
                        {
                            "session_id": session_row.id,
                            "training_id": t,
                            "present": mark.present,
                            "excused": mark.excused,
                            "recorded_by": scope.subject,
                        }
                        for t, mark in command.attendance
                    ],
                )
                await classes.join_class(tx.session, records, command.class_name)
                await audit.write(
                    tx.session,
                    [
                        audit.entry(
                            scope,
                            "attendance.recorded",
                            entity="class_session",
                            entity_id=session_row.id,
                            place=records[0],
                            details={
                                "module": command.module,
                                "held_on": command.held_on,
                                "learners": len(ids),
                            },
                        )
                    ],
                )
                at_risk_before = [record.at_risk for record in records]
                alerts = await self.warn(tx, records)
                await classes.write_episodes(
                    tx.session,
                    [r for r, was in zip(records, at_risk_before, strict=True) if r.at_risk != was],
                )
        except IntegrityError:
            raise AlreadyRecorded("this class's session is already recorded") from None
        log.info("session %s recorded for %d learners", session_row.id, len(ids))
        return session_row, alerts

    @staticmethod
    def _same_center(records: Sequence[ClassLearner]) -> None:
        center = records[0].center_id
        wrong = [
            (f"attendance.{n}.training_id", "other_center")
            for n, record in enumerate(records)
            if record.center_id != center
        ]
        if wrong:
            raise EntriesRefused(wrong)

    async def warn(
        self, tx: Transaction, records: Sequence[TrainingRecord] | Sequence[ClassLearner]
    ) -> list[str]:
        """Start or end each learner's at-risk episode from their latest sessions (an excused
        absence is not one of them); publish learner-at-risk when one starts.

        A training record the session holds is written with it; a class's rows change here
        and their caller writes them (:func:`classes.write_episodes`)."""
        rule = self.rules.early_warning
        ids = [record.id for record in records]
        recent = await classes.recent_presence(tx.session, ids, rule.window_sessions)
        alerts = []
        today = local_today()
        for record in records:
            signal = rule.signal(recent[record.id], at_risk=record.at_risk)
            if signal is Signal.EPISODE_ENDS:
                record.at_risk = False
            elif signal is Signal.EPISODE_STARTS:
                record.at_risk = True
                record.version += 1
                alerts.append(record.id)
                await tx.emit(
                    LearnerAtRisk(
                        training_id=record.id,
                        enrollment_id=record.enrollment_id,
                        learner_id=record.learner_id,
                        center_id=record.center_id,
                        pathway=record.pathway,
                        window_sessions=rule.window_sessions,
                        attendance_rate=rule.window_rate(recent[record.id]) or 0.0,
                        threshold=rule.threshold,
                        detected_on=today,
                    ),
                    subject=record.id,
                    sequence=record.version,
                )
        return alerts

    async def record_assessments(
        self, command: ClassAssessment, *, scope: Principal
    ) -> list[ScoreRecorded]:
        """Record a module's assessment of a class; each passes at the configured pass mark.

        Refuses entries as :meth:`record_session` does; a learner assessed in the same module
        on the same day before raises :class:`AlreadyRecorded`.
        """
        if command.assessed_on > local_today():
            raise EntriesRefused([("assessed_on", "future_date")])
        ids = [training_id for training_id, _ in command.scores]
        pass_mark = self.rules.completion.pass_mark
        try:
            async with self.uow.begin() as tx:
                records = await self.class_records(
                    tx.session, ids, command.module, scope, entries="scores"
                )
                assessments = [
                    ScoreRecorded(
                        id=str(uuid.uuid4()),
                        training_id=training_id,
                        module=command.module,
                        score=score,
                        passed=score >= pass_mark,
                        assessed_on=command.assessed_on,
                    )
                    for training_id, score in command.scores
                ]
                # A learner assessed in this module that day before breaks the unique key:
                # the IntegrityError below.
                await classes.record_scores(tx.session, assessments, at=utcnow(), by=scope.subject)
                trainings = {record.id: record for record in records}
                await audit.write(
                    tx.session,
                    [
                        audit.training_entry(
                            scope,
                            "assessment.recorded",
                            trainings[assessment.training_id],
                            entity="assessment",
                            entity_id=assessment.id,
                            module=command.module,
                        )
                        for assessment in assessments
                    ],
                )
        except IntegrityError:
            raise AlreadyRecorded("an assessment of this day is already recorded") from None
        return assessments

    async def complete(
        self, training_id: str, result: TrainingResult, *, scope: Principal
    ) -> TrainingRecord:
        """End a training today with ``result`` and publish ``training-completed``.

        A pass needs the completion rule met, else :class:`CompletionRefused` lists every
        unmet condition; a fail (e.g. at the end of the school year) records the figures as
        they stand. The record is locked while it changes, so two simultaneous completions
        give one result and one event. Raises :class:`TrainingNotFound` (also outside
        ``scope``, before any rule is checked),
        :class:`~fursa.training.domain.TrainingAlreadyCompleted` or
        :class:`~fursa.training.domain.TrainingClosed`.
        """
        async with self.uow.begin() as tx:
            record = await tx.session.get(TrainingRecord, training_id, with_for_update=True)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            if record.status == TrainingStatus.COMPLETED:
                raise domain.TrainingAlreadyCompleted("this training is already completed")
            domain.ensure_open(record)
            plan = (await plans_for(tx.session, self.rules.curriculum, [record]))[record.id]
            progress = (await progress_of(tx.session, [training_id]))[training_id]
            if result == TrainingResult.PASSED:
                unmet = unmet_conditions(plan, progress, self.rules.completion)
                if unmet:
                    raise CompletionRefused(unmet)
            completion = Completion(
                hours_attended=round(progress.total_attended, 2),
                attendance_rate=round(progress.attendance_rate, 4),
                result=result,
                workshops=followed_workshops(plan, progress),
            )
            today = local_today()
            domain.complete(record, completion, on=today)
            tx.session.add(record)
            await audit.write(
                tx.session,
                [
                    audit.training_entry(
                        scope,
                        "training.completed",
                        record,
                        entity="training",
                        entity_id=record.id,
                        result=completion.result,
                    )
                ],
            )
            await tx.emit(
                TrainingCompleted(
                    training_id=record.id,
                    enrollment_id=record.enrollment_id,
                    learner_id=record.learner_id,
                    center_id=record.center_id,
                    pathway=record.pathway,
                    workshops=list(completion.workshops),
                    hours_attended=completion.hours_attended,
                    attendance_rate=completion.attendance_rate,
                    result=completion.result,
                    completed_on=today,
                ),
                subject=record.id,
                sequence=record.version,
            )
        log.info("training %s completed", training_id)
        return record

    async def record_outcome(
        self, training_id: str, follow_up: FollowUp, *, scope: Principal
    ) -> FollowUpOutcome:
        """Record where a learner is ``months_after`` their training and publish
        ``learner-outcome-recorded``. Raises :class:`TrainingNotFound`,
        :class:`TrainingNotCompleted`, or :class:`AlreadyRecorded` for a second follow-up at
        the same month."""
        try:
            async with self.uow.begin() as tx:
                record = await tx.session.get(TrainingRecord, training_id, with_for_update=True)
                if record is None or not sees_training(scope, record):
                    raise TrainingNotFound(training_id)
                if record.status != TrainingStatus.COMPLETED:
                    raise TrainingNotCompleted(training_id)
                taken = select(FollowUpOutcome.id).where(
                    col(FollowUpOutcome.training_id) == training_id,
                    col(FollowUpOutcome.months_after) == follow_up.months_after,
                )
                if (await tx.session.exec(taken)).first() is not None:
                    raise AlreadyRecorded("this follow-up is already recorded")
                outcome = FollowUpOutcome(
                    id=str(uuid.uuid4()),
                    training_id=training_id,
                    months_after=follow_up.months_after,
                    status=follow_up.status,
                    school=follow_up.school,
                    level=follow_up.level,
                    institution=follow_up.institution,
                    recorded_on=local_today(),
                    recorded_by=scope.subject,
                )
                tx.session.add(outcome)
                record.version += 1
                tx.session.add(record)
                audit.record(
                    tx.session,
                    scope,
                    "follow_up.recorded",
                    record,
                    entity="follow_up",
                    entity_id=outcome.id,
                    months_after=outcome.months_after,
                )
                await tx.emit(
                    outcome_recorded(record, outcome), subject=record.id, sequence=record.version
                )
        except IntegrityError:
            raise AlreadyRecorded("this follow-up is already recorded") from None
        return outcome

    async def indicators(
        self,
        *,
        scope: Principal,
        by: Sequence[Dimension],
        school_year: str | None = None,
        center_id: str | None = None,
    ) -> list[Indicators]:
        """The programme's indicators over the trainings within ``scope``, grouped ``by``."""
        condition = visible_trainings(scope)
        if school_year is not None:
            condition = condition & (col(TrainingRecord.school_year) == school_year)
        if center_id is not None:
            condition = condition & (col(TrainingRecord.center_id) == center_id)
        hours = (
            select(
                Attendance.training_id,
                func.sum(ClassSession.hours),
                func.sum(case((col(Attendance.present), ClassSession.hours), else_=0.0)),
            )
            .join(ClassSession, col(ClassSession.id) == col(Attendance.session_id))
            .join(TrainingRecord, col(TrainingRecord.id) == col(Attendance.training_id))
            .where(condition)
            .group_by(col(Attendance.training_id))
        )
        outcomes = (
            select(FollowUpOutcome.training_id, FollowUpOutcome.status)
            .join(TrainingRecord, col(TrainingRecord.id) == col(FollowUpOutcome.training_id))
            .where(condition)
            .order_by(col(FollowUpOutcome.months_after))
        )
        async with self.uow.read() as session:
            records = (await session.exec(select(TrainingRecord).where(condition))).all()
            hours_of = {t: (h, a) for t, h, a in (await session.exec(hours)).all()}
            latest: dict[str, OutcomeStatus] = {}
            for training_id, status in (await session.exec(outcomes)).all():
                latest[training_id] = OutcomeStatus(status)  # the latest follow-up counts
        figures = [
            LearnerFigures(
                center_id=record.center_id,
                pathway=record.pathway,
                sex=record.sex,
                school_year=record.school_year,
                status=record.status,
                result=record.result,
                hours_held=float(hours_of.get(record.id, (0.0, 0.0))[0]),
                hours_attended=float(hours_of.get(record.id, (0.0, 0.0))[1]),
                at_risk=record.at_risk,
                latest_outcome=latest.get(record.id),
            )
            for record in records
        ]
        return indicators(figures, by)


# --- reactions to the enrollment service's events (inside the consumer's transaction) -------


async def _training_of(tx: Transaction, enrollment_id: str) -> TrainingRecord | None:
    """The enrollment's training, locked; None for an enrollment training never opened (a
    learner who left the waiting list, or one erased before being enrolled)."""
    query = (
        select(TrainingRecord)
        .where(col(TrainingRecord.enrollment_id) == enrollment_id)
        .with_for_update()
    )
    return (await tx.session.exec(query)).first()


async def open_training(tx: Transaction, enrolled: LearnerEnrolled) -> None:
    """Open the training of a new enrollment, unless it is already open or its learner was
    erased (a late redelivery must not bring them back). Keeps of the personal data only the
    learner's sex, for the indicators, and their names, for class rosters.

    The inbox already drops a redelivered event; the check here (and the unique key behind
    it) also covers a second, distinct learner-enrolled for the same enrollment.
    """
    if await enrollment_copies.erased(tx.session, enrolled.learner_id):
        log.info("enrollment %s belongs to an erased learner: not opened", enrolled.enrollment_id)
        return
    await enrollment_copies.place_center(
        tx.session,
        center_id=enrolled.center_id,
        association_id=enrolled.association_id,
        region_code=enrolled.region_code,
        province_code=enrolled.province_code,
    )
    await enrollment_copies.keep_names(tx.session, enrolled.learner_id, enrolled.pii)
    training_id = await enrollment_copies.open_training(tx.session, enrolled)
    if training_id is None:
        log.info("training of enrollment %s is already open", enrolled.enrollment_id)
    else:
        log.info("training %s opened for enrollment %s", training_id, enrolled.enrollment_id)


async def transfer_training(tx: Transaction, transferred: LearnerTransferred) -> None:
    """Move a training to the learner's new center; the move is kept in its history."""
    record = await _training_of(tx, transferred.enrollment_id)
    if record is None:
        log.info("transfer of enrollment %s: no training to move", transferred.enrollment_id)
        return
    await enrollment_copies.place_center(
        tx.session,
        center_id=transferred.to_center_id,
        association_id=transferred.association_id,
        region_code=transferred.region_code,
        province_code=transferred.province_code,
    )
    tx.session.add(
        TrainingTransfer(
            training_id=record.id,
            from_center_id=record.center_id,
            to_center_id=transferred.to_center_id,
            transferred_on=transferred.transferred_on,
        )
    )
    record.association_id = transferred.association_id
    record.center_id = transferred.to_center_id
    record.region_code = transferred.region_code
    record.province_code = transferred.province_code
    record.pathway = transferred.pathway
    record.class_name = None  # a class of the new center is yet to be given
    tx.session.add(record)
    log.info("training %s transferred", record.id)


async def withdraw_training(tx: Transaction, withdrawn: LearnerWithdrawn) -> None:
    """Close the training of a learner who left; a completed one keeps its result."""
    record = await _training_of(tx, withdrawn.enrollment_id)
    if record is None:
        log.info("withdrawal of enrollment %s: no training to close", withdrawn.enrollment_id)
        return
    if domain.withdraw(record, on=withdrawn.withdrawn_on):
        tx.session.add(record)
        log.info("training %s closed: learner withdrawn", record.id)


async def learner_updated(tx: Transaction, updated: LearnerUpdated) -> None:
    """A learner's record was corrected: rosters show their names as they now stand, the
    indicators their sex. Nothing is kept of a learner training never opened or has erased."""
    session = tx.session
    if await enrollment_copies.erased(session, updated.learner_id):
        return
    query = select(TrainingRecord).where(col(TrainingRecord.learner_id) == updated.learner_id)
    records = (await session.exec(query)).all()
    if not records:
        log.info("learner updated before any training of theirs opened: nothing to correct")
        return
    for record in records:
        record.sex = str(updated.pii.sex)
        session.add(record)
    await enrollment_copies.keep_names(session, updated.learner_id, updated.pii)


# What a follow-up names of a place (a school, an institution): forgotten at erasure, in the
# follow-up and in the history of its corrections.
FOLLOW_UP_PLACES = {"school": None, "level": None, "institution": None}


async def erase_learner(tx: Transaction, erased: LearnerErased) -> None:
    """Forget what training holds of the learner's person and leave a tombstone.

    The records stay, anonymous, for the programme's statistics: their sex and names are
    forgotten, the follow-ups (and their corrections) lose the school and institution they
    name, and the sent events and dead letters about the learner are deleted.
    """
    session = tx.session
    if not await enrollment_copies.erased(session, erased.learner_id):
        session.add(ErasedLearner(learner_id=erased.learner_id, erased_at=erased.erased_at))
    trainings = select(TrainingRecord.id).where(col(TrainingRecord.learner_id) == erased.learner_id)
    training = (
        await session.exec(
            select(TrainingRecord).where(col(TrainingRecord.learner_id) == erased.learner_id)
        )
    ).first()
    audit.AUDIT.record(
        session,
        None,
        "learner.erased",
        entity="learner",
        entity_id=erased.learner_id,
        learner_id=erased.learner_id,
        place=audit.place_of(training) if training else None,
    )
    await session.execute(
        update(TrainingRecord)
        .where(col(TrainingRecord.learner_id) == erased.learner_id)
        .values(sex=None)
    )
    await session.execute(
        delete(LearnerName).where(col(LearnerName.learner_id) == erased.learner_id)
    )
    await session.execute(
        update(FollowUpOutcome)
        .where(col(FollowUpOutcome.training_id).in_(trainings.scalar_subquery()))
        .values(**FOLLOW_UP_PLACES)
    )
    corrections = select(Correction).where(
        col(Correction.training_id).in_(trainings.scalar_subquery()),
        col(Correction.kind) == CorrectionKind.FOLLOW_UP,
    )
    for correction in (await session.exec(corrections)).all():
        if correction.previous is not None:
            correction.previous = correction.previous | FOLLOW_UP_PLACES
        correction.current = correction.current | FOLLOW_UP_PLACES
        session.add(correction)
    # Sent outbox rows (a follow-up names a school) and dead letters (a learner-enrolled with
    # its pii) that carry the learner go; unsent rows stay, to be published.
    outbox, dead_letter = tx.tables.outbox, tx.tables.dead_letter
    sent = (
        await session.execute(
            select(outbox.c.position, outbox.c.payload).where(outbox.c.sent_at.is_not(None))
        )
    ).all()
    for position, payload in sent:
        if _names_learner(payload, erased.learner_id):
            await session.execute(outbox.delete().where(outbox.c.position == position))
    for dead_id, payload in (
        await session.execute(select(dead_letter.c.id, dead_letter.c.payload))
    ).all():
        if _names_learner(payload, erased.learner_id):
            await session.execute(dead_letter.delete().where(dead_letter.c.id == dead_id))
    log.info("learner erased: training keeps a tombstone")


def _names_learner(payload: bytes, learner_id: str) -> bool:
    try:
        data = json.loads(payload).get("data", {})
    except (ValueError, AttributeError):
        return learner_id.encode() in payload
    return isinstance(data, dict) and data.get("learner_id") == learner_id

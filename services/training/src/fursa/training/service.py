"""The training service layer: each public operation is one unit of work.

State changes and the events they cause commit together (the transactional outbox): an
operation opens its transaction with ``uow.begin()`` and emits through it. Operations that
react to another service's event run inside the consumer's transaction instead, which the
kernel opens, so that the effect and the inbox record commit together.

``training-completed`` is an event of the training record: its subject is the record's id
(``training_id``) and its sequence the record's version, so consumers order it with the
record's later events (outcomes, at-risk signals).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, inspect
from sqlmodel import col, select

from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts import Pathway, TrainingCompleted
from fursa.shared.messaging.outbox import Transaction, UnitOfWork
from fursa.training import domain
from fursa.training.domain import Completion, Summary, TrainingStatus
from fursa.training.models import TrainingRecord

log = logging.getLogger(__name__)


class TrainingNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, training_id: str) -> None:
        super().__init__(f"there is no training {training_id}")


def visible_trainings(scope: Principal) -> ColumnElement[bool]:
    """The training records ``scope`` may see: by association, center, region or province."""
    records = inspect(TrainingRecord).c
    return scope.visible(
        association=records.association_id,
        center=records.center_id,
        region=records.region_code,
        province=records.province_code,
    )


def sees_training(scope: Principal, record: TrainingRecord) -> bool:
    return scope.sees(
        association_id=record.association_id,
        center_id=record.center_id,
        region_code=record.region_code,
        province_code=record.province_code,
    )


class TrainingService:
    """Completes trainings and answers questions about them.

    Every operation a caller asks for takes the caller's ``scope``: a record outside it is
    treated exactly as one that does not exist.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

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
    ) -> Sequence[TrainingRecord]:
        """Training records within ``scope``, oldest first, filtered by enrollment (one has
        zero or one) and status."""
        query = select(TrainingRecord).where(visible_trainings(scope))
        if enrollment_id is not None:
            query = query.where(col(TrainingRecord.enrollment_id) == enrollment_id)
        if status is not None:
            query = query.where(col(TrainingRecord.status) == status)
        query = query.order_by(col(TrainingRecord.opened_at), col(TrainingRecord.id)).limit(limit)
        async with self.uow.read() as session:
            return (await session.exec(query)).all()

    async def summary(self, *, scope: Principal) -> Summary:
        """How many trainings within ``scope`` are open, how many completed."""
        query = (
            select(TrainingRecord.status, func.count())
            .where(visible_trainings(scope))
            .group_by(col(TrainingRecord.status))
        )
        async with self.uow.read() as session:
            rows = await session.exec(query)
            counts = {TrainingStatus(status): count for status, count in rows.all()}
        return Summary.of(counts)

    async def complete(
        self, training_id: str, completion: Completion, *, scope: Principal
    ) -> TrainingRecord:
        """Record how a training ended (today) and publish ``training-completed``.

        The record is locked while it changes, so two simultaneous completions give one
        result and one event. Raises :class:`TrainingNotFound` (also for a record outside
        ``scope``, before any rule is checked), or
        :class:`~fursa.training.domain.TrainingAlreadyCompleted` on a second completion.
        """
        async with self.uow.begin() as tx:
            record = await tx.session.get(TrainingRecord, training_id, with_for_update=True)
            if record is None or not sees_training(scope, record):
                raise TrainingNotFound(training_id)
            today = local_today()
            domain.complete(record, completion, on=today)
            tx.session.add(record)
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


async def open_training(
    tx: Transaction,
    *,
    enrollment_id: str,
    learner_id: str,
    association_id: str,
    center_id: str,
    region_code: str,
    province_code: str,
    pathway: Pathway,
) -> TrainingRecord:
    """Open the training of a new enrollment, unless it is already open.

    Runs inside the consumer's transaction. The inbox already drops a redelivered event; the
    check here (and the unique key behind it) also covers a second, distinct learner-enrolled
    for the same enrollment.
    """
    query = select(TrainingRecord).where(col(TrainingRecord.enrollment_id) == enrollment_id)
    existing = (await tx.session.exec(query)).first()
    if existing is not None:
        log.info("training of enrollment %s is already open", enrollment_id)
        return existing
    record = TrainingRecord(
        id=str(uuid.uuid4()),
        enrollment_id=enrollment_id,
        learner_id=learner_id,
        association_id=association_id,
        center_id=center_id,
        region_code=region_code,
        province_code=province_code,
        pathway=pathway,
        status=TrainingStatus.OPEN,
        opened_at=utcnow(),
    )
    tx.session.add(record)
    log.info("training %s opened for enrollment %s", record.id, enrollment_id)
    return record

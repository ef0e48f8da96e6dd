"""What the enrollment service does when other services' events arrive."""

from __future__ import annotations

from typing import Any

from fursa.enrollment.domain import EnrollmentError
from fursa.enrollment.follow_ups import keep_follow_up
from fursa.enrollment.service import EnrollmentNotFound, complete_enrollment
from fursa.shared.contracts import CloudEvent, LearnerOutcomeRecorded, TrainingCompleted
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.messaging.streams import LEARNER_OUTCOME_RECORDED, TRAINING_COMPLETED


async def training_completed(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner's training ended: close the enrollment."""
    data = event.data
    if not isinstance(data, TrainingCompleted):
        raise Unprocessable(f"{event.type} is not a training-completed event")
    try:
        await complete_enrollment(
            tx, enrollment_id=data.enrollment_id, completed_on=data.completed_on
        )
    except (EnrollmentNotFound, EnrollmentError) as exc:
        raise Unprocessable(str(exc)) from exc


async def learner_outcome_recorded(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A follow-up found where a learner stands after the programme: keep it for the
    indicators."""
    data = event.data
    if not isinstance(data, LearnerOutcomeRecorded):
        raise Unprocessable(f"{event.type} is not a learner-outcome-recorded event")
    try:
        await keep_follow_up(tx, data)
    except EnrollmentNotFound as exc:
        raise Unprocessable(str(exc)) from exc


HANDLERS: dict[str, Handler] = {
    TRAINING_COMPLETED: training_completed,
    LEARNER_OUTCOME_RECORDED: learner_outcome_recorded,
}

"""What the enrollment service does when other services' events arrive."""

from __future__ import annotations

from typing import Any

from fursa.enrollment.domain import EnrollmentError
from fursa.enrollment.service import EnrollmentNotFound, complete_enrollment
from fursa.shared.contracts import CloudEvent, TrainingCompleted
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.messaging.streams import TRAINING_COMPLETED


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


HANDLERS: dict[str, Handler] = {TRAINING_COMPLETED: training_completed}

"""What the training service does when the enrollment service's events arrive: parse, hand on."""

from __future__ import annotations

from typing import Any, TypeVar

from fursa.shared.contracts import (
    CloudEvent,
    EventData,
    LearnerEnrolled,
    LearnerErased,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWithdrawn,
)
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.messaging.streams import (
    LEARNER_ENROLLED,
    LEARNER_ERASED,
    LEARNER_TRANSFERRED,
    LEARNER_UPDATED,
    LEARNER_WITHDRAWN,
)
from fursa.training import service

T = TypeVar("T", bound=EventData)


def _data(event: CloudEvent[Any], kind: type[T]) -> T:
    data = event.data
    if not isinstance(data, kind):
        raise Unprocessable(f"{event.type} does not carry {kind.__name__}")
    return data


async def learner_enrolled(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner was enrolled: open their training."""
    await service.open_training(tx, _data(event, LearnerEnrolled))


async def learner_updated(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner's record was corrected: their names on rosters follow."""
    await service.learner_updated(tx, _data(event, LearnerUpdated))


async def learner_transferred(tx: Transaction, event: CloudEvent[Any]) -> None:
    """An enrollment moved to another center: so does its training."""
    await service.transfer_training(tx, _data(event, LearnerTransferred))


async def learner_withdrawn(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner left the programme: their training closes."""
    await service.withdraw_training(tx, _data(event, LearnerWithdrawn))


async def learner_erased(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner was erased: forget them, keep a tombstone."""
    await service.erase_learner(tx, _data(event, LearnerErased))


HANDLERS: dict[str, Handler] = {
    LEARNER_ENROLLED: learner_enrolled,
    LEARNER_UPDATED: learner_updated,
    LEARNER_TRANSFERRED: learner_transferred,
    LEARNER_WITHDRAWN: learner_withdrawn,
    LEARNER_ERASED: learner_erased,
}

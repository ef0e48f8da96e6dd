"""Event handlers of the notify service: parse, call the service layer, nothing more.

A handler only queues deliveries and partner events in the consumer's transaction; the
delivery worker sends them after the commit. ``ContactNotYetKnownError`` propagates: the
kernel retries such an event after a delay, until the learner's enrollment has arrived.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

from fursa.notify import service
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    CloudEvent,
    EventData,
    LearnerAtRisk,
    LearnerEnrolled,
    LearnerErased,
    LearnerOutcomeRecorded,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    LearnerWithdrawn,
    ReferralStatusChanged,
    TrainingCompleted,
)
from fursa.shared.contracts import for_model as registration_of
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction

DataT = TypeVar("DataT", bound=EventData)


def _typed(event: CloudEvent[Any], model: type[DataT]) -> CloudEvent[DataT]:
    if not isinstance(event.data, model):
        raise Unprocessable(f"{event.type} does not carry {model.__name__}")
    # A string: subscripting the generic model at run time costs pydantic a class lookup.
    return cast("CloudEvent[DataT]", event)


def _on(
    model: type[DataT], react: Callable[[Transaction, CloudEvent[DataT]], Awaitable[None]]
) -> tuple[str, Handler]:
    async def handle(tx: Transaction, event: CloudEvent[Any]) -> None:
        await react(tx, _typed(event, model))

    return registration_of(model).type, handle


def handlers() -> Mapping[str, Handler]:
    """The handler of each event type the notify service consumes."""
    return dict(
        [
            _on(LearnerEnrolled, lambda tx, e: service.learner_enrolled(tx, event=e)),
            _on(LearnerWaitlisted, lambda tx, e: service.learner_waitlisted(tx, event=e)),
            _on(LearnerUpdated, lambda tx, e: service.learner_updated(tx, event=e)),
            _on(LearnerTransferred, lambda tx, e: service.learner_transferred(tx, event=e)),
            _on(LearnerWithdrawn, lambda tx, e: service.publish_to_partners(tx, event=e)),
            _on(LearnerErased, lambda tx, e: service.learner_erased(tx, event=e)),
            _on(
                ReferralStatusChanged,
                lambda tx, e: service.referral_status_changed(tx, event=e),
            ),
            _on(LearnerAtRisk, lambda tx, e: service.learner_at_risk(tx, event=e)),
            _on(TrainingCompleted, lambda tx, e: service.training_completed(tx, event=e)),
            _on(LearnerOutcomeRecorded, lambda tx, e: service.publish_to_partners(tx, event=e)),
            _on(CertificateIssued, lambda tx, e: service.certificate_issued(tx, event=e)),
            _on(CertificateRevoked, lambda tx, e: service.certificate_revoked(tx, event=e)),
        ]
    )

"""Event handlers of the notify service: parse, call the service layer, nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from fursa.notify import service
from fursa.notify.channels import Channel
from fursa.shared.contracts import (
    CertificateIssued,
    CloudEvent,
    EventData,
    LearnerEnrolled,
)
from fursa.shared.contracts import for_model as registration_of
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction

DataT = TypeVar("DataT", bound=EventData)


def _typed(event: CloudEvent[Any], model: type[DataT]) -> CloudEvent[DataT]:
    if not isinstance(event.data, model):
        raise Unprocessable(f"{event.type} does not carry {model.__name__}")
    return cast(CloudEvent[DataT], event)


def handlers(channel: Channel) -> Mapping[str, Handler]:
    """The handler of each event type the notify service consumes."""

    async def on_learner_enrolled(tx: Transaction, event: CloudEvent[Any]) -> None:
        await service.learner_enrolled(tx, enrolled=_typed(event, LearnerEnrolled).data)

    async def on_certificate_issued(tx: Transaction, event: CloudEvent[Any]) -> None:
        # ContactNotYetKnownError propagates: the kernel retries it after a delay.
        await service.certificate_issued(
            tx, event=_typed(event, CertificateIssued), channel=channel
        )

    return {
        registration_of(LearnerEnrolled).type: on_learner_enrolled,
        registration_of(CertificateIssued).type: on_certificate_issued,
    }

"""Event handlers of the certification service: parse, call the service layer, nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from fursa.certification import service
from fursa.certification.domain import UnknownRegionError
from fursa.certification.models import KERNEL
from fursa.certification.service import Issuer
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import (
    CloudEvent,
    EventData,
    LearnerEnrolled,
    LearnerErased,
    LearnerUpdated,
    TrainingCompleted,
)
from fursa.shared.contracts import for_model as registration_of
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction

DataT = TypeVar("DataT", bound=EventData)


def _data(event: CloudEvent[Any], model: type[DataT]) -> DataT:
    if not isinstance(event.data, model):
        raise Unprocessable(f"{event.type} does not carry {model.__name__}")
    return event.data


def handlers(settings: CertificationSettings, issuer: Issuer) -> Mapping[str, Handler]:
    """The handler of each event type the certification service consumes."""

    async def on_learner_enrolled(tx: Transaction, event: CloudEvent[Any]) -> None:
        await service.learner_enrolled(tx, enrolled=_data(event, LearnerEnrolled))

    async def on_learner_updated(tx: Transaction, event: CloudEvent[Any]) -> None:
        await service.learner_updated(tx, updated=_data(event, LearnerUpdated))

    async def on_learner_erased(tx: Transaction, event: CloudEvent[Any]) -> None:
        await service.learner_erased(tx, erased=_data(event, LearnerErased), tables=KERNEL)

    async def on_training_completed(tx: Transaction, event: CloudEvent[Any]) -> None:
        completion = _data(event, TrainingCompleted)
        # LearnerNotYetKnownError propagates: the kernel retries it after a delay.
        try:
            await service.training_completed(
                tx,
                completion=completion,
                policy=settings.policy_for(completion.pathway),
                issuer=issuer,
            )
        except UnknownRegionError as exc:
            raise Unprocessable(str(exc)) from exc

    return {
        registration_of(LearnerEnrolled).type: on_learner_enrolled,
        registration_of(LearnerUpdated).type: on_learner_updated,
        registration_of(LearnerErased).type: on_learner_erased,
        registration_of(TrainingCompleted).type: on_training_completed,
    }

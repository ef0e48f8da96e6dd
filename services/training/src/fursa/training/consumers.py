"""What the training service does when other services' events arrive."""

from __future__ import annotations

from typing import Any

from fursa.shared.contracts import CloudEvent, LearnerEnrolled
from fursa.shared.messaging.consumer import Handler, Unprocessable
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.messaging.streams import LEARNER_ENROLLED
from fursa.training.service import open_training


async def learner_enrolled(tx: Transaction, event: CloudEvent[Any]) -> None:
    """A learner was enrolled: open their training (their personal data is not kept)."""
    data = event.data
    if not isinstance(data, LearnerEnrolled):
        raise Unprocessable(f"{event.type} is not a learner-enrolled event")
    await open_training(
        tx,
        enrollment_id=data.enrollment_id,
        learner_id=data.learner_id,
        association_id=data.association_id,
        center_id=data.center_id,
        region_code=data.region_code,
        province_code=data.province_code,
        pathway=data.pathway,
    )


HANDLERS: dict[str, Handler] = {LEARNER_ENROLLED: learner_enrolled}

"""What enrollment keeps of training's follow-ups: each learner's situation 6 and 12 months
(or any months) after their training, for the reintegration and placement indicators."""

from __future__ import annotations

from fursa.enrollment.models import Enrollment, FollowUpSituation
from fursa.enrollment.service import EnrollmentNotFound
from fursa.shared.contracts import LearnerOutcomeRecorded
from fursa.shared.messaging.outbox import Transaction


async def keep_follow_up(tx: Transaction, recorded: LearnerOutcomeRecorded) -> None:
    """Keep the situation a follow-up recorded, or its correction (published again with the
    same months: the later one replaces it). Raises
    :class:`EnrollmentNotFound` for an enrollment this service never had."""
    if await tx.session.get(Enrollment, recorded.enrollment_id) is None:
        raise EnrollmentNotFound(recorded.enrollment_id)
    await tx.session.merge(
        FollowUpSituation(
            enrollment_id=recorded.enrollment_id,
            months_after=recorded.months_after,
            status=recorded.status,
            recorded_on=recorded.recorded_on,
        )
    )

"""Where a learner went on leaving the programme, recorded or corrected once the enrollment
closed: after a completed training (enrollment closes it on training-completed, knowing
nothing of what follows), or after a withdrawal recorded without it.

A withdrawal records its outcome itself (:meth:`EnrollmentService.withdraw`); this is the
later record, and the correction of either.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from fursa.enrollment import audit, domain
from fursa.enrollment.domain import Refused
from fursa.enrollment.service import enrollment_for_change
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today
from fursa.shared.contracts import ExitOutcome, ExitOutcomeRecorded
from fursa.shared.messaging.outbox import UnitOfWork

log = logging.getLogger(__name__)


class OutcomeCorrection(StrEnum):
    """Why an outcome already recorded is replaced (a code, never free text)."""

    ENTRY_ERROR = "entry_error"  # chosen by mistake
    NEW_INFORMATION = "new_information"  # the center learned better where the learner went


class CorrectionWithoutReason(Refused):
    """Replacing an outcome already recorded says why."""

    rule = "correction_reason_required"


async def record_exit_outcome(
    uow: UnitOfWork,
    enrollment_id: str,
    *,
    outcome: ExitOutcome,
    scope: Principal,
    correction: OutcomeCorrection | None = None,
) -> None:
    """Record where the learner of a closed enrollment within ``scope`` went, or correct it
    (``correction`` says why; the trail keeps the outcome it replaced).

    Publishes exit-outcome-recorded when the outcome changes; recording the same one again
    changes nothing. Raises :class:`~fursa.enrollment.service.EnrollmentNotFound`,
    :class:`~fursa.enrollment.domain.EnrollmentStillOpen` while the learner has not left and
    :class:`CorrectionWithoutReason` for a correction that does not say why.
    """
    async with uow.begin() as tx:
        session = tx.session
        enrollment = await enrollment_for_change(session, enrollment_id, scope)
        previous = enrollment.exit_outcome
        if previous is not None and previous != outcome and correction is None:
            raise CorrectionWithoutReason(field="reason", previous=previous)
        if not domain.record_exit_outcome(enrollment, outcome):
            return
        left_on = domain.left_on(enrollment)
        assert left_on is not None
        session.add(enrollment)
        await tx.emit(
            ExitOutcomeRecorded(
                enrollment_id=enrollment.id,
                learner_id=enrollment.learner_id,
                association_id=enrollment.association_id,
                center_id=enrollment.center_id,
                pathway=enrollment.pathway,
                exit_outcome=outcome,
                left_on=left_on,
                recorded_on=local_today(),
            ),
            subject=enrollment.id,
            sequence=enrollment.version,
        )
        audit.record(
            session,
            scope,
            "enrollment.exit_outcome_corrected" if previous else "enrollment.exit_outcome_recorded",
            entity="enrollment",
            entity_id=enrollment.id,
            learner_id=enrollment.learner_id,
            reason=correction,
            details={"exit_outcome": outcome, "previous": previous},
        )
    log.info("enrollment %s: outcome at exit %s", enrollment_id, outcome)

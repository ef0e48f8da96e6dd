"""Training's audit trail: who recorded or corrected a learner's attendance, scores,
completion and follow-ups, who set a center's curriculum, and the erasures, each with the
place of the training or center it is about (who may read it)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.audit import AuditTrail, Place
from fursa.shared.auth import Principal
from fursa.training.models import AuditEntry, TrainingCenter, TrainingRecord

AUDIT = AuditTrail(AuditEntry, service="training")


def place_of(placed: TrainingRecord | TrainingCenter) -> Place:
    """Where a training or a center sits."""
    return Place(
        association_id=placed.association_id,
        center_id=placed.center_id,
        province_code=placed.province_code,
        region_code=placed.region_code,
    )


def record(
    session: AsyncSession,
    by: Principal | None,
    action: str,
    training: TrainingRecord,
    *,
    entity: str,
    entity_id: str,
    reason: str | None = None,
    **details: Any,
) -> None:
    """An entry about one learner's training (ids, modules and codes in the details; never a
    name, a school or a score)."""
    AUDIT.record(
        session,
        by,
        action,
        entity=entity,
        entity_id=entity_id,
        learner_id=training.learner_id,
        place=place_of(training),
        reason=reason,
        details={"training_id": training.id} | details,
    )

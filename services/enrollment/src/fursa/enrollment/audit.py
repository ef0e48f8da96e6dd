"""The audit log: every change to the service's records says who made it, what, and when (the
kernel's trail, :mod:`fursa.shared.audit`, served as ``GET /audit``).

Entries are written in the transaction of the change they describe, so there is no change
without its entry and no entry without its change. Each is placed where its record sits, so
that officers, the directorate and associations read the entries of their own scope: the
place is read from this service's tables by the entry's own insert (a learner's latest
enrollment, an enrollment's or a center's center, an association, an agreement's or a
referral's association), so that no caller has to carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment.models import (
    AuditEntry,
    Center,
    Enrollment,
    Learner,
    PartnershipAgreement,
    Referral,
)
from fursa.shared.audit import AuditTrail, Place
from fursa.shared.auth import Principal

AUDIT = AuditTrail(AuditEntry, service="enrollment")


def _of_center(center_id: ColumnElement[Any]) -> Place:
    def part(column: Any) -> ColumnElement[Any]:
        return select(column).where(col(Center.id) == center_id).scalar_subquery()

    return Place(
        association_id=part(Center.association_id),
        center_id=center_id,
        province_code=part(Center.province_code),
        region_code=part(Center.region_code),
    )


def place_of(entity: str, entity_id: str, learner_id: str | None) -> Place | None:
    """Where the record an entry is about sits, as SQL the entry's insert evaluates."""
    if entity == "association":
        return Place(association_id=entity_id)
    if entity == "center":
        return _of_center(literal(entity_id))
    if entity == "enrollment":
        enrollment_center = select(Enrollment.center_id).where(col(Enrollment.id) == entity_id)
        return _of_center(enrollment_center.scalar_subquery())
    if entity in ("agreement", "referral"):
        owner = PartnershipAgreement if entity == "agreement" else Referral
        association = select(owner.association_id).where(col(owner.id) == entity_id)
        return Place(association_id=association.scalar_subquery())
    if learner_id is not None:
        latest = (
            select(Enrollment.center_id)
            .where(col(Enrollment.learner_id) == learner_id)
            .order_by(col(Enrollment.queued_at).desc(), col(Enrollment.id).desc())
            .limit(1)
        )
        place = _of_center(latest.scalar_subquery())
        association = select(Learner.association_id).where(col(Learner.id) == learner_id)
        return Place(
            association_id=association.scalar_subquery(),
            center_id=place.center_id,
            province_code=place.province_code,
            region_code=place.region_code,
        )
    return None


def record(
    session: AsyncSession,
    by: Principal | None,
    action: str,
    *,
    entity: str,
    entity_id: str,
    learner_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the log, inside the change's own transaction (``by`` None: the service)."""
    AUDIT.record(
        session,
        by,
        action,
        entity=entity,
        entity_id=entity_id,
        learner_id=learner_id,
        place=place_of(entity, entity_id, learner_id),
        reason=reason,
        details=details,
    )


async def forget_details(session: AsyncSession, learner_id: str) -> None:
    """Empty the details of a learner's entries (an erasure); who, what and when stay."""
    await AUDIT.forget_details(session, learner_id)


async def entries_of_learner(session: AsyncSession, learner_id: str) -> Sequence[AuditEntry]:
    """Every entry about a learner, oldest first (the learner's own export)."""
    query = (
        select(AuditEntry)
        .where(col(AuditEntry.learner_id) == learner_id)
        .order_by(col(AuditEntry.id))
    )
    return (await session.exec(query)).all()

"""The audit log: every change to the service's records says who made it, what, and when.

Entries are written in the transaction of the change they describe, so there is no change
without its entry and no entry without its change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment.models import AuditEntry
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.messaging.outbox import UnitOfWork

SYSTEM_ACTOR = ("fursa/enrollment", "system")
"""Who makes the changes the service makes by itself (on another service's event)."""


def record(
    session: AsyncSession,
    by: Principal | None,
    action: str,
    *,
    entity: str,
    entity_id: str,
    learner_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the log, inside the change's own transaction (``by`` None: the service)."""
    actor, role = (by.subject, str(by.role)) if by else SYSTEM_ACTOR
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor,
            role=role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            learner_id=learner_id,
            details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
        )
    )


async def forget_details(session: AsyncSession, learner_id: str) -> None:
    """Empty the details of a learner's entries (an erasure); who, what and when stay."""
    await session.execute(
        update(AuditEntry).where(col(AuditEntry.learner_id) == learner_id).values(details=None)
    )


async def entries(
    session: AsyncSession,
    *,
    entity_id: str | None = None,
    learner_id: str | None = None,
    actor: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Entries oldest first, filtered; page on with ``after_id`` (the last id seen)."""
    query = select(AuditEntry).where(col(AuditEntry.id) > after_id)
    if entity_id is not None:
        query = query.where(col(AuditEntry.entity_id) == entity_id)
    if learner_id is not None:
        query = query.where(col(AuditEntry.learner_id) == learner_id)
    if actor is not None:
        query = query.where(col(AuditEntry.actor) == actor)
    return (await session.exec(query.order_by(col(AuditEntry.id)).limit(limit))).all()


class AuditLog:
    """The log as administrators read it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def entries(self, **filters: Any) -> Sequence[AuditEntry]:
        """Entries oldest first (see :func:`entries` for the filters)."""
        async with self.uow.read() as session:
            return await entries(session, **filters)

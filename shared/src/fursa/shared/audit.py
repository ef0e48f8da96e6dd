"""The audit trail: who changed what, when and why, in every service the same way.

Each service declares its trail's table on its own metadata from :class:`AuditEntryFields`
(``class AuditEntry(AuditEntryFields, ServiceModel, table=True)``) and records through an
:class:`AuditTrail` in the transaction of the change it describes, so that there is no change
without its entry and no entry without its change.

An entry says who (the token's subject and role, or the service itself when it reacts to
another service's event), the action, the record (entity and id), the reason as a code, and
where the record sits (association, center, province, region). That place decides who reads
the entry: :func:`audit_routes` serves ``GET /audit`` to administrators, Entraide Nationale
officers (their region), the directorate (its province or region) and association staff
(their association), through the same rule that scopes every other read
(:meth:`Principal.visible`). An entry placed nowhere (a partner's subscription, a dead letter
replayed) is read by administrators only. ``details`` never carries personal data: ids,
codes and figures only; an erasure still empties the details of the learner's entries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Text, inspect, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.auth import Principal, Role, allow
from fursa.shared.clock import utcnow
from fursa.shared.db import Database, UtcDateTime

# Who reads a trail (each within its own scope); educators' work is in it, read by those who
# oversee it.
AUDIT_READERS: tuple[Role, ...] = (
    Role.ADMIN,
    Role.ENTRAIDE_OFFICER,
    Role.DIRECTORATE,
    Role.ASSOCIATION_STAFF,
)
SYSTEM_ROLE = "system"
# Entry ids are an INTEGER column (32 bits on PostgreSQL): a larger ``after_id`` names no entry.
AUDIT_ID_MAX = 2**31 - 1


# A place's part: a value, or an SQL expression the entry's insert evaluates (for a service
# whose record's place is in its tables, not at hand where the change is made).
PlacePart = str | ColumnElement[Any] | None


@dataclass(frozen=True)
class Place:
    """Where the record an entry is about sits: what decides who may read the entry."""

    association_id: PlacePart = None
    center_id: PlacePart = None
    province_code: PlacePart = None
    region_code: PlacePart = None


class AuditEntryFields(SQLModel):
    """The columns of a service's audit trail (a mixin: each service has its own table)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    actor: str = Field(max_length=200)
    role: str = Field(max_length=32)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=36, index=True)
    learner_id: str | None = Field(default=None, max_length=36, index=True)
    reason: str | None = Field(default=None, max_length=64)
    association_id: str | None = Field(default=None, max_length=36)
    center_id: str | None = Field(default=None, max_length=36)
    province_code: str | None = Field(default=None, max_length=8)
    region_code: str | None = Field(default=None, max_length=8)
    details: str | None = Field(default=None, sa_type=Text)


class AuditTrail:
    """One service's trail: records entries and reads them within a viewer's scope."""

    def __init__(self, model: type[AuditEntryFields], *, service: str) -> None:
        self.model = model
        self.system_actor = f"fursa/{service}"

    def record(
        self,
        session: AsyncSession,
        by: Principal | None,
        action: str,
        *,
        entity: str,
        entity_id: str,
        place: Place | None = None,
        learner_id: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Add an entry inside the change's own transaction (``by`` None: the service itself,
        reacting to another service's event)."""
        actor, role = (by.subject, str(by.role)) if by else (self.system_actor, SYSTEM_ROLE)
        where: dict[str, Any] = vars(place) if place else {}
        session.add(
            self.model(
                at=utcnow(),
                actor=actor,
                role=role,
                action=action,
                entity=entity,
                entity_id=entity_id,
                learner_id=learner_id,
                reason=reason,
                details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
                **where,
            )
        )

    async def forget_details(self, session: AsyncSession, learner_id: str) -> None:
        """Empty the details of a learner's entries (an erasure); who, what, why and when
        stay."""
        await session.execute(
            update(self.model).where(col(self.model.learner_id) == learner_id).values(details=None)
        )

    async def entries(
        self,
        session: AsyncSession,
        *,
        viewer: Principal,
        entity_id: str | None = None,
        learner_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> Sequence[AuditEntryFields]:
        """The entries the viewer may read, oldest first, filtered; page on with ``after_id``
        (the last id seen)."""
        model = self.model
        columns = inspect(model, raiseerr=True).columns
        query = select(model).where(
            col(model.id) > after_id,
            viewer.visible(
                association=columns.association_id,
                center=columns.center_id,
                region=columns.region_code,
                province=columns.province_code,
            ),
        )
        if entity_id is not None:
            query = query.where(col(model.entity_id) == entity_id)
        if learner_id is not None:
            query = query.where(col(model.learner_id) == learner_id)
        if actor is not None:
            query = query.where(col(model.actor) == actor)
        if action is not None:
            query = query.where(col(model.action) == action)
        return (await session.exec(query.order_by(col(model.id)).limit(limit))).all()


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    learner_id: str | None
    reason: str | None
    association_id: str | None
    center_id: str | None
    province_code: str | None
    region_code: str | None
    details: dict[str, Any] | None

    @classmethod
    def of(cls, entry: AuditEntryFields) -> AuditEntryPublic:
        return cls(
            **entry.model_dump(exclude={"details"}),
            details=json.loads(entry.details) if entry.details else None,
        )


AuditReader = Annotated[Principal, Depends(allow(*AUDIT_READERS))]


def audit_routes(trail: AuditTrail, db: Database) -> APIRouter:
    """``GET /audit``: the trail as its readers see it, each within their scope."""
    router = APIRouter(tags=["audit"])

    @router.get("/audit")
    async def audit(
        reader: AuditReader,
        entity_id: Annotated[str | None, Query(max_length=64)] = None,
        learner_id: Annotated[str | None, Query(max_length=64)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        after_id: Annotated[int, Query(ge=0, le=AUDIT_ID_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditEntryPublic]:
        """Who changed what, when and why, oldest first, within the caller's scope (an
        officer's region, the directorate's province or region, an association's records);
        page on with ``after_id``."""
        async with db.read() as session:
            found = await trail.entries(
                session,
                viewer=reader,
                entity_id=entity_id,
                learner_id=learner_id,
                actor=actor,
                action=action,
                after_id=after_id,
                limit=limit,
            )
        return [AuditEntryPublic.of(entry) for entry in found]

    return router

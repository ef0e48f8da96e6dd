"""Training's audit trail: who recorded or corrected a learner's attendance, scores,
completion and follow-ups, who set a center's curriculum, and the erasures, each with the
place of the training or center it is about (who may read it).

A class's call writes its entries in one statement (:func:`entry` and :func:`write`): the
same rows the kernel's trail adds one object at a time, without an ORM object each."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.audit import SYSTEM_ROLE, AuditTrail, Place
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.training.models import AuditEntry, table_of

AUDIT = AuditTrail(AuditEntry, service="training")

_WRITE = insert(table_of(AuditEntry))


class Placed(Protocol):
    """Anything placed like a training or a center: a record, a center, a class's row."""

    @property
    def association_id(self) -> str: ...
    @property
    def center_id(self) -> str: ...
    @property
    def province_code(self) -> str: ...
    @property
    def region_code(self) -> str: ...


class OfTraining(Placed, Protocol):
    """A training as an entry names it: its id, its learner and its place."""

    @property
    def id(self) -> str: ...
    @property
    def learner_id(self) -> str: ...


def place_of(placed: Placed) -> Place:
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
    training: OfTraining,
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


def entry(
    by: Principal | None,
    action: str,
    *,
    entity: str,
    entity_id: str,
    place: Placed,
    learner_id: str | None = None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The row of an entry, as :meth:`AuditTrail.record` makes it, for :func:`write`."""
    actor, role = (by.subject, str(by.role)) if by else (AUDIT.system_actor, SYSTEM_ROLE)
    return {
        "at": utcnow(),
        "actor": actor,
        "role": role,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "learner_id": learner_id,
        "reason": None,
        "details": json.dumps(details, ensure_ascii=False, default=str),
    } | vars(place_of(place))


def training_entry(
    by: Principal | None,
    action: str,
    training: OfTraining,
    *,
    entity: str,
    entity_id: str,
    **details: Any,
) -> dict[str, Any]:
    """The row of an entry about one learner's training (as :func:`record` makes it)."""
    return entry(
        by,
        action,
        entity=entity,
        entity_id=entity_id,
        place=training,
        learner_id=training.learner_id,
        details={"training_id": training.id} | details,
    )


async def write(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Add entries inside the change's own transaction, in one statement compiled once."""
    await session.execute(_WRITE, entries)

"""Reading the dead-letter table (the API, the CLI and operators list them before a replay),
and discarding a dead letter no replay will ever apply."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.db import Database
from fursa.shared.messaging.tables import KernelTables


class DeadLetter(BaseModel):
    id: int
    consumer: str
    event_id: str | None
    type: str | None
    nats_subject: str
    error: str
    deliveries: int
    failed_at: datetime
    replayed_at: datetime | None


async def list_dead_letters(
    db: Database,
    tables: KernelTables,
    *,
    consumer: str | None = None,
    include_replayed: bool = False,
    limit: int = 100,
) -> list[DeadLetter]:
    """Dead letters, oldest first; by default only those still waiting for a replay."""
    table = tables.dead_letter
    query = select(*(c for c in table.c if c.name not in ("payload", "headers")))
    if consumer is not None:
        query = query.where(table.c.consumer == consumer)
    if not include_replayed:
        query = query.where(table.c.replayed_at.is_(None))
    async with db.connect() as connection:
        rows = (await connection.execute(query.order_by(table.c.id).limit(limit))).all()
    return [DeadLetter.model_validate(row, from_attributes=True) for row in rows]


async def discard_dead_letter(
    session: AsyncSession, tables: KernelTables, *, dead_letter_id: int, consumer: str
) -> DeadLetter | None:
    """Delete a dead letter still waiting (its payload with it): what it was, or None when no
    such dead letter waits. The caller records the discard in the same transaction."""
    table = tables.dead_letter
    row = (
        await session.execute(
            select(*(c for c in table.c if c.name not in ("payload", "headers"))).where(
                table.c.id == dead_letter_id,
                table.c.consumer == consumer,
                table.c.replayed_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    await session.execute(table.delete().where(table.c.id == dead_letter_id))
    return DeadLetter.model_validate(row, from_attributes=True)

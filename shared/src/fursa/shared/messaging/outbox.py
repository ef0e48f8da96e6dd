"""The transactional outbox: events commit in the same transaction as the state they describe.

A :class:`Transaction` is what the service layer writes through: its session holds the state
change, :meth:`Transaction.emit` adds the event rows (with the caller's W3C trace context), and
both commit together or not at all. After the commit the relay is woken to publish them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event as orm_events
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.clock import utcnow
from fursa.shared.contracts import CloudEvent, EventData, new_event, to_json_bytes
from fursa.shared.db import Database
from fursa.shared.messaging.tables import KernelTables
from fursa.shared.telemetry import current_trace_headers


class Transaction:
    """One unit of work: a database session plus the events it causes.

    ``cause`` is the event being handled, if any: events emitted here continue its correlation
    id and name it as their causation.
    """

    def __init__(
        self,
        session: AsyncSession,
        tables: KernelTables,
        source: str,
        cause: CloudEvent[Any] | None = None,
    ) -> None:
        self.session = session
        self.tables = tables
        self.source = source
        self.cause = cause
        self.emitted: list[CloudEvent[Any]] = []

    async def emit(self, data: EventData, *, subject: str, sequence: int) -> CloudEvent[Any]:
        """Record an event about aggregate ``subject`` in the outbox, inside this transaction."""
        event = new_event(
            data,
            source=self.source,
            subject=subject,
            sequence=sequence,
            correlationid=self.cause.correlationid if self.cause else None,
            causationid=self.cause.id if self.cause else None,
        )
        trace = current_trace_headers()
        # The values as parameters of the table's one INSERT: no new statement (and cache key)
        # for each event.
        await self.session.execute(
            self.tables.outbox.insert(),
            {
                "event_id": event.id,
                "type": event.type,
                "subject": event.subject,
                "payload": to_json_bytes(event),
                "traceparent": trace.get("traceparent"),
                "tracestate": trace.get("tracestate"),
                "created_at": utcnow(),
            },
        )
        self.emitted.append(event)
        return event

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the database transaction commits (never if it rolls back):
        for effects outside the database, such as a metric. Inside a consumer's batch, the
        batch's commit runs it even if this message's savepoint was rolled back."""
        orm_events.listen(
            self.session.sync_session, "after_commit", lambda _: callback(), once=True
        )


class UnitOfWork:
    """Opens transactions on a service's database and wakes the relay after each commit."""

    def __init__(
        self,
        db: Database,
        tables: KernelTables,
        source: str,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.tables = tables
        self.source = source
        self.on_commit = on_commit

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (queries of the API): no transaction to commit, no events."""
        async with self.db.read() as session:
            yield session

    @asynccontextmanager
    async def begin(self, cause: CloudEvent[Any] | None = None) -> AsyncIterator[Transaction]:
        """A transaction that commits state and events together when the block ends."""
        async with self.db.transaction() as session:
            tx = Transaction(session, self.tables, self.source, cause)
            yield tx
        if tx.emitted and self.on_commit:
            self.on_commit()

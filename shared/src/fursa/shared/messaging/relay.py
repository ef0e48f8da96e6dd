"""The outbox relay: publishes every unsent outbox row to JetStream, then marks it sent.

Rows are selected as *unsent* (never by a high-water position: on PostgreSQL positions do not
commit in order). Each row is published with ``Nats-Msg-Id`` = event id, so a row published
just before a crash and published again afterwards is stored once (the stream's duplicate
window). A row is marked sent only after its PubAck. One relay runs per service database: a lock
makes a second relay wait until the first dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import zlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from opentelemetry import trace
from sqlalchemy import select, text

from fursa.shared.clock import utcnow
from fursa.shared.db import Database
from fursa.shared.messaging.tables import KernelTables
from fursa.shared.metrics import EVENTS_PUBLISHED
from fursa.shared.telemetry import context_from_headers, current_trace_headers, tracer

log = logging.getLogger(__name__)


class RelayLock:
    """Exclusive right to relay one database's outbox, released when its holder dies.

    PostgreSQL: a session advisory lock held on a dedicated connection. SQLite: ``flock`` on a
    file next to the database. Both vanish with the process, so a kill -9 frees the lock.
    """

    def __init__(self, db: Database, name: str, retry_s: float = 0.2) -> None:
        self.db = db
        self.key = zlib.crc32(f"fursa-relay:{name}".encode())
        self.retry_s = retry_s

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        path = self.db.sqlite_path
        if path is not None:
            async with self._hold_file(path.with_name(path.name + ".relay.lock")):
                yield
        elif self.db.is_sqlite:
            yield  # an in-memory database belongs to one process
        else:
            async with self._hold_advisory():
                yield

    @contextlib.asynccontextmanager
    async def _hold_file(self, path: Path) -> AsyncIterator[None]:
        with path.open("a+") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(self.retry_s)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextlib.asynccontextmanager
    async def _hold_advisory(self) -> AsyncIterator[None]:
        async with self.db.engine.connect() as connection:
            while not (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                )
            ).scalar_one():
                await connection.rollback()
                await asyncio.sleep(self.retry_s)
            await connection.commit()
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                    )
                    await connection.commit()


class OutboxRelay:
    """Drains a service's outbox into JetStream; woken after each commit, polling as a fallback."""

    def __init__(
        self,
        db: Database,
        tables: KernelTables,
        js: JetStreamContext,
        *,
        name: str,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        retry_delay_s: float = 0.5,
        publish_timeout_s: float = 10.0,
    ) -> None:
        self.db = db
        self.tables = tables
        self.js = js
        self.name = name
        self.lock = RelayLock(db, name)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retry_delay_s = retry_delay_s
        self.publish_timeout_s = publish_timeout_s
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        """Tell the relay that new rows were committed."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled (waits for the lock first)."""
        async with self.lock.hold():
            log.info("outbox relay holds the lock")
            while True:
                try:
                    sent = await self.drain_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay failed; retrying")
                    await asyncio.sleep(self.retry_delay_s)
                    continue
                if sent < self.batch_size:
                    await self._sleep_until_woken()

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
        self._wake.clear()

    async def drain(self) -> int:
        """Publish until no unsent row remains (tests and tools); returns rows published."""
        total = 0
        while sent := await self.drain_once():
            total += sent
        return total

    async def drain_once(self) -> int:
        """Publish one batch of unsent rows in position order; returns how many were acked."""
        outbox = self.tables.outbox
        self._wake.clear()
        async with self.db.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        outbox.c.position,
                        outbox.c.event_id,
                        outbox.c.type,
                        outbox.c.payload,
                        outbox.c.traceparent,
                        outbox.c.tracestate,
                    )
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
            await connection.rollback()
        if not rows:
            return 0
        acked = await self._publish(rows)
        if acked:
            async with self.db.transaction() as session:
                await session.execute(
                    outbox.update().where(outbox.c.position.in_(acked)).values(sent_at=utcnow())
                )
        self.published += len(acked)
        EVENTS_PUBLISHED.labels(self.name).inc(len(acked))
        if len(acked) < len(rows):
            raise RuntimeError(
                f"{len(rows) - len(acked)} of {len(rows)} publishes not acknowledged"
            )
        return len(acked)

    async def _publish(self, rows: Sequence[Any]) -> list[int]:
        """Publish rows pipelined, in order; returns the positions whose PubAck arrived."""
        spans = []
        futures = []
        for row in rows:
            parent = context_from_headers(
                {"traceparent": row.traceparent, "tracestate": row.tracestate or ""}
                if row.traceparent
                else None
            )
            span = tracer.start_span(
                f"{row.type} publish",
                context=parent,
                kind=trace.SpanKind.PRODUCER,
                attributes={"messaging.system": "nats", "messaging.message.id": row.event_id},
            )
            spans.append(span)
            with trace.use_span(span, end_on_exit=False):
                # A new dict each time: nats-py mutates the headers it is given.
                headers = {"Nats-Msg-Id": row.event_id, **current_trace_headers()}
            futures.append(await self.js.publish_async(row.type, row.payload, headers=headers))
        # nats-py's futures have no timeout: a PubAck lost with a broker restart would hold the
        # relay forever. Unanswered rows stay unsent and go again (the stream dedups them).
        await asyncio.wait(futures, timeout=self.publish_timeout_s)
        acked = []
        for row, span, future in zip(rows, spans, futures, strict=True):
            if not future.done():
                future.cancel()
                failure: BaseException | None = TimeoutError("no PubAck in time")
            else:
                failure = future.exception()
            if failure is not None:
                span.record_exception(failure)
                span.set_status(trace.StatusCode.ERROR)
                log.warning("publish of %s failed: %r", row.event_id, failure)
            else:
                acked.append(row.position)
            span.end()
        return acked

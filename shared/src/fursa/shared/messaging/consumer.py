"""Durable pull consumers: effects once, ack after commit, bad messages never block.

A consumer fetches a batch, applies it in **one** database transaction, in stream order,
commits, and only then acks. The kernel's own bookkeeping costs four statements per batch,
none per message: which events are already in the inbox and the aggregates' applied positions
are read once at the start and kept up to date in memory; the new inbox rows and the moved
positions are written once at the end. Handlers run without savepoints; should one raise,
the transaction is rolled back and the batch applied again with a savepoint per message, so
that the failure stays with its message. Per message:

* already in the inbox → no-op (a redelivery); older than the aggregate's applied sequence →
  recorded and skipped;
* invalid payload, or :class:`Unprocessable` from the handler → dead-lettered and terminated;
* any other exception → retried with a delayed nak, until the last allowed delivery, which is
  dead-lettered and terminated.

A retried event *holds* its aggregate: the hold is written to the aggregate's applied position
(so it outlives the batch and is seen by every replica), and later events of that aggregate are
put back until the held one is applied or dead-lettered. Without it, a later event fetched
while the failed one waits out its delay would be applied first, and the failed one would then
be ignored as older than what was applied — lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from opentelemetry import trace
from sqlalchemy import bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.clock import as_utc, utcnow
from fursa.shared.contracts import CloudEvent, InvalidEvent, parse_event
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.messaging.streams import ConsumerSpec
from fursa.shared.messaging.tables import KernelTables
from fursa.shared.metrics import EVENTS_HANDLED
from fursa.shared.telemetry import context_from_headers, tracer

log = logging.getLogger(__name__)

Handler = Callable[[Transaction, CloudEvent[Any]], Awaitable[None]]

DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120)
# The longest a batch waits for the messages its first one said were waiting behind it (they
# come at once unless another replica took them or the machine is starved).
TOP_UP_TIMEOUT_S = 0.5
# How long past its retry delay a failed event holds its aggregate should it never come back
# (its stream purged, the consumer reset); a lapsed hold lets later events through.
HOLD_GRACE_S = 600.0


class _HandlerFailedError(Exception):
    """A handler raised while a batch was applied without savepoints: apply it carefully."""


class HeldBackError(RuntimeError):
    """An event waits behind an earlier event of its aggregate that is being retried."""


class Unprocessable(Exception):  # noqa: N818 - reads as what it says about the event
    """Raised by a handler for an event that can never succeed: dead-lettered at once."""


class Verdict(enum.Enum):
    ACK = "ack"
    TERM = "term"
    NAK = "nak"


@dataclass(frozen=True)
class Delivery:
    """What the consumer needs of one message, whether fetched from NATS or a dead letter."""

    nats_subject: str
    headers: Mapping[str, str]
    payload: bytes
    deliveries: int


@dataclass
class Outcome:
    verdict: Verdict
    delay_s: float = 0.0
    error: str | None = None


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    stale: int = 0
    retried: int = 0
    held_back: int = 0
    dead_lettered: int = 0
    batches: int = 0
    last_error: str | None = field(default=None)


class EventConsumer:
    """Binds to a provisioned durable pull consumer and applies its events to a service."""

    def __init__(
        self,
        *,
        db: Database,
        tables: KernelTables,
        spec: ConsumerSpec,
        handlers: Mapping[str, Handler],
        source: str,
        on_commit: Callable[[], None] | None = None,
        batch_size: int = 200,
        fetch_timeout_s: float = 1.0,
        retry_delays_s: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
    ) -> None:
        self.db = db
        self.tables = tables
        self.spec = spec
        self.handlers = dict(handlers)
        self.source = source
        self.on_commit = on_commit
        self.batch_size = batch_size
        self.fetch_timeout_s = fetch_timeout_s
        self.retry_delays_s = tuple(retry_delays_s)
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()

    @property
    def name(self) -> str:
        return self.spec.durable

    def stop(self) -> None:
        """Finish the fetch and the batch in hand, then return from :meth:`run` (SIGTERM
        drains, never drops)."""
        self._stopping.set()

    async def run(self, js: JetStreamContext) -> None:
        """Fetch and apply batches until stopped or cancelled; survives broker outages."""
        sub = await js.pull_subscribe_bind(durable=self.spec.durable, stream=self.spec.stream)
        try:
            while not self._stopping.is_set():
                try:
                    # A fetch in flight when stop() is called is let finish (fetch_timeout_s at
                    # most) and its batch applied and acked: abandoned, what it pulled would sit
                    # un-acked on the server until ack_wait sends it again.
                    msgs = await self._fetch_batch(sub)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except (ConnectionClosedError, ServiceUnavailableError) as exc:
                    # The client reconnects by itself; unacked messages come back after ack_wait.
                    self.stats.last_error = repr(exc)
                    await asyncio.sleep(self.fetch_timeout_s)
                    continue
                await self.process(msgs)
        finally:
            # Without this the connection's drain waits out its whole timeout on stop.
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _fetch_batch(self, sub: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait for one message, then take what is waiting behind it, up to the batch size.

        A single ``fetch(batch)`` that finds nothing waiting leaves a pull request on the server
        that is answered only when the whole batch is there or the request expires: under
        light load every hop would wait out the fetch timeout. The first message's metadata
        says how many are waiting: asking for those (no more) returns as soon as they arrive —
        no wait at all when there are none, and full batches under load even on a starved
        machine, where a short fixed top-up timeout fired before the messages were read.
        """
        msgs: list[Msg] = await sub.fetch(1, timeout=self.fetch_timeout_s)
        waiting = min(self.batch_size - 1, msgs[-1].metadata.num_pending or 0)
        if waiting > 0:
            with contextlib.suppress(TimeoutError, NatsTimeoutError):
                msgs += await sub.fetch(waiting, timeout=TOP_UP_TIMEOUT_S)
        return msgs

    async def process(self, msgs: Sequence[Msg]) -> None:
        """Apply one fetched batch in one transaction, then ack, nak or terminate each message."""
        deliveries = [
            Delivery(
                nats_subject=msg.subject,
                headers=dict(msg.headers or {}),
                payload=msg.data,
                deliveries=msg.metadata.num_delivered or 1,
            )
            for msg in msgs
        ]
        try:
            outcomes = await self.apply_batch(deliveries)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The transaction itself failed (database gone?): nothing committed, retry all.
            log.exception("consumer %s: batch transaction failed", self.name)
            self.stats.last_error = repr(exc)
            delay = self.retry_delays_s[0] if self.retry_delays_s else 1.0
            outcomes = [Outcome(Verdict.NAK, delay) for _ in msgs]
        for msg, outcome in zip(msgs, outcomes, strict=True):
            with contextlib.suppress(Exception):
                if outcome.verdict is Verdict.ACK:
                    await msg.ack()
                elif outcome.verdict is Verdict.TERM:
                    await msg.term()
                else:
                    await msg.nak(delay=outcome.delay_s)

    async def apply_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Apply deliveries in order inside one transaction; returns each one's verdict.

        The batch is first applied without a savepoint per event. Should a handler fail, that
        transaction is rolled back and the batch applied again with one savepoint per event,
        so that the failure is kept to its event: the common case pays no savepoints.
        """
        parsed = [_parse(delivery) for delivery in deliveries]
        try:
            return await self._apply_all(deliveries, parsed, careful=False)
        except _HandlerFailedError:
            return await self._apply_all(deliveries, parsed, careful=True)

    async def _apply_all(
        self,
        deliveries: Sequence[Delivery],
        parsed: Sequence[CloudEvent[Any] | InvalidEvent],
        *,
        careful: bool,
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        async with self.db.transaction() as session:
            batch = await self._batch(
                session, [event for event in parsed if not isinstance(event, InvalidEvent)]
            )
            for delivery, event in zip(deliveries, parsed, strict=True):
                if isinstance(event, InvalidEvent):
                    error = f"invalid event: {event}"
                    await self._dead_letter(session, batch, delivery, None, error)
                    outcomes.append(Outcome(Verdict.TERM, error=str(event)))
                else:
                    outcomes.append(await self._apply(session, batch, delivery, event, careful))
            await self._write(session, batch)
        for outcome, count in batch.counts.items():
            self._count(outcome, count)
        self.stats.batches += 1
        if self.on_commit:
            self.on_commit()
        return outcomes

    async def _batch(self, session: AsyncSession, events: Sequence[CloudEvent[Any]]) -> Batch:
        """What the database knows of a batch's events, read in two statements for the whole
        batch: which are in the inbox already, and their aggregates' applied positions."""
        batch = Batch()
        if not events:
            return batch
        inbox, positions = self.tables.inbox, self.tables.applied_position
        seen = await session.execute(
            select(inbox.c.event_id).where(
                inbox.c.consumer == self.name,
                inbox.c.event_id.in_({event.id for event in events}),
            )
        )
        batch.seen.update(row.event_id for row in seen)
        rows = await session.execute(
            select(
                positions.c.source,
                positions.c.aggregate,
                positions.c.sequence,
                positions.c.held_sequence,
                positions.c.held_event_id,
                positions.c.held_until,
            ).where(
                positions.c.consumer == self.name,
                positions.c.source.in_({event.source for event in events}),
                positions.c.aggregate.in_({event.subject for event in events}),
            )
        )
        for row in rows:
            key = (row.source, row.aggregate)
            batch.stored.add(key)
            batch.positions[key] = Position(
                row.sequence,
                row.held_sequence,
                row.held_event_id,
                as_utc(row.held_until) if row.held_until is not None else None,
            )
        return batch

    async def _write(self, session: AsyncSession, batch: Batch) -> None:
        """Write what the batch applied: its inbox rows and the positions it moved, one
        statement each for all of them. Should another replica have written one of them
        first, a unique key fails the whole batch, whose redelivery then finds them."""
        inbox, positions = self.tables.inbox, self.tables.applied_position
        now = utcnow()
        if batch.inboxed:
            await session.execute(
                inbox.insert(),
                [
                    {"consumer": self.name, "event_id": event_id, "processed_at": now}
                    for event_id in batch.inboxed
                ],
            )
        moved = [
            {
                "consumer": self.name,
                "source": source,
                "aggregate": aggregate,
                **batch.positions[(source, aggregate)].columns(),
            }
            for source, aggregate in batch.moved
        ]
        new = [row for row in moved if (row["source"], row["aggregate"]) not in batch.stored]
        changed = [row for row in moved if (row["source"], row["aggregate"]) in batch.stored]
        if new:
            await session.execute(positions.insert(), new)
        if changed:
            await session.execute(
                positions.update()
                .where(
                    positions.c.consumer == bindparam("b_consumer"),
                    positions.c.source == bindparam("b_source"),
                    positions.c.aggregate == bindparam("b_aggregate"),
                )
                .values(
                    {
                        name: bindparam(f"b_{name}")
                        for name in ("sequence", "held_sequence", "held_event_id", "held_until")
                    }
                ),
                [{f"b_{name}": value for name, value in row.items()} for row in changed],
            )

    async def _apply(
        self,
        session: AsyncSession,
        batch: Batch,
        delivery: Delivery,
        event: CloudEvent[Any],
        careful: bool,
    ) -> Outcome:
        handler = self.handlers.get(event.type)
        with tracer.start_as_current_span(
            f"{event.type} process",
            context=context_from_headers(delivery.headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.consumer.group.name": self.name,
                "messaging.message.id": event.id,
            },
        ) as span:
            try:
                if careful:
                    async with session.begin_nested():
                        applied = await self._apply_once(session, batch, event, handler)
                else:
                    applied = await self._apply_once(session, batch, event, handler)
                # Only once its savepoint is released does the batch count it as applied.
                batch.record(event, applied)
                return Outcome(Verdict.ACK)
            except HeldBackError as exc:
                # Not a failure of this event (nothing was written): it waits, however many
                # deliveries that takes (the server redelivers without limit, and every hold
                # ends).
                batch.counts["held_back"] += 1
                return Outcome(Verdict.NAK, self._delay(delivery.deliveries), str(exc))
            except Exception as exc:
                if not careful:
                    raise _HandlerFailedError from exc
                span.record_exception(exc)
                return await self._failed(session, batch, delivery, event, exc, span)

    async def _failed(
        self,
        session: AsyncSession,
        batch: Batch,
        delivery: Delivery,
        event: CloudEvent[Any],
        exc: Exception,
        span: trace.Span,
    ) -> Outcome:
        """An event whose handler raised (its savepoint rolled back): dead-letter it, or hold
        its aggregate and retry it after a delay."""
        if isinstance(exc, Unprocessable):
            await self._dead_letter(session, batch, delivery, event, f"unprocessable: {exc}")
            return Outcome(Verdict.TERM, error=str(exc))
        span.set_status(trace.StatusCode.ERROR)
        error = f"{type(exc).__name__}: {exc}"
        self.stats.last_error = error
        if delivery.deliveries >= self.spec.max_deliver:
            await self._dead_letter(
                session, batch, delivery, event, f"failed on last delivery: {error}"
            )
            return Outcome(Verdict.TERM, error=error)
        delay = self._delay(delivery.deliveries)
        batch.hold(event, until=utcnow() + timedelta(seconds=delay + HOLD_GRACE_S))
        batch.counts["retried"] += 1
        log.warning(
            "consumer %s: %s failed (delivery %d), retrying: %s",
            self.name,
            event.id,
            delivery.deliveries,
            error,
        )
        return Outcome(Verdict.NAK, delay, error)

    async def _apply_once(
        self,
        session: AsyncSession,
        batch: Batch,
        event: CloudEvent[Any],
        handler: Handler | None,
    ) -> Applied:
        """Apply one event unless it is a duplicate or stale (or must wait: HeldBackError);
        only the handler writes here, the batch's bookkeeping is written by :meth:`_write`."""
        if event.id in batch.seen:
            return Applied("duplicates", inbox=False)
        position = batch.positions.get((event.source, event.subject))
        if position is not None and _waits_behind(position, event):
            raise HeldBackError(
                f"{event.id} waits behind {position.held_event_id} "
                f"(sequence {position.held_sequence}), which is being retried"
            )
        if position is not None and event.sequence <= position.sequence:
            released = position.released() if position.held_event_id == event.id else None
            return Applied("stale", position=released)
        if handler is not None:
            await handler(Transaction(session, self.tables, self.source, cause=event), event)
        return Applied("applied", position=(position or Position(0)).advanced_by(event))

    async def replay(
        self,
        dead_letter_id: int,
        *,
        audit: Callable[[AsyncSession, CloudEvent[Any]], None] | None = None,
    ) -> CloudEvent[Any]:
        """Apply a dead-lettered message again from its stored row, and mark it replayed.

        Republishing would not work: the stream drops a message id it has already seen. A
        failure raises and leaves the row as it was. ``audit`` records who replayed it, in the
        replay's own transaction.
        """
        dead_letter = self.tables.dead_letter
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(dead_letter).where(
                        dead_letter.c.id == dead_letter_id,
                        dead_letter.c.consumer == self.name,
                        dead_letter.c.replayed_at.is_(None),
                    )
                )
            ).first()
            if row is None:
                raise LookupError(f"no dead letter {dead_letter_id} waiting in {self.name}")
            event = parse_event(row.payload)
            batch = await self._batch(session, [event])
            with tracer.start_as_current_span(
                f"{event.type} replay",
                context=context_from_headers(json.loads(row.headers)),
                kind=trace.SpanKind.CONSUMER,
            ):
                applied = await self._apply_once(
                    session, batch, event, self.handlers.get(event.type)
                )
            batch.record(event, applied)
            await self._write(session, batch)
            await session.execute(
                dead_letter.update()
                .where(dead_letter.c.id == dead_letter_id)
                .values(replayed_at=utcnow())
            )
            if audit is not None:
                audit(session, event)
        for outcome, count in batch.counts.items():
            self._count(outcome, count)
        if self.on_commit:
            self.on_commit()
        return event

    def _count(self, outcome: str, n: int = 1) -> None:
        setattr(self.stats, outcome, getattr(self.stats, outcome) + n)
        EVENTS_HANDLED.labels(self.name, outcome).inc(n)

    def _delay(self, deliveries: int) -> float:
        if not self.retry_delays_s:
            return 0.0
        return self.retry_delays_s[min(deliveries, len(self.retry_delays_s)) - 1]

    async def _dead_letter(
        self,
        session: AsyncSession,
        batch: Batch,
        delivery: Delivery,
        event: CloudEvent[Any] | None,
        error: str,
    ) -> None:
        batch.counts["dead_lettered"] += 1
        log.error("consumer %s: dead-lettered %s: %s", self.name, delivery.nats_subject, error)
        if event is not None:
            # What waited behind it goes on; a replay of it later finds them applied.
            batch.release(event)
        await session.execute(
            self.tables.dead_letter.insert().values(
                consumer=self.name,
                event_id=event.id if event else None,
                type=event.type if event else None,
                nats_subject=delivery.nats_subject,
                headers=json.dumps(dict(delivery.headers), sort_keys=True),
                payload=delivery.payload,
                error=error[:4000],
                deliveries=delivery.deliveries,
                failed_at=utcnow(),
            )
        )


@dataclass(frozen=True)
class Position:
    """An aggregate's applied position for one consumer, with the hold on it, if any."""

    sequence: int
    held_sequence: int | None = None
    held_event_id: str | None = None
    held_until: datetime | None = None

    def advanced_by(self, event: CloudEvent[Any]) -> Position:
        """After ``event`` is applied: its sequence, and no hold if it was the held one."""
        if self.held_event_id == event.id:
            return Position(event.sequence)
        return replace(self, sequence=event.sequence)

    def held_by(self, event: CloudEvent[Any], *, until: datetime) -> Position:
        return replace(self, held_sequence=event.sequence, held_event_id=event.id, held_until=until)

    def released(self) -> Position:
        return Position(self.sequence)

    def columns(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "held_sequence": self.held_sequence,
            "held_event_id": self.held_event_id,
            "held_until": self.held_until,
        }


@dataclass(frozen=True)
class Applied:
    """What applying one event came to: the outcome counted, whether it takes an inbox row
    (all but duplicates), and its aggregate's position afterwards (``None``: unchanged)."""

    outcome: str
    inbox: bool = True
    position: Position | None = None


@dataclass
class Batch:
    """One batch's bookkeeping: read once at its start (event ids already in the inbox,
    positions by (source, aggregate)), kept up to date in memory as it applies, and written
    once at its end (new inbox rows, moved positions); outcomes are counted after commit."""

    seen: set[str] = field(default_factory=set)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    stored: set[tuple[str, str]] = field(default_factory=set)
    inboxed: list[str] = field(default_factory=list)
    moved: dict[tuple[str, str], None] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def record(self, event: CloudEvent[Any], applied: Applied) -> None:
        self.counts[applied.outcome] += 1
        if applied.inbox:
            self.seen.add(event.id)
            self.inboxed.append(event.id)
        if applied.position is not None:
            self._move(event, applied.position)

    def hold(self, event: CloudEvent[Any], *, until: datetime) -> None:
        """Make later events of ``event``'s aggregate wait for it (an earlier event already
        holding the aggregate keeps its hold). Nothing applied yet: sequence 0 is older than
        every event."""
        position = self.positions.get((event.source, event.subject))
        if position is None or not _waits_behind(position, event):
            self._move(event, (position or Position(0)).held_by(event, until=until))

    def release(self, event: CloudEvent[Any]) -> None:
        """End the hold ``event`` put on its aggregate, if it holds it."""
        position = self.positions.get((event.source, event.subject))
        if position is not None and position.held_event_id == event.id:
            self._move(event, position.released())

    def _move(self, event: CloudEvent[Any], position: Position) -> None:
        key = (event.source, event.subject)
        self.positions[key] = position
        self.moved[key] = None


def _parse(delivery: Delivery) -> CloudEvent[Any] | InvalidEvent:
    try:
        return parse_event(delivery.payload)
    except InvalidEvent as exc:
        return exc


def _waits_behind(position: Position, event: CloudEvent[Any]) -> bool:
    """Whether ``event`` must wait for the event holding its aggregate (a lapsed hold holds
    nothing; the held event itself and events older than it never wait)."""
    if position.held_sequence is None or position.held_event_id == event.id:
        return False
    if event.sequence < position.held_sequence:
        return False
    if position.held_until is None or position.held_until <= utcnow():
        log.warning("hold of %s by %s lapsed", event.subject, position.held_event_id)
        return False
    return True

"""A tiny service wired with the kernel, for the kernel's own tests and the benchmarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from fursa.shared.contracts import CloudEvent
from fursa.shared.db import Database
from fursa.shared.messaging.consumer import EventConsumer, Handler
from fursa.shared.messaging.outbox import Transaction, UnitOfWork
from fursa.shared.messaging.streams import ConsumerSpec, StreamSpec
from fursa.shared.messaging.tables import KernelTables, kernel_tables
from fursa.shared.testing.builders import learner_enrolled

LEARNER_ENROLLED = "fursa.enrollment.learner-enrolled.v1"
STREAM = StreamSpec(name="ENROLLMENT", subjects=("fursa.enrollment.>",))
CONSUMER = ConsumerSpec("kerneltest", "ENROLLMENT", (LEARNER_ENROLLED,), max_deliver=3)


class KernelService:
    """The kernel wired as a service would wire it, with an ``effect`` table to count effects."""

    def __init__(self, db: Database, tables: KernelTables, effect: Table) -> None:
        self.db = db
        self.tables = tables
        self.effect = effect
        self.uow = UnitOfWork(db, tables, source="fursa/enrollment")

    async def enroll(self, n: int, *, fail: bool = False) -> None:
        """One state change and its event in one transaction; ``fail`` raises before commit."""
        async with self.uow.begin() as tx:
            await tx.session.execute(self.effect.insert().values(key=f"enrolled-{n}"))
            await tx.emit(learner_enrolled(n), subject=f"enrollment-{n}", sequence=1)
            if fail:
                raise RuntimeError("crash before commit")

    async def count(self, table: Table) -> int:
        async with self.db.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )

    async def effects(self) -> int:
        return await self.count(self.effect)

    def consumer(self, handler: Handler | None = None, **kwargs: Any) -> EventConsumer:
        return EventConsumer(
            db=self.db,
            tables=self.tables,
            spec=CONSUMER,
            handlers={LEARNER_ENROLLED: handler or self.record_effect},
            source="fursa/training",
            **kwargs,
        )

    async def record_effect(self, tx: Transaction, event: CloudEvent[Any]) -> None:
        await tx.session.execute(self.effect.insert().values(key=f"applied-{event.id}"))


def effect_metadata() -> tuple[MetaData, KernelTables, Table]:
    """Kernel tables plus an ``effect`` table, on a metadata of their own."""
    metadata = MetaData()
    tables = kernel_tables(metadata)
    effect = Table(
        "effect",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(100), nullable=False),
    )
    return metadata, tables, effect


async def stream_count(js: JetStreamContext, stream: str = STREAM.name) -> int:
    info = await js.stream_info(stream)
    return int(info.state.messages)


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool], timeout_s: float = 20
) -> None:
    """Poll ``condition`` until true; fail the test when it is not in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def acknowledged_through(js: JetStreamContext, spec: ConsumerSpec, stream_seq: int) -> bool:
    """Whether the durable consumer ``spec`` has had everything up to ``stream_seq`` (a
    published message's PubAck sequence) delivered and acknowledged.

    Not "nothing pending": the server counts a consumer's pending messages after it has stored
    and acknowledged a publish, asynchronously, so right after a publish the consumer can read
    as caught up before it has even been told of the message."""
    info = await js.consumer_info(spec.stream, spec.durable)
    return bool(info.ack_floor.stream_seq >= stream_seq and info.num_ack_pending == 0)

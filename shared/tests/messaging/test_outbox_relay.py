"""Guarantee 1, no lost events: state and event commit together; the relay publishes each once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy import func, select

from fursa.shared.messaging.relay import OutboxRelay
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import STREAM, KernelService, stream_count, wait_until

RELAY_PROCESS = Path(__file__).with_name("relay_process.py")


async def unsent(service: KernelService) -> int:
    outbox = service.tables.outbox
    async with service.db.connect() as connection:
        query = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        return int((await connection.execute(query)).scalar_one())


async def stream_event_ids(js: JetStreamContext, expected: int) -> list[str]:
    """Every message's CloudEvent id, read back with an ephemeral consumer."""
    sub = await js.pull_subscribe("fursa.enrollment.>", stream=STREAM.name)
    ids: list[str] = []
    while len(ids) < expected:
        for msg in await sub.fetch(500, timeout=5):
            ids.append(json.loads(msg.data)["id"])
            await msg.ack()
    await sub.unsubscribe()
    return ids


async def test_exception_before_commit_leaves_neither_row_nor_event(
    service: KernelService, relay: OutboxRelay, js: JetStreamContext
) -> None:
    for n in range(1000):
        with contextlib.suppress(RuntimeError):
            await service.enroll(n, fail=n % 2 == 1)

    outbox = service.tables.outbox
    async with service.db.connect() as connection:
        state = set((await connection.execute(select(service.effect.c.key))).scalars())
        events = set((await connection.execute(select(outbox.c.subject))).scalars())
    assert len(state) == 500
    # No orphans either way: every committed state change has its event and nothing more.
    assert {key.removeprefix("enrolled-") for key in state} == {
        subject.removeprefix("enrollment-") for subject in events
    }
    assert await relay.drain() == 500
    assert await stream_count(js) == 500
    assert await unsent(service) == 0


@pytest.mark.slow
async def test_relay_killed_mid_drain_publishes_every_row_exactly_once(
    service: KernelService, js: JetStreamContext, nats_server: NatsServer, database_url: str
) -> None:
    total = 5000
    for start in range(0, total, 500):
        async with service.uow.begin() as tx:
            for n in range(start, start + 500):
                await tx.emit(learner_enrolled(n), subject=f"enrollment-{n}", sequence=1)
    server_url = nats_server.url

    def start_relay() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, str(RELAY_PROCESS), database_url, server_url, "50"],
            stdout=subprocess.PIPE,
        )

    first = start_relay()
    deadline = time.monotonic() + 60
    while total - await unsent(service) < 300 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    first.kill()
    first.wait()
    sent_at_kill = total - await unsent(service)
    assert 0 < sent_at_kill < total, f"kill landed outside the drain ({sent_at_kill} sent)"

    second = start_relay()
    try:
        deadline = time.monotonic() + 120
        while await unsent(service) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        second.kill()
        second.wait()

    assert await unsent(service) == 0
    assert await stream_count(js) == total
    async with service.db.connect() as connection:
        outbox_ids = set(
            (await connection.execute(select(service.tables.outbox.c.event_id))).scalars()
        )
    stream_ids = await stream_event_ids(js, total)
    assert len(stream_ids) == total
    assert set(stream_ids) == outbox_ids


async def test_second_relay_waits_until_the_first_is_gone(
    service: KernelService, js: JetStreamContext
) -> None:
    first = OutboxRelay(service.db, service.tables, js, name="test", poll_interval_s=0.05)
    second = OutboxRelay(service.db, service.tables, js, name="test", poll_interval_s=0.05)
    first_task = asyncio.create_task(first.run())
    await asyncio.sleep(0.3)
    second_task = asyncio.create_task(second.run())
    try:
        await service.enroll(1)
        await wait_until(lambda: first.published == 1)
        await asyncio.sleep(0.3)
        assert second.published == 0

        first_task.cancel()
        await asyncio.gather(first_task, return_exceptions=True)
        await service.enroll(2)
        await wait_until(lambda: second.published == 1)
        assert await stream_count(js) == 2
    finally:
        second_task.cancel()
        await asyncio.gather(second_task, return_exceptions=True)


async def test_relay_wakes_on_commit_without_waiting_for_the_poll(
    service: KernelService, js: JetStreamContext
) -> None:
    relay = OutboxRelay(service.db, service.tables, js, name="test", poll_interval_s=60)
    service.uow.on_commit = relay.wake
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)
        await service.enroll(1)
        await wait_until(lambda: relay.published == 1, timeout_s=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_relay_never_hangs_on_a_lost_puback_and_publishes_once_the_broker_is_back(
    service: KernelService, js: JetStreamContext, nats_server: NatsServer, nats_client: NatsClient
) -> None:
    relay = OutboxRelay(service.db, service.tables, js, name="test", publish_timeout_s=0.5)
    for n in range(20):
        await service.enroll(n)
    nats_server.kill()
    with pytest.raises(RuntimeError, match="not acknowledged"):
        await asyncio.wait_for(relay.drain_once(), timeout=10)
    assert await unsent(service) == 20

    nats_server.restart()
    await wait_until(lambda: nats_client.is_connected)
    await wait_until(_drained(relay))
    assert await unsent(service) == 0
    assert await stream_count(js) == 20


def _drained(relay: OutboxRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            await relay.drain()
        except RuntimeError:
            return False
        return True

    return check


async def test_after_commit_runs_on_commit_and_never_after_a_rollback(
    service: KernelService,
) -> None:
    ran: list[str] = []

    async with service.uow.begin() as tx:
        tx.after_commit(lambda: ran.append("committed"))
        assert ran == []
    with contextlib.suppress(RuntimeError):
        async with service.uow.begin() as tx:
            tx.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("before commit")

    assert ran == ["committed"]

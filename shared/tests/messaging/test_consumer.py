"""Guarantees 2 and 3: effects happen once; a bad message never blocks the others."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
from nats.js import JetStreamContext

from fursa.shared.contracts import CloudEvent, new_event, to_json_bytes
from fursa.shared.messaging.consumer import EventConsumer, Unprocessable
from fursa.shared.messaging.deadletters import list_dead_letters
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import CONSUMER, KernelService, acknowledged_through, wait_until

SUBJECT = CONSUMER.subjects[0]


def enrolled(n: int, *, sequence: int = 1, subject: str | None = None) -> CloudEvent[Any]:
    return new_event(
        learner_enrolled(n),
        source="fursa/enrollment",
        subject=subject or f"enrollment-{n}",
        sequence=sequence,
    )


async def publish(js: JetStreamContext, payload: bytes, msg_id: str) -> int:
    """Publish and return the stream sequence the broker stored the message at."""
    ack = await js.publish(SUBJECT, payload, headers={"Nats-Msg-Id": msg_id})
    return int(ack.seq)


@asynccontextmanager
async def running(consumer: EventConsumer, js: JetStreamContext) -> AsyncIterator[None]:
    task = asyncio.create_task(consumer.run(js))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def pending_only(js: JetStreamContext) -> bool:
    """Nothing awaits an ack (whatever is left waits to be fetched)."""
    info = await js.consumer_info(CONSUMER.stream, CONSUMER.durable)
    return info.num_ack_pending == 0


async def test_redelivered_event_has_one_effect(
    service: KernelService, js: JetStreamContext
) -> None:
    event = enrolled(1)
    # Two copies with different message ids get past the stream's duplicate window, as a
    # republish after the window has passed would.
    await publish(js, to_json_bytes(event), "copy-1")
    await publish(js, to_json_bytes(event), "copy-2")
    last = await publish(js, to_json_bytes(enrolled(2)), "other")
    consumer = service.consumer()
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert await service.effects() == 2
    assert consumer.stats.duplicates == 1


async def test_same_delivery_in_two_batches_has_one_effect(
    service: KernelService, js: JetStreamContext
) -> None:
    await publish(js, to_json_bytes(enrolled(1)), "once")
    consumer = service.consumer()
    sub = await js.pull_subscribe_bind(durable=CONSUMER.durable, stream=CONSUMER.stream)
    [msg] = await sub.fetch(1, timeout=5)
    await consumer.process([msg])
    await consumer.process([msg])
    assert await service.effects() == 1


async def test_poison_messages_are_dead_lettered_and_never_block(
    service: KernelService, js: JetStreamContext
) -> None:
    poison_events = [enrolled(n) for n in (5000, 5001)]
    rejected = {event.id for event in poison_events}

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        if event.id in rejected:
            raise Unprocessable("the programme has no such center")
        await service.record_effect(tx, event)

    good_event = json.loads(to_json_bytes(enrolled(9999)))
    poison = [
        b"not json at all",
        b"\xff\xfe binary",
        b"{}",
        b"[1, 2, 3]",
        json.dumps({**good_event, "data": {"learner_id": 42}}).encode(),
        json.dumps({**good_event, "type": "fursa.enrollment.no-such-event.v1"}).encode(),
        json.dumps({**good_event, "specversion": "0.3"}).encode(),
        json.dumps({k: v for k, v in good_event.items() if k != "id"}).encode(),
        *(to_json_bytes(event) for event in poison_events),
    ]
    assert len(poison) == 10
    positions = {n * 100 + 7: bad for n, bad in enumerate(poison)}
    for n in range(1000):
        if n in positions:
            await publish(js, positions[n], f"poison-{n}")
        last = await publish(js, to_json_bytes(enrolled(n)), f"good-{n}")

    consumer = service.consumer(handler)
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last), timeout_s=60)

    assert await service.effects() == 1000
    dead = await list_dead_letters(service.db, service.tables)
    assert len(dead) == 10
    assert {d.event_id for d in dead if d.event_id} == rejected
    assert all(d.consumer == CONSUMER.durable and d.deliveries == 1 for d in dead)


async def test_message_that_keeps_failing_is_dead_lettered_on_its_last_delivery(
    service: KernelService, js: JetStreamContext
) -> None:
    failing = enrolled(3)
    calls = 0
    broken = True

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        nonlocal calls
        if event.id == failing.id and broken:
            calls += 1
            raise ConnectionError("the SMS gateway is down")
        await service.record_effect(tx, event)

    for n in range(10):
        event = failing if n == 3 else enrolled(n)
        last = await publish(js, to_json_bytes(event), event.id)

    consumer = service.consumer(handler, retry_delays_s=(0.05,))
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))

    # Tried on every delivery (twice each: the batch runs again with savepoints after a
    # failure), retried until the last, then dead-lettered.
    assert calls == 2 * CONSUMER.max_deliver
    assert consumer.stats.retried == CONSUMER.max_deliver - 1
    assert await service.effects() == 9
    [dead] = await list_dead_letters(service.db, service.tables)
    assert dead.event_id == failing.id
    assert dead.deliveries == CONSUMER.max_deliver
    assert "ConnectionError: the SMS gateway is down" in dead.error

    broken = False
    replayed = await consumer.replay(dead.id)
    assert replayed.id == failing.id
    assert await service.effects() == 10
    assert await list_dead_letters(service.db, service.tables) == []
    with pytest.raises(LookupError):
        await consumer.replay(dead.id)


async def test_failed_event_holds_back_later_events_of_the_same_learner(
    service: KernelService, js: JetStreamContext
) -> None:
    first = enrolled(1, sequence=1, subject="enrollment-x")
    second = enrolled(2, sequence=2, subject="enrollment-x")
    attempts = 0
    order: list[str] = []

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        nonlocal attempts
        # Fails on its first delivery: in the batch's first pass and in its careful one.
        if event.id == first.id and attempts < 2:
            attempts += 1
            raise TimeoutError("database busy")
        order.append(event.id)
        await service.record_effect(tx, event)

    await publish(js, to_json_bytes(first), first.id)
    last = await publish(js, to_json_bytes(second), second.id)
    consumer = service.consumer(handler, retry_delays_s=(0.05,))
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert order == [first.id, second.id]
    assert consumer.stats.held_back >= 1


async def test_later_event_fetched_while_a_failed_one_waits_to_retry_waits_behind_it(
    service: KernelService, js: JetStreamContext
) -> None:
    """The failed event's retry delay outlasts the next fetch: the later event, in a batch of
    its own, must not overtake it (the failed one would then come back stale and be lost)."""
    first = enrolled(1, sequence=1, subject="enrollment-x")
    second = enrolled(2, sequence=2, subject="enrollment-x")
    broken = True
    order: list[str] = []

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        if event.id == first.id and broken:
            raise LookupError("the learner is not known yet")
        order.append(event.id)
        await service.record_effect(tx, event)

    consumer = service.consumer(handler, retry_delays_s=(0.5,))
    async with running(consumer, js):
        await publish(js, to_json_bytes(first), first.id)
        await wait_until(lambda: consumer.stats.retried == 1)
        last = await publish(js, to_json_bytes(second), second.id)
        await wait_until(lambda: consumer.stats.held_back >= 1)
        broken = False
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert order == [first.id, second.id]
    assert await service.effects() == 2
    assert consumer.stats.stale == 0


async def test_dead_lettered_event_lets_the_events_waiting_behind_it_through(
    service: KernelService, js: JetStreamContext
) -> None:
    failing = enrolled(1, sequence=1, subject="enrollment-x")
    later = enrolled(2, sequence=2, subject="enrollment-x")

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        if event.id == failing.id:
            raise ConnectionError("the SMS gateway is down")
        await service.record_effect(tx, event)

    consumer = service.consumer(handler, retry_delays_s=(0.05,))
    async with running(consumer, js):
        await publish(js, to_json_bytes(failing), failing.id)
        await wait_until(lambda: consumer.stats.retried == 1)
        last = await publish(js, to_json_bytes(later), later.id)
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    [dead] = await list_dead_letters(service.db, service.tables)
    assert dead.event_id == failing.id
    assert await service.effects() == 1
    assert consumer.stats.held_back >= 1


async def test_event_older_than_a_held_one_is_applied_at_once(
    service: KernelService, js: JetStreamContext
) -> None:
    held = enrolled(1, sequence=2, subject="enrollment-x")
    older = enrolled(2, sequence=1, subject="enrollment-x")
    broken = True
    order: list[str] = []

    async def handler(tx: Transaction, event: CloudEvent[Any]) -> None:
        if event.id == held.id and broken:
            raise TimeoutError("database busy")
        order.append(event.id)
        await service.record_effect(tx, event)

    consumer = service.consumer(handler, retry_delays_s=(0.3,))
    async with running(consumer, js):
        await publish(js, to_json_bytes(held), held.id)
        await wait_until(lambda: consumer.stats.retried == 1)
        last = await publish(js, to_json_bytes(older), older.id)
        await wait_until(lambda: order == [older.id])
        broken = False
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert order == [older.id, held.id]
    assert consumer.stats.held_back == 0


async def test_event_older_than_what_was_applied_is_ignored(
    service: KernelService, js: JetStreamContext
) -> None:
    newer = enrolled(1, sequence=2, subject="enrollment-x")
    older = enrolled(2, sequence=1, subject="enrollment-x")
    await publish(js, to_json_bytes(newer), newer.id)
    last = await publish(js, to_json_bytes(older), older.id)
    consumer = service.consumer()
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert await service.effects() == 1
    assert consumer.stats.stale == 1


async def test_backlog_is_applied_in_full_batches(
    service: KernelService, js: JetStreamContext
) -> None:
    for n in range(250):
        await js.publish_async(
            SUBJECT, to_json_bytes(enrolled(n)), headers={"Nats-Msg-Id": f"b{n}"}
        )
    last = (
        await js.publish(SUBJECT, to_json_bytes(enrolled(250)), headers={"Nats-Msg-Id": "b250"})
    ).seq
    consumer = service.consumer(batch_size=100)
    async with running(consumer, js):
        await wait_until(partial(acknowledged_through, js, CONSUMER, last))
    assert await service.effects() == 251
    # One message, then the rest of a batch that its metadata said was waiting: 100 + 100 + 51.
    assert consumer.stats.batches == 3


async def test_stop_finishes_the_fetch_in_flight_and_acks_it(
    service: KernelService, js: JetStreamContext
) -> None:
    consumer = service.consumer()
    task = asyncio.create_task(consumer.run(js))
    await asyncio.sleep(0.2)  # the consumer now waits in a fetch
    consumer.stop()
    await publish(js, to_json_bytes(enrolled(1)), "during-stop")
    await asyncio.wait_for(task, timeout=10)
    # Whatever the fetch in flight got was applied and acked, not left to ack_wait (30 s):
    # the server takes the ack in a moment (acks are not confirmed to the client).
    await wait_until(lambda: pending_only(js), timeout_s=5)
    info = await js.consumer_info(CONSUMER.stream, CONSUMER.durable)
    assert await service.effects() + info.num_pending == 1

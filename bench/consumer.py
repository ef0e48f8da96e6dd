"""What the consumer's guarantees cost: events applied through ``EventConsumer.apply_batch``
beside the same handler's work done bare, in the same run, on the same database.

Both apply N learner-enrolled events (each of its own aggregate, as a backlog arrives) in
transactions of ``--batch`` events, and the handler inserts one row per event. The consumer
adds what makes effects happen once and in order: parsing and validating the CloudEvent, the
inbox row, the aggregate's applied position, a savepoint per event and a span. The baseline
inserts the same rows in the same transactions and nothing else — the floor the database
itself sets. No broker is involved: this isolates the per-event bookkeeping that the pipeline
pays six times per learner.

Usage: python bench/consumer.py [--events 5000] [--batch 200] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from relay import database

from fursa.shared.contracts import new_event, to_json_bytes
from fursa.shared.db import Database
from fursa.shared.messaging.consumer import Delivery
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import LEARNER_ENROLLED, KernelService, effect_metadata


def deliveries(events: int) -> list[Delivery]:
    return [
        Delivery(
            nats_subject=LEARNER_ENROLLED,
            headers={},
            payload=to_json_bytes(
                new_event(
                    learner_enrolled(n),
                    source="fursa/enrollment",
                    subject=f"enrollment-{n}",
                    sequence=1,
                )
            ),
            deliveries=1,
        )
        for n in range(events)
    ]


async def run(events: int, batch: int, database_url: str) -> dict[str, Any]:
    metadata, tables, effect = effect_metadata()
    db = Database(database_url, metadata)
    await db.create_all()
    service = KernelService(db, tables, effect)
    consumer = service.consumer()
    incoming = deliveries(events)
    try:
        started = time.perf_counter()
        for start in range(0, events, batch):
            async with db.transaction() as session:
                for n in range(start, min(start + batch, events)):
                    await session.execute(effect.insert().values(key=f"bare-{n}"))
        bare_s = time.perf_counter() - started

        started = time.perf_counter()
        for start in range(0, events, batch):
            outcomes = await consumer.apply_batch(incoming[start : start + batch])
            assert all(outcome.verdict.value == "ack" for outcome in outcomes)
        consumer_s = time.perf_counter() - started
        assert consumer.stats.applied == events, consumer.stats
    finally:
        await db.dispose()
    return {
        "events": events,
        "batch": batch,
        "consumer_events_per_s": round(events / consumer_s),
        "bare_inserts_per_s": round(events / bare_s),
        "ratio": round(bare_s / consumer_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with database(args.database) as url:
        result = asyncio.run(run(args.events, args.batch, url))
    print(
        f"consumer: {result['consumer_events_per_s']} events/s   bare handler inserts: "
        f"{result['bare_inserts_per_s']} rows/s   ratio {result['ratio']}  ({args.database})"
    )
    print(json.dumps({"database": args.database, **result}))


if __name__ == "__main__":
    main()

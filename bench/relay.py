"""Outbox relay publish rate beside raw nats-py JetStream publishing, in the same run.

Both publish the same N learner-enrolled events (same size, Nats-Msg-Id set) to a nats-server
with the project's JetStream settings (sync_interval: always). The raw baseline pipelines
``publish_async`` and awaits every PubAck, which is the most the broker allows a single client;
the relay does that too, plus reading the rows and marking them sent in the database.

Usage: python bench/relay.py [--rows 5000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import psycopg

from fursa.shared.contracts import new_event, to_json_bytes
from fursa.shared.db import Database
from fursa.shared.messaging.relay import OutboxRelay
from fursa.shared.messaging.streams import StreamSpec, Topology, provision
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.fixtures import PG_ADMIN_URL
from fursa.shared.testing.kernel import KernelService, effect_metadata


async def raw_publish(js: nats.js.JetStreamContext, payloads: list[bytes]) -> float:
    """Seconds to publish ``payloads`` pipelined and receive every PubAck."""
    started = time.perf_counter()
    futures = [
        await js.publish_async("raw.learner-enrolled", payload, headers={"Nats-Msg-Id": f"raw-{i}"})
        for i, payload in enumerate(payloads)
    ]
    await asyncio.gather(*futures)
    return time.perf_counter() - started


async def run(rows: int, database_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        server = NatsServer(Path(workdir) / "nats").start()
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream()
            await provision(
                js,
                Topology(
                    streams=[
                        StreamSpec("ENROLLMENT", ("fursa.enrollment.>",)),
                        StreamSpec("RAW", ("raw.>",)),
                    ],
                    consumers=[],
                ),
            )
            metadata, tables, effect = effect_metadata()
            db = Database(database_url, metadata)
            await db.create_all()
            service = KernelService(db, tables, effect)
            for start in range(0, rows, 500):
                async with service.uow.begin() as tx:
                    for n in range(start, min(start + 500, rows)):
                        await tx.emit(learner_enrolled(n), subject=f"enrollment-{n}", sequence=1)
            payloads = [
                to_json_bytes(
                    new_event(
                        learner_enrolled(n), source="fursa/enrollment", subject="x", sequence=1
                    )
                )
                for n in range(rows)
            ]
            raw_s = await raw_publish(js, payloads)
            relay = OutboxRelay(db, tables, js, name="bench", batch_size=500)
            started = time.perf_counter()
            published = await relay.drain()
            relay_s = time.perf_counter() - started
            assert published == rows, f"relay published {published} of {rows}"
            await db.dispose()
        finally:
            await nc.close()
            server.stop()
    return {
        "rows": rows,
        "payload_bytes": len(payloads[0]),
        "relay_msgs_per_s": round(rows / relay_s),
        "raw_msgs_per_s": round(rows / raw_s),
        "ratio": round(raw_s / relay_s, 3),
    }


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database for one benchmark run: a SQLite file in a temporary folder, or a
    PostgreSQL database created for the run and dropped after it."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as workdir:
            yield f"sqlite:///{Path(workdir) / 'bench.db'}"
        return
    name = f"fursa_bench_{int(time.time())}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with database(args.database) as url:
        result = asyncio.run(run(args.rows, url))
    print(
        f"relay: {result['relay_msgs_per_s']} msgs/s   raw nats-py JetStream: "
        f"{result['raw_msgs_per_s']} msgs/s   ratio {result['ratio']}  ({args.database})"
    )
    print(json.dumps({"database": args.database, **result}))


if __name__ == "__main__":
    main()

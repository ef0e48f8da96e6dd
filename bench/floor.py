"""The same-work floor: the broker and database work a pipeline run measured, with no framework.

``bench/pipeline.py`` counts what the platform did for its learners — events published (each
one fsync with ``sync_interval: always``), deliveries pulled and acked, and per service the
SQL statements, rows written and transactions — then hands those totals here. The floor does
exactly that much with the bare drivers, in the benchmark's own process, on the same
nats-server and the same database server or files, and reports the CPU it took:

* JetStream (nats-py): ``published`` messages of the events' mean size, each with a
  ``Nats-Msg-Id`` (pipelined, every PubAck awaited, as the outbox relay does), on a stream
  with the platform's stream settings; then ``consumed`` deliveries pulled in batches and
  acked one by one, by as many durable pull consumers as it takes.
* SQL, per service (``sqlite3`` on a file beside the service's, with its pragmas: WAL,
  ``synchronous=FULL``, ``BEGIN IMMEDIATE`` for writes; or ``asyncpg`` on the service's
  PostgreSQL database): the transactions that wrote, each with its share of the reads and of
  the writes (INSERT … executemany of the rows written); then the reads outside them, in
  as many read transactions as the platform ended.

Statements the platform ran that are neither reads nor writes (BEGIN, SAVEPOINT, PRAGMA) are
what a driver does by itself and are not repeated one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.js import JetStreamContext

from fursa.shared.messaging.streams import StreamSpec, Topology, provision

FLOOR_STREAM = "BENCHFLOOR"
FETCH_BATCH = 100
PUBLISH_WINDOW = 256
# Rows the floor's tables hold before it starts, for its reads to find.
SEED_ROWS = 1_000
ROW_BODY = "x" * 200


@dataclass(frozen=True)
class SqlWork:
    """One service's SQL over the run: what its floor repeats."""

    write_transactions: int
    read_transactions: int
    reads_in_writes: int
    reads_elsewhere: int
    writes: int
    rows_written: int


def spread(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal whole shares."""
    if parts <= 0:
        return []
    share, extra = divmod(total, parts)
    return [share + (1 if n < extra else 0) for n in range(parts)]


async def broker_floor(
    nats_url: str, user: str, password: str, *, published: int, consumed: int, size: int
) -> float:
    """CPU seconds of this process to publish ``published`` and pull and ack ``consumed``."""
    nc = await nats.connect(nats_url, user=user, password=password)
    try:
        js = nc.jetstream()
        await provision(
            js, Topology(streams=[StreamSpec(FLOOR_STREAM, ("benchfloor.>",))], consumers=[])
        )
        readers = max(1, math.ceil(consumed / max(published, 1)))
        subs = [
            await js.pull_subscribe("benchfloor.>", durable=f"floor{n}", stream=FLOOR_STREAM)
            for n in range(readers)
        ]
        payload = b"x" * size
        started = time.process_time()
        await _publish(js, published, payload)
        for sub, share in zip(subs, spread(consumed, readers), strict=True):
            seen = 0
            while seen < share:
                for msg in await sub.fetch(min(FETCH_BATCH, share - seen), timeout=10):
                    await msg.ack()
                    seen += 1
        spent = time.process_time() - started
        await js.delete_stream(FLOOR_STREAM)
        return spent
    finally:
        await nc.close()


async def _publish(js: JetStreamContext, count: int, payload: bytes) -> None:
    for start in range(0, count, PUBLISH_WINDOW):
        acks = [
            await js.publish_async(
                "benchfloor.event", payload, headers={"Nats-Msg-Id": f"floor-{n}"}
            )
            for n in range(start, min(count, start + PUBLISH_WINDOW))
        ]
        await asyncio.gather(*acks)


def sqlite_floor(path: Path, work: SqlWork) -> float:
    """CPU seconds of this process to do ``work`` with ``sqlite3`` on a new file ``path``."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("CREATE TABLE row_ (id INTEGER PRIMARY KEY, k TEXT NOT NULL, body TEXT)")
        db.execute("CREATE INDEX row_k ON row_ (k)")
        db.executemany(
            "INSERT INTO row_ (k, body) VALUES (?, ?)",
            ((f"seed-{n}", ROW_BODY) for n in range(SEED_ROWS)),
        )
        select = "SELECT id, k, body FROM row_ WHERE id = ?"
        insert = "INSERT INTO row_ (k, body) VALUES (?, ?)"
        started = time.process_time()
        key = 0
        reads = spread(work.reads_in_writes, work.write_transactions)
        writes = spread(work.writes, work.write_transactions)
        rows = spread(work.rows_written, work.writes)
        statement = 0
        for transaction in range(work.write_transactions):
            db.execute("BEGIN IMMEDIATE")
            for n in range(reads[transaction]):
                db.execute(select, (1 + (transaction + n) % SEED_ROWS,)).fetchall()
            for _ in range(writes[transaction]):
                batch = rows[statement]
                statement += 1
                db.executemany(insert, ((f"k-{key + n}", ROW_BODY) for n in range(batch)))
                key += batch
            db.execute("COMMIT")
        reads = spread(work.reads_elsewhere, work.read_transactions)
        for transaction in range(work.read_transactions):
            db.execute("BEGIN")
            for n in range(reads[transaction]):
                db.execute(select, (1 + (transaction + n) % SEED_ROWS,)).fetchall()
            db.execute("COMMIT")
        return time.process_time() - started
    finally:
        db.close()


async def postgres_floor(url: str, work: SqlWork) -> float:
    """CPU seconds of this process to do ``work`` with ``asyncpg`` in database ``url``."""
    import asyncpg  # only the PostgreSQL variant needs it

    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "CREATE TABLE bench_floor (id BIGSERIAL PRIMARY KEY, k TEXT NOT NULL, body TEXT)"
        )
        await db.execute("CREATE INDEX bench_floor_k ON bench_floor (k)")
        await db.executemany(
            "INSERT INTO bench_floor (k, body) VALUES ($1, $2)",
            [(f"seed-{n}", ROW_BODY) for n in range(SEED_ROWS)],
        )
        select = "SELECT id, k, body FROM bench_floor WHERE id = $1"
        insert = "INSERT INTO bench_floor (k, body) VALUES ($1, $2)"
        started = time.process_time()
        key = 0
        reads = spread(work.reads_in_writes, work.write_transactions)
        writes = spread(work.writes, work.write_transactions)
        rows = spread(work.rows_written, work.writes)
        statement = 0
        for transaction in range(work.write_transactions):
            async with db.transaction():
                for n in range(reads[transaction]):
                    await db.fetch(select, 1 + (transaction + n) % SEED_ROWS)
                for _ in range(writes[transaction]):
                    batch = rows[statement]
                    statement += 1
                    await db.executemany(insert, [(f"k-{key + n}", ROW_BODY) for n in range(batch)])
                    key += batch
        reads = spread(work.reads_elsewhere, work.read_transactions)
        for transaction in range(work.read_transactions):
            async with db.transaction():
                for n in range(reads[transaction]):
                    await db.fetch(select, 1 + (transaction + n) % SEED_ROWS)
        spent = time.process_time() - started
        with contextlib.suppress(Exception):
            await db.execute("DROP TABLE bench_floor")
        return spent
    finally:
        await db.close()

"""The SQLite connection the services use: statements on the event loop's thread, waiting on
the connection's own thread; upserts compiled once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Insert, MetaData, event, text
from sqlmodel import Field, col, select

from fursa.shared.db import (
    Database,
    InsertOf,
    LoopSideConnection,
    Upsert,
    placeholders,
    service_base,
    sqlite_url,
)


async def test_statements_run_on_the_loop_and_what_may_wait_on_the_connections_thread(
    tmp_path: Path,
) -> None:
    db = Database(sqlite_url(tmp_path / "service.db"), MetaData())
    ran_on: dict[tuple[str, str], set[int]] = {}

    def tracing(engine: str) -> Any:
        def trace(dbapi_connection: Any, _record: Any) -> None:
            connection = dbapi_connection.driver_connection
            assert isinstance(connection, LoopSideConnection)
            connection._conn.set_trace_callback(
                lambda sql: ran_on.setdefault((engine, sql), set()).add(threading.get_ident())
            )

        return trace

    event.listen(db.engine.sync_engine, "connect", tracing("writer"))
    event.listen(db.read_engine.sync_engine, "connect", tracing("reader"))
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE place (n INTEGER)"))
            await session.execute(text("INSERT INTO place VALUES (1)"))
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO place VALUES (2)"))
            await session.rollback()
        async with db.read() as session:
            assert (await session.execute(text("SELECT n FROM place"))).scalar_one() == 1
    finally:
        await db.dispose()

    loop = {threading.get_ident()}
    assert ran_on["writer", "INSERT INTO place VALUES (1)"] == loop
    assert ran_on["reader", "SELECT n FROM place"] == loop
    assert ran_on["reader", "BEGIN"] == loop  # a reader's deferred BEGIN never waits
    assert ran_on["reader", "COMMIT"] == loop  # it wrote nothing: nothing to fsync
    assert ran_on["writer", "ROLLBACK"] == loop  # WAL: the transaction's frames are dropped
    assert ran_on["writer", "BEGIN IMMEDIATE"] == loop  # no other process held the lock
    assert loop.isdisjoint(ran_on["writer", "COMMIT"])  # the fsync


async def test_a_write_lock_another_process_holds_is_waited_for_off_the_loop(
    tmp_path: Path,
) -> None:
    """Taking the write lock never blocks the event loop: held elsewhere (here by a connection
    of its own, as another process would), it is waited for on the connection's thread while
    the loop goes on, and taken as soon as it is released."""
    path = tmp_path / "service.db"
    db = Database(sqlite_url(path), MetaData())
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE place (n INTEGER)"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def write() -> None:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO place VALUES (1)"))

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    writing = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.3)
        assert not writing.done()
        assert ticks >= 10  # the loop kept going while the writer waited
        other.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=10)
        async with db.read() as session:
            assert (await session.execute(text("SELECT n FROM place"))).scalar_one() == 1
    finally:
        ticker.cancel()
        other.close()
        await db.dispose()


class Tally(service_base("tally_test"), table=True):  # type: ignore[misc]
    """A counter per name, stamped with its last count's time."""

    name: str = Field(primary_key=True, max_length=40)
    count: int
    counted_at: datetime = Field(sa_type=DateTime(timezone=True))


def _count(insert: InsertOf) -> Insert:
    statement = insert(Tally).values(placeholders(Tally))
    return statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"count": col(Tally.count) + 1, "counted_at": statement.excluded.counted_at},
        where=col(Tally.counted_at) < statement.excluded.counted_at,
    ).returning(col(Tally.count))


COUNT = Upsert(_count)
FIRST_ONLY = Upsert(
    lambda insert: (
        insert(Tally)
        .values(placeholders(Tally))
        .on_conflict_do_nothing()
        .returning(col(Tally.name))
    )
)


async def test_an_upsert_runs_on_either_database_and_is_compiled_once(database_url: str) -> None:
    db = Database(database_url, Tally.metadata)
    compiled: list[Any] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, _sql, _params, context, _many: compiled.append(context.compiled),
    )
    start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    try:
        await db.create_all()
        counts = []
        for minutes in (0, 5, 3, 9):  # the count at +3 min is older than the one kept: no update
            async with db.transaction() as session:
                at = start + timedelta(minutes=minutes)
                result = await COUNT.execute(session, name="sessions", count=1, counted_at=at)
                counts.append(result.scalar_one_or_none())
        async with db.transaction() as session:
            again = await FIRST_ONLY.execute(session, name="sessions", count=7, counted_at=start)
            assert again.first() is None
        async with db.read() as session:
            kept = (await session.exec(select(Tally))).one()
    finally:
        await db.dispose()

    assert counts == [1, 2, None, 3]
    # Typed parameters: the time is stored as the ORM stores it (SQLite: text without offset,
    # which the services' UtcDateTime reads back as UTC).
    counted_at = kept.counted_at
    if counted_at.tzinfo is None:
        counted_at = counted_at.replace(tzinfo=UTC)
    assert (kept.count, counted_at) == (3, start + timedelta(minutes=9))
    upserts = [c for c in compiled if c is not None and "ON CONFLICT" in str(c)]
    assert len(upserts) == 5
    assert len({id(c) for c in upserts if "DO UPDATE" in str(c)}) == 1  # compiled once

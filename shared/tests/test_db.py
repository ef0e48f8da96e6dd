"""The SQLite connection the services use: statements on the event loop's thread, waiting on
the connection's own thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, text

from fursa.shared.db import Database, LoopSideConnection, sqlite_url


async def test_statements_run_on_the_loop_and_what_may_wait_on_the_connections_thread(
    tmp_path: Path,
) -> None:
    db = Database(sqlite_url(tmp_path / "service.db"), MetaData())
    ran_on: dict[str, set[int]] = {}

    def trace(dbapi_connection: Any, _record: Any) -> None:
        connection = dbapi_connection.driver_connection
        assert isinstance(connection, LoopSideConnection)
        connection._conn.set_trace_callback(
            lambda sql: ran_on.setdefault(sql, set()).add(threading.get_ident())
        )

    for engine in (db.engine, db.read_engine):
        event.listen(engine.sync_engine, "connect", trace)
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE place (n INTEGER)"))
            await session.execute(text("INSERT INTO place VALUES (1)"))
        async with db.read() as session:
            assert (await session.execute(text("SELECT n FROM place"))).scalar_one() == 1
    finally:
        await db.dispose()

    loop = {threading.get_ident()}
    assert ran_on["INSERT INTO place VALUES (1)"] == loop
    assert ran_on["SELECT n FROM place"] == loop
    assert ran_on["BEGIN"] == loop  # a reader's deferred BEGIN never waits
    assert loop.isdisjoint(ran_on["BEGIN IMMEDIATE"])  # may wait for another process's lock
    assert loop.isdisjoint(ran_on["COMMIT"])  # the fsync

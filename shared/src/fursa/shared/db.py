"""Database access shared by every service: one async engine per service database.

SQLite (the embedded default) and PostgreSQL (production) are both reached by URL.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE``: the API, the outbox relay
and the consumers all write, and a deferred transaction that upgrades from read to write fails
with SQLITE_BUSY whatever the busy timeout (SQLAlchemy's documented pysqlite recipe, applied to
aiosqlite). Writers of one process also queue on an asyncio lock, in arrival order, instead of
meeting in SQLite's busy handler, which sleeps up to 100 ms between attempts. Reads go through
:meth:`Database.read` on a second engine with plain deferred transactions: in WAL mode they
never wait for a writer and never make one wait.

SQLite statements run on the event loop's own thread (:class:`LoopSideConnection`): they are
B-tree work in memory, a few microseconds each, and sending every one to aiosqlite's thread
and back cost ten times that in CPU (more than half of what each statement cost through
SQLAlchemy). What
may wait goes to the thread as before: ``BEGIN IMMEDIATE`` (the write lock another process may
hold), ``COMMIT`` (the fsync), ``ROLLBACK`` and closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite
from sqlalchemy import (
    BindParameter,
    DateTime,
    Dialect,
    Executable,
    Insert,
    MetaData,
    Result,
    bindparam,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.asyncio import async_sessionmaker as sessionmaker
from sqlalchemy.orm import Mapper, registry
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.clock import as_utc

SQLITE_BUSY_TIMEOUT_MS = 30_000

INT64_MAX = 2**63 - 1
"""The largest integer a database column holds (SQLite's INTEGER, PostgreSQL's BIGINT): the
upper bound of every id or offset an API accepts, so a larger one is a 422, not an overflow."""


class UtcDateTime(TypeDecorator[datetime]):
    """Every instant a service stores: written in UTC, read back timezone-aware (UTC).

    SQLite keeps no offset and hands back naive datetimes; PostgreSQL's ``timestamptz`` gives
    them back aware. With this type every instant read from either is aware, so whatever a
    service emits from it (JSON, events, exports) is RFC 3339 with its offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # What SQLite returns without an offset was written in UTC (process_bind_param).
        return None if value is None else as_utc(value)


# What runs on the event loop's thread: opening cursors, statements and fetching rows, closing
# a cursor, rolling back (in WAL mode that discards the transaction's frames: no I/O, no lock
# to wait for), a reader's commit (it wrote nothing) and taking the write lock when it is free.
# Everything else runs on the connection's thread: a writer's commit (the fsync), closing the
# connection, a backup, and waiting for the write lock while another process holds it. Each
# trip to that thread and back costs the event loop more than a small statement does.
_LOOP_SIDE_CALLS = frozenset(
    {"cursor", "execute", "executemany", "fetchone", "fetchmany", "fetchall", "rollback"}
)
_WAITING_STATEMENTS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class LoopSideConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the event loop's thread; only calls
    that may wait (see the module's docstring) are sent to its own thread.

    One connection is never used by two callers at once (the pool hands it to one session),
    and each caller awaits the threaded calls, so the connection is used by one thread at a
    time (``check_same_thread=False``, as SQLAlchemy already sets for file databases).
    """

    # Whether this connection only reads (the read engine's): its commits write nothing.
    reader = False

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if _waits(fn, args, reader=self.reader):
            if _takes_write_lock(args):
                taken, result = self._lock_at_once(fn, args, kwargs)
                if taken:
                    return result
            threaded = cast(Callable[..., Awaitable[Any]], super()._execute)
            return await threaded(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    def _lock_at_once(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[bool, Any]:
        """Take the write lock here if no other process holds it: ``(False, None)`` at once
        if one does (the caller then waits for it on the connection's thread)."""
        connection = self._conn
        connection.execute("PRAGMA busy_timeout=0")
        try:
            return True, fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            return False, None
        finally:
            connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _takes_write_lock(args: tuple[Any, ...]) -> bool:
    statement = args[0] if args and isinstance(args[0], str) else ""
    return statement.lstrip().upper().startswith(_WAITING_STATEMENTS)


def _waits(fn: Callable[..., Any], args: tuple[Any, ...], *, reader: bool = False) -> bool:
    name = getattr(fn, "__name__", "")
    if name == "commit":
        return not reader
    if name == "close":
        return not isinstance(getattr(fn, "__self__", None), sqlite3.Cursor)
    if name not in _LOOP_SIDE_CALLS:
        return True
    return _takes_write_lock(args)


def _loop_side_connector(
    url: URL, *, reader: bool = False
) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """SQLAlchemy's ``async_creator`` for ``url``: the connection it would open, loop-side
    (``reader``: for the engine that only reads)."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(url)

    async def connect() -> aiosqlite.Connection:
        connection = LoopSideConnection(
            functools.partial(sqlite3.connect, *args, **options), iter_chunk_size=64
        )
        connection.reader = reader
        # As SQLAlchemy does for its own aiosqlite connections: never keep the process alive.
        connection._thread.daemon = True
        return await connection

    return connect


def async_url(url: str) -> URL:
    """Turn a plain database URL into the async driver's URL (aiosqlite or asyncpg)."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite database file."""
    return f"sqlite+aiosqlite:///{path}"


def _use_wal(path: Path) -> None:
    """Put the database file in WAL mode once, before any pooled connection exists.

    The mode is stored in the file. Switching needs an exclusive lock, and two connections
    switching at once fail with "database is locked" without waiting for the busy timeout.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _configure_sqlite(engine: AsyncEngine, synchronous: str, *, writer: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's BEGIN below be the only transaction control (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class Database:
    """One service's database: an async engine, sessions and the service's own metadata."""

    def __init__(
        self,
        url: str,
        metadata: MetaData,
        *,
        pool_size: int = 10,
        sqlite_synchronous: str = "FULL",
    ) -> None:
        self.url = async_url(url)
        self.metadata = metadata
        kwargs: dict[str, Any] = {}
        if self.sqlite_path is not None:
            _use_wal(self.sqlite_path)
        if not self.is_sqlite:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        if self.is_sqlite:
            kwargs.update(async_creator=_loop_side_connector(self.url))
        # SQL errors must never carry row values (names, phones) into logs or dead letters.
        self.engine = create_async_engine(self.url, hide_parameters=True, **kwargs)
        self.read_engine = self.engine
        self._write_lock: asyncio.Lock | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine, sqlite_synchronous, writer=True)
            kwargs.update(async_creator=_loop_side_connector(self.url, reader=True))
            self.read_engine = create_async_engine(self.url, hide_parameters=True, **kwargs)
            _configure_sqlite(self.read_engine, sqlite_synchronous, writer=False)
            self._write_lock = asyncio.Lock()
        self._sessions = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.read_engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, for SQLite databases stored in a file."""
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            return Path(self.url.database)
        return None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back on an exception."""
        async with self._writing(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
        else:
            async with self._write_lock:
                yield

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: one consistent snapshot, never waiting for writers."""
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading (the relay's scan, counts, listings)."""
        async with self.read_engine.connect() as connection:
            yield connection

    async def create_all(self) -> None:
        """Create the service's tables (tests and the embedded platform before migrations)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(self.metadata.create_all)

    async def ping(self) -> bool:
        """Whether the database answers (used by /readyz)."""
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


InsertOf = Callable[[type[SQLModel]], postgresql.Insert | sqlite.Insert]
"""``insert(model)`` in the dialect that can say ON CONFLICT (SQLite's or PostgreSQL's)."""


def placeholders(model: type[SQLModel]) -> dict[str, BindParameter[Any]]:
    """A named placeholder for each of ``model``'s columns, for :class:`Upsert` values."""
    columns = cast("Mapper[Any]", inspect(model)).columns
    return {column.name: bindparam(column.name) for column in columns}


class Upsert:
    """An INSERT … ON CONFLICT statement, compiled once per database dialect.

    SQLite and PostgreSQL spell ``on_conflict_do_nothing``/``on_conflict_do_update`` the same;
    an atomic upsert never fails on the key when two replicas race. But SQLAlchemy 2.0 gives
    those statements no cache key and compiles them again on every call: ~1 ms of CPU, three
    to five times what the statement then costs (bench/upsert.py). So ``build(insert)`` writes
    the statement once, its values as named :func:`~sqlalchemy.bindparam` placeholders; its
    first use on a dialect renders it into a textual statement with the same typed parameters
    (and RETURNING columns), which SQLAlchemy caches like any other.
    """

    def __init__(self, build: Callable[[InsertOf], Insert]) -> None:
        self._build = build
        self._textual: dict[str, Executable] = {}

    def _statement(self, dialect_name: str) -> Executable:
        textual = self._textual.get(dialect_name)
        if textual is None:
            textual = self._textual[dialect_name] = self._render(dialect_name)
        return textual

    def _render(self, dialect_name: str) -> Executable:
        # The dialects' generic forms in the named style: ``:name`` placeholders, which the
        # engine's own dialect (aiosqlite, asyncpg) turns into its own when it runs the text.
        dialects = {"postgresql": postgresql, "sqlite": sqlite}
        module = dialects[dialect_name]
        built = self._build(module.insert)
        compiled = built.compile(dialect=module.dialect(paramstyle="named"))
        textual = text(str(compiled)).bindparams(
            *(
                bindparam(name, param.value, type_=param.type, required=param.required)
                for param, name in compiled.bind_names.items()
            )
        )
        returning = list(built.exported_columns)
        return textual.columns(*returning) if returning else textual

    async def execute(self, session: AsyncSession, **values: Any) -> Result[Any]:
        """Run the upsert in ``session``'s transaction with ``values`` for its placeholders."""
        dialect_name = (await session.connection()).dialect.name
        return await session.execute(self._statement(dialect_name), values)


def service_base(name: str) -> type[SQLModel]:
    """A SQLModel base class with its own registry and metadata, one per service.

    SQLModel keeps one global metadata by default; two services' tables would meet in one
    process (tests) and in Alembic's autogenerate. Each service's models derive from its own base.
    """
    base: type[SQLModel] = types.new_class(
        f"{name.title()}Model", (SQLModel,), {"registry": registry()}
    )
    return base

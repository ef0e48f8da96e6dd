"""pytest fixtures with real servers: nats-server, SQLite files and PostgreSQL.

Loaded for every test by the repository's root ``conftest.py``. PostgreSQL tests run against
``FURSA_TEST_PG_URL`` (default 127.0.0.1:5432, trust auth); where no server answers they are
skipped with the reason printed — unless ``FURSA_REQUIRE_PG=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import nats
import psycopg
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.engine import make_url

from fursa.shared.auth import dev_authorization
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.migrations import upgrade
from fursa.shared.natsserver import NatsServer

# A service under test waits this long for its next event: a graceful stop lets that pull
# finish, so it is also what every test's teardown waits (the production default is 1 s).
FETCH_TIMEOUT_S = 0.02

# Databases cloned ahead of the tests that will take them: a clone takes 0.2–0.5 s, more than
# many tests do, so with one ready the next test still waited.
CLONED_AHEAD = 2

PG_ADMIN_URL = os.environ.get("FURSA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_unavailable_reason() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} unavailable: {exc}".strip()


def require_postgres() -> None:
    """Skip (or, with FURSA_REQUIRE_PG=1, fail) when no PostgreSQL server answers."""
    reason = _pg_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("FURSA_REQUIRE_PG") == "1":
        pytest.fail(f"FURSA_REQUIRE_PG=1 but {reason}")
    print(f"\nSKIP: {reason}")
    pytest.skip(reason)


class Templates:
    """Databases migrated once per test session and copied for each test that needs one.

    Running a service's Alembic history costs more than copying its result: a SQLite template
    is a file copied per test, a PostgreSQL template is cloned with ``CREATE DATABASE …
    TEMPLATE``. Each pytest-xdist worker has its own templates (the name carries a random part).

    Cloning and dropping a PostgreSQL database each wait about half a second on the server's
    disk flushes. Two threads of this worker do both while the tests run: when a test takes
    its database, the next tests' are cloned meanwhile (``CLONED_AHEAD``, from the same
    template), and a used database is dropped after the test, not during its teardown.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sqlite: dict[Path, Path] = {}
        self._postgres: dict[Path, str] = {}
        self._server = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pg-databases")
        self._cloned: dict[str, deque[Future[str]]] = {}

    def sqlite(self, migrations: Path) -> Path:
        if migrations not in self._sqlite:
            path = self.directory / f"{migrations.parent.name}.db"
            upgrade(migrations, f"sqlite:///{path}")
            self._sqlite[migrations] = path
        return self._sqlite[migrations]

    def postgres(self, migrations: Path) -> str:
        if migrations not in self._postgres:
            name = f"fursa_template_{migrations.parent.name}_{uuid.uuid4().hex[:8]}"
            _create_database(name)
            upgrade(migrations, _pg_url(name))
            self._postgres[migrations] = name
        return self._postgres[migrations]

    def postgres_database(self, migrations: Path | None) -> str:
        """A new database of the test's own: a clone of ``migrations``' template, or empty."""
        template = self.postgres(migrations) if migrations else None
        cloned = self._cloned.setdefault(template or "", deque())
        while len(cloned) <= CLONED_AHEAD:
            cloned.append(self._server.submit(_new_database, template))
        return cloned.popleft().result()

    def discard(self, database: str) -> None:
        """Drop a test's database once the thread gets to it."""
        self._server.submit(_drop_database, database)

    def drop(self) -> None:
        """Drop what was cloned ahead and the templates, once the thread has done the rest."""
        unused = [future for cloned in self._cloned.values() for future in cloned]
        self._server.shutdown(wait=True)
        for future in unused:
            if future.exception() is None:
                _drop_database(future.result())
        for name in self._postgres.values():
            _drop_database(name)


def _pg_url(database: str) -> str:
    url: str = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    return url


def _create_database(name: str, template: str | None = None) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        clone = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{clone}')


def _new_database(template: str | None) -> str:
    name = f"fursa_test_{uuid.uuid4().hex[:12]}"
    _create_database(name, template)
    return name


def _drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield templates
    finally:
        templates.drop()


@pytest.fixture
def migrations() -> Path | None:
    """The Alembic history of the service under test: its tests' databases start migrated to
    head (each service's conftest names its own). None: the database starts empty."""
    return None


@pytest.fixture
def postgres_url(migrations: Path | None, database_templates: Templates) -> Iterator[str]:
    """A fresh PostgreSQL database for this test (migrated, see ``migrations``), dropped
    afterwards."""
    require_postgres()
    name = database_templates.postgres_database(migrations)
    try:
        yield _pg_url(name)
    finally:
        database_templates.discard(name)


@pytest.fixture
def sqlite_url(tmp_path: Path, migrations: Path | None, database_templates: Templates) -> str:
    """A SQLite file of this test's own (migrated, see ``migrations``)."""
    path = tmp_path / "service.db"
    if migrations:
        shutil.copyfile(database_templates.sqlite(migrations), path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses this runs twice: on a SQLite file and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server (>= 2.11, JetStream, sync_interval always) on random ports, own store."""
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        # Its store is thrown away with the test's directory: nothing to shut down cleanly
        # (a graceful stop costs a tenth of a second per test).
        server.kill()


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with every stream and durable consumer provisioned, as ``fursa up`` does.

    A test's publish waits up to 30 s for its acknowledgement (nats-py's default is 5 s): the
    server fsyncs every write, and a fresh-clone run saw one fsync take longer than 5 s while
    the machine was installing packages beside it. The test's instrument, not what it tests."""
    context = nats_client.jetstream(timeout=30)
    await provision(context, Topology())
    return context


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """In-process HTTP to the running service ``app`` (each service's tests provide it).

    Requests carry an admin development token; a request's own ``Authorization`` replaces it.
    """
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://service", headers=dev_authorization()
    ) as http:
        yield http


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same running service, called without any token."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        yield http

"""pytest fixtures with real servers: nats-server, SQLite files and PostgreSQL.

Loaded for every test by the repository's root ``conftest.py``. PostgreSQL tests run against
``FURSA_TEST_PG_URL`` (default 127.0.0.1:5432, trust auth); where no server answers they are
skipped with the reason printed — unless ``FURSA_REQUIRE_PG=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
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
from fursa.shared.natsserver import NatsServer

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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    require_postgres()
    name = f"fursa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


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
        server.stop()


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with every stream and durable consumer provisioned, as ``fursa up`` does."""
    context = nats_client.jetstream()
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

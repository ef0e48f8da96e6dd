"""Fixtures for the kernel's tests: a small service on SQLite and PostgreSQL, and a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from fursa.shared.db import Database
from fursa.shared.messaging.relay import OutboxRelay
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.testing.kernel import CONSUMER, STREAM, KernelService, effect_metadata


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[KernelService]:
    metadata, tables, effect = effect_metadata()
    db = Database(database_url, metadata)
    await db.create_all()
    try:
        yield KernelService(db, tables, effect)
    finally:
        await db.dispose()


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    context = nats_client.jetstream()
    await provision(context, Topology(streams=[STREAM], consumers=[CONSUMER]))
    return context


@pytest.fixture
def relay(service: KernelService, js: JetStreamContext) -> OutboxRelay:
    return OutboxRelay(service.db, service.tables, js, name="test")

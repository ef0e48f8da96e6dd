"""The notify service running for real: its database, a nats-server, in-process HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from fursa.notify.app import create_app
from fursa.notify.settings import NotifySettings
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.natsserver import NatsServer


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with the platform's streams and durable consumers provisioned."""
    context = nats_client.jetstream()
    await provision(context, Topology())
    return context


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer, tmp_path: Path) -> NotifySettings:
    return NotifySettings(
        database_url=database_url,
        nats_url=nats_server.url,
        sink_dir=tmp_path / "notify-sink",
        retry_delays_s=(0.1,),
    )


@pytest.fixture
def app(settings: NotifySettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    """The running service (consumers, relay and API); streams are provisioned first."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://notify") as http,
    ):
        yield http

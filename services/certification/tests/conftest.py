"""The certification service running for real: its database, a nats-server, in-process HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from fursa.certification.app import create_app
from fursa.certification.settings import CertificationSettings
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.natsserver import NatsServer

PUBLIC_BASE_URL = "https://verify.fursa.test"


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with the platform's streams and durable consumers provisioned."""
    context = nats_client.jetstream()
    await provision(context, Topology())
    return context


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> CertificationSettings:
    return CertificationSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        public_base_url=PUBLIC_BASE_URL,
        retry_delays_s=(0.1,),
    )


@pytest.fixture
def app(settings: CertificationSettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    """The running service (consumers, relay and API); streams are provisioned first."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://certification"
        ) as http,
    ):
        yield http

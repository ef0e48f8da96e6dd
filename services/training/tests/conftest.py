"""The training service running for real: its database (SQLite and PostgreSQL), a provisioned
nats-server, and an HTTP client that drives the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from fursa.shared.contracts import CloudEvent, new_event, to_json_bytes
from fursa.shared.messaging.streams import CONSUMERS, LEARNER_ENROLLED, Topology, provision
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import wait_until
from fursa.training.app import create_app
from fursa.training.settings import TrainingSettings

CONSUMER = next(spec for spec in CONSUMERS if spec.service == "training")


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with every stream and durable consumer provisioned, as `fursa up` does."""
    context = nats_client.jetstream()
    await provision(context, Topology())
    return context


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> TrainingSettings:
    return TrainingSettings(
        database_url=database_url, nats_url=nats_server.url, retry_delays_s=(0.05,)
    )


@pytest.fixture
async def app(settings: TrainingSettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://training") as client:
        yield client


EventFactory = Callable[..., CloudEvent[Any]]
Deliver = Callable[..., Awaitable[None]]


@pytest.fixture
def enrolled() -> EventFactory:
    """The learner-enrolled event of the n-th test learner, as the enrollment service sends it."""

    def build(n: int, *, sequence: int = 1) -> CloudEvent[Any]:
        data = learner_enrolled(n)
        return new_event(data, subject=data.enrollment_id, sequence=sequence)

    return build


@pytest.fixture
def deliver(app: FastAPI, js: JetStreamContext) -> Deliver:
    """Publish learner-enrolled messages, each ``(event, message id)``, and wait until the
    training service has handled them all."""

    async def settled() -> bool:
        info = await js.consumer_info(CONSUMER.stream, CONSUMER.durable)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    async def deliver_all(*messages: tuple[CloudEvent[Any], str]) -> None:
        for event, msg_id in messages:
            payload = to_json_bytes(event)
            await js.publish(LEARNER_ENROLLED, payload, headers={"Nats-Msg-Id": msg_id})
        await wait_until(settled)

    return deliver_all


@pytest.fixture
def open_training(
    client: httpx.AsyncClient, enrolled: EventFactory, deliver: Deliver
) -> Callable[[int], Awaitable[dict[str, Any]]]:
    """Enroll the n-th test learner (an event on the stream); returns their opened training."""

    async def open_for(n: int) -> dict[str, Any]:
        event = enrolled(n)
        await deliver((event, event.id))
        response = await client.get("/trainings", params={"enrollment_id": event.subject})
        [training] = response.json()
        return dict(training)

    return open_for

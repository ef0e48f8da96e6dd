"""The enrollment service running for real: its database (SQLite and PostgreSQL), a provisioned
nats-server, and an HTTP client that drives the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from fursa.enrollment.app import create_app
from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.natsserver import NatsServer


@pytest.fixture
async def js(nats_client: NatsClient) -> JetStreamContext:
    """JetStream with every stream and durable consumer provisioned, as `fursa up` does."""
    context = nats_client.jetstream()
    await provision(context, Topology())
    return context


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> EnrollmentSettings:
    return EnrollmentSettings(
        mode="development",
        database_url=database_url,
        nats_url=nats_server.url,
        retry_delays_s=(0.05,),
    )


@pytest.fixture
async def app(settings: EnrollmentSettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://enrollment") as client:
        yield client


@pytest.fixture
def enrollment_body() -> Callable[..., dict[str, Any]]:
    """A valid POST /enrollments body for the demo center; keyword arguments replace parts."""

    def build(**parts: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "learner": {
                "first_name_ar": "سلمى",
                "last_name_ar": "بنعلي",
                "first_name_latin": "Salma",
                "last_name_latin": "Benali",
                "birth_date": "2011-03-14",
                "sex": "female",
                "massar_code": "J130045678",
            },
            "guardian": {
                "name": "Fatima Benali",
                "phone": "+212612345678",
                "email": "fatima.benali@example.ma",
                "preferred_language": "ar",
            },
            "consent": {"data_use": True, "notifications": True},
            "center_id": DEMO_CENTER_ID,
            "pathway": "vocational_training",
            "school_year": "2025/2026",
        }
        body.update(parts)
        return body

    return build

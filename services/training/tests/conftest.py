"""The training service running for real: its database (SQLite and PostgreSQL), a provisioned
nats-server, and an HTTP client that drives the app in-process with an admin token (tests of
scope send other roles' tokens, made by ``bearer``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import CloudEvent, new_event, to_json_bytes
from fursa.shared.messaging.streams import CONSUMERS, LEARNER_ENROLLED
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.kernel import wait_until
from fursa.training.app import create_app
from fursa.training.settings import TrainingSettings

CONSUMER = next(spec for spec in CONSUMERS if spec.service == "training")
Bearer = Callable[..., dict[str, str]]

# Where a test learner is enrolled (``learner_enrolled`` places every one at A1): two centers
# of association A in Marrakech-Safi (07), in two provinces, and one of association B in
# Casablanca-Settat (06), Casablanca (141).
PLACES: dict[str, dict[str, str]] = {
    "A1": {
        "association_id": uuid_of("association", 1),
        "center_id": uuid_of("center", 1),
        "region_code": "07",
        "province_code": "071",
    },
    "A2": {
        "association_id": uuid_of("association", 1),
        "center_id": uuid_of("center", 2),
        "region_code": "07",
        "province_code": "073",
    },
    "B": {
        "association_id": uuid_of("association", 2),
        "center_id": uuid_of("center", 3),
        "region_code": "06",
        "province_code": "141",
    },
}

# Callers of the scope tests, by name: a role and what binds it.
CALLERS: dict[str, dict[str, str]] = {
    "admin": {"role": "admin"},
    "staff_a": {"role": "association_staff", "association_id": uuid_of("association", 1)},
    "staff_b": {"role": "association_staff", "association_id": uuid_of("association", 2)},
    "educator_a1": {"role": "educator", "center_id": uuid_of("center", 1)},
    "educator_a2": {"role": "educator", "center_id": uuid_of("center", 2)},
    "officer_07": {"role": "entraide_officer", "region_code": "07"},
    "officer_06": {"role": "entraide_officer", "region_code": "06"},
    "directorate_071": {"role": "directorate", "province_code": "071"},
    "directorate_141": {"role": "directorate", "province_code": "141"},
    "directorate_r07": {"role": "directorate", "region_code": "07"},
    "partner": {"role": "partner", "partner_id": "partner-1"},
}


bearer_headers = dev_authorization


@pytest.fixture
def bearer() -> Bearer:
    """``bearer(role, **binding)``: ``Authorization`` headers for any role and binding."""
    return bearer_headers


@pytest.fixture
def places() -> dict[str, dict[str, str]]:
    """``PLACES``: where the tests enroll learners."""
    return PLACES


@pytest.fixture
def caller() -> Callable[[str], dict[str, str]]:
    """``caller(name)``: ``Authorization`` headers of one of ``CALLERS``."""

    def headers(name: str) -> dict[str, str]:
        return bearer_headers(**CALLERS[name])

    return headers


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


EventFactory = Callable[..., CloudEvent[Any]]
Deliver = Callable[..., Awaitable[None]]


@pytest.fixture
def enrolled() -> EventFactory:
    """The learner-enrolled event of the n-th test learner, as the enrollment service sends it,
    enrolled at one of ``PLACES`` (A1 unless told)."""

    def build(n: int, *, sequence: int = 1, place: str = "A1") -> CloudEvent[Any]:
        data = learner_enrolled(n).model_copy(update=PLACES[place])
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
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Enroll the n-th test learner (an event on the stream) at one of ``PLACES`` (A1 unless
    told); returns their opened training."""

    async def open_for(n: int, *, place: str = "A1") -> dict[str, Any]:
        event = enrolled(n, place=place)
        await deliver((event, event.id))
        response = await client.get("/trainings", params={"enrollment_id": event.subject})
        [training] = response.json()
        return dict(training)

    return open_for

"""The training service running for real: its database (SQLite and PostgreSQL), a provisioned
nats-server, and an HTTP client that drives the app in-process with an admin token (tests of
scope send other roles' tokens, made by ``bearer``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.auth import dev_authorization
from fursa.shared.clock import local_today
from fursa.shared.contracts import CloudEvent, Pathway, new_event, to_json_bytes
from fursa.shared.messaging.streams import CONSUMERS
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S
from fursa.shared.testing.kernel import acknowledged_through, wait_until
from fursa.training.app import MIGRATIONS, create_app
from fursa.training.curriculum import PathwayPlan
from fursa.training.settings import TrainingSettings

# A small curriculum, so that a test reaches completion in a few calls: vocational learners
# follow literacy (4 h) and one workshop of two (4 h each); at-risk over 3 sessions under 0.5,
# over again at 0.8.
CURRICULUM = {
    Pathway.SCHOOL_REINTEGRATION: PathwayPlan(modules={"literacy": 4, "mathematics": 4}),
    Pathway.VOCATIONAL_TRAINING: PathwayPlan(
        modules={"literacy": 4}, workshops={"tailoring": 4, "cooking": 4}, workshops_required=1
    ),
    Pathway.SOCIO_PROFESSIONAL_INSERTION: PathwayPlan(
        modules={"life_skills": 4}, workshops={"computing": 4}, workshops_required=1
    ),
}

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
def migrations() -> Path:
    """Every database of these tests starts migrated to the service's head."""
    return MIGRATIONS


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
        database_url=database_url,
        nats_url=nats_server.url,
        retry_delays_s=(0.05,),
        curriculum=CURRICULUM,
        at_risk_window_sessions=3,
        at_risk_threshold=0.5,
        at_risk_margin=0.3,
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
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
    """Publish enrollment events, each ``(event, message id)``, and wait until the training
    service has handled them all."""

    async def deliver_all(*messages: tuple[CloudEvent[Any], str]) -> None:
        seq = 0
        for event, msg_id in messages:
            payload = to_json_bytes(event)
            ack = await js.publish(event.type, payload, headers={"Nats-Msg-Id": msg_id})
            seq = max(seq, ack.seq)
        await wait_until(partial(acknowledged_through, js, CONSUMER, seq))

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
        found: list[dict[str, Any]] = []

        async def opened() -> bool:
            # The consumer's counts can settle a moment before the message is even handed out.
            found[:] = (
                await client.get("/trainings", params={"enrollment_id": event.subject})
            ).json()
            return bool(found)

        await wait_until(opened)
        [training] = found
        return dict(training)

    return open_for


Ready = Callable[..., Awaitable[None]]


@pytest.fixture
def ready(client: httpx.AsyncClient) -> Ready:
    """``ready(*trainings)``: a class of open vocational trainings through literacy and the
    tailoring workshop (one 4-hour session each, everyone present, 14/20): the completion rule
    is met."""

    async def take(*trainings: dict[str, Any], class_name: str = "A") -> None:
        ids = [t["id"] for t in trainings]
        yesterday = (local_today() - timedelta(days=1)).isoformat()
        for module in ("literacy", "tailoring"):
            session = {
                "module": module,
                "held_on": yesterday,
                "hours": 4,
                "class_name": class_name,
                "attendance": [{"training_id": i, "present": True} for i in ids],
            }
            (await client.post("/sessions", json=session)).raise_for_status()
            assessment = {
                "module": module,
                "assessed_on": local_today().isoformat(),
                "scores": [{"training_id": i, "score": 14} for i in ids],
            }
            (await client.post("/assessments", json=assessment)).raise_for_status()

    return take

"""The enrollment service running for real: its database (SQLite and PostgreSQL), a provisioned
nats-server, and an HTTP client that drives the app in-process with an admin token (tests of
scope send other roles' tokens, made by ``bearer``)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.app import MIGRATIONS, create_app
from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.models import Association, Center
from fursa.enrollment.service import EnrollmentService
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import CloudEvent, parse_event
from fursa.shared.natsserver import NatsServer
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S

Bearer = Callable[..., dict[str, str]]

# Besides the demo center (association A, Marrakech-Safi 07, Marrakech 071), the `centers`
# fixture adds a second center of association A in another province of the same region, and
# a center of association B in Casablanca-Settat (06), Casablanca (141).
ASSOCIATION_B = "b0000000-0000-4000-8000-00000000000b"
CENTER_A2 = "a2000000-0000-4000-8000-0000000000a2"
CENTER_B = "b1000000-0000-4000-8000-0000000000b1"


bearer_headers = dev_authorization


# Callers of the scope tests, by name: a role and what binds it.
CALLERS: dict[str, dict[str, str]] = {
    "admin": {"role": "admin"},
    "staff_a": {"role": "association_staff", "association_id": DEMO_ASSOCIATION_ID},
    "staff_b": {"role": "association_staff", "association_id": ASSOCIATION_B},
    "educator_a1": {"role": "educator", "center_id": DEMO_CENTER_ID},
    "educator_a2": {"role": "educator", "center_id": CENTER_A2},
    "officer_07": {"role": "entraide_officer", "region_code": "07"},
    "officer_06": {"role": "entraide_officer", "region_code": "06"},
    "directorate_071": {"role": "directorate", "province_code": "071"},
    "directorate_141": {"role": "directorate", "province_code": "141"},
    "directorate_r07": {"role": "directorate", "region_code": "07"},
    "partner": {"role": "partner", "partner_id": "partner-1"},
}


@pytest.fixture
def migrations() -> Path:
    """Every database of these tests starts migrated to the service's head."""
    return MIGRATIONS


@pytest.fixture
def bearer() -> Bearer:
    """``bearer(role, **binding)``: ``Authorization`` headers for any role and binding."""
    return bearer_headers


@pytest.fixture
def caller() -> Callable[[str], dict[str, str]]:
    """``caller(name)``: ``Authorization`` headers of one of ``CALLERS``."""

    def headers(name: str) -> dict[str, str]:
        return bearer_headers(**CALLERS[name])

    return headers


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> EnrollmentSettings:
    return EnrollmentSettings(
        mode="development",
        database_url=database_url,
        nats_url=nats_server.url,
        retry_delays_s=(0.05,),
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
    )


@pytest.fixture
async def app(settings: EnrollmentSettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def centers(app: FastAPI) -> dict[str, str]:
    """Two more centers (see ``CENTER_A2`` and ``CENTER_B``); returns center ids by name."""
    service: EnrollmentService = app.state.enrollments
    async with service.uow.begin() as tx:
        tx.session.add(Association(id=ASSOCIATION_B, name="Association Nour"))
        await tx.session.flush()
        tx.session.add_all(
            [
                Center(
                    id=CENTER_A2,
                    name="Centre Al-Amal Amizmiz",
                    commune="Amizmiz",
                    province_code="073",
                    region_code="07",
                    association_id=DEMO_ASSOCIATION_ID,
                ),
                Center(
                    id=CENTER_B,
                    name="Centre Nour Sidi Moumen",
                    commune="Sidi Moumen",
                    province_code="141",
                    region_code="06",
                    association_id=ASSOCIATION_B,
                ),
            ]
        )
    return {"A1": DEMO_CENTER_ID, "A2": CENTER_A2, "B": CENTER_B, "association_B": ASSOCIATION_B}


@pytest.fixture
def enrollment_body() -> Callable[..., dict[str, Any]]:
    """A valid POST /enrollments body for the demo center; keyword arguments replace parts.

    Each call describes another learner (another Massar code and guardian phone), so that
    enrolling twice is not a duplicate; the first is always the same.
    """
    made = itertools.count()

    def build(**parts: Any) -> dict[str, Any]:
        n = next(made)
        body: dict[str, Any] = {
            "learner": {
                "first_name_ar": "سلمى",
                "last_name_ar": "بنعلي",
                "first_name_latin": "Salma",
                "last_name_latin": "Benali",
                "birth_date": "2011-03-14",
                "sex": "female",
                "massar_code": f"J13004{5678 + n:04d}",
                "last_school_level": "primary_5",
                "year_left_school": 2023,
            },
            "guardian": {
                "name": "Fatima Benali",
                "phone": f"+2126123{45678 + n:05d}",
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


class Desk:
    """What an association worker does at the enrollment desk, as an administrator by
    default, plus what the service has published."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext) -> None:
        self.app = app
        self.client = client
        self.js = js

    async def enroll(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST /enrollments, which must succeed; returns the enrollment."""
        response = await self.client.post("/enrollments", json=body, headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def set_capacity(
        self,
        center_id: str,
        places: int,
        pathway: str = "vocational_training",
        school_year: str = "2025/2026",
    ) -> dict[str, Any]:
        response = await self.client.put(
            f"/centers/{center_id}/capacity",
            json={"pathway": pathway, "school_year": school_year, "places": places},
        )
        assert response.status_code == 200, response.text
        center: dict[str, Any] = response.json()
        return center

    async def enrollment(self, enrollment_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/enrollments/{enrollment_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def published(self, name: str | None = None) -> list[CloudEvent[Any]]:
        """The events published so far, in stream order (after a relay drain); only those of
        one kind with ``name``, e.g. ``"learner-waitlisted"``."""
        runtime: ServiceRuntime = self.app.state.runtime
        assert runtime.relay is not None
        await runtime.relay.drain()
        info = await self.js.stream_info("ENROLLMENT")
        found = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            message = await self.js.get_msg("ENROLLMENT", sequence)
            assert message.data is not None
            found.append(parse_event(message.data))
        if name is None:
            return found
        return [event for event in found if event.type == f"fursa.enrollment.{name}.v1"]


@pytest.fixture
def desk(app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext) -> Desk:
    return Desk(app, client, js)

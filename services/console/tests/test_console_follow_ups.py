"""Educators record a learner's follow-up from the week's due list and correct it with a reason,
against a fake training service: a training completed 6 months ago cannot be arranged through
the services' public APIs for the browser tests (completion is dated the day it is recorded)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from fursa.console.app import create_app
from fursa.console.settings import ConsoleSettings
from fursa.shared.auth import TokenVerifier

CENTER_ID = "2f6a4c1e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"
TRAINING_ID = "7e1d2c3b-4a5f-4e6d-8c7b-9a0b1c2d3e4f"
ENROLLMENT = "http://enrollment.test"
TRAINING = "http://training.test"


@dataclass
class FakeTraining:
    """The training service's answers the follow-up pages rely on, and what it was sent."""

    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)
    corrections: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if request.url.host == "enrollment.test" and path == "/centers":
            return httpx.Response(200, json=[CENTER])
        if method == "GET" and path == f"/trainings/{TRAINING_ID}":
            return httpx.Response(200, json={"id": TRAINING_ID, "center_id": CENTER_ID})
        if method == "GET" and path == "/follow-ups/due":
            return httpx.Response(200, json={"due": [self.due_line()]})
        if method == "GET" and path == f"/centers/{CENTER_ID}/classes":
            return httpx.Response(200, json=[])
        body = json.loads(request.content or b"{}")
        if method == "POST" and path == f"/trainings/{TRAINING_ID}/outcomes":
            return self.record(body)
        if method == "PUT" and path == f"/trainings/{TRAINING_ID}/outcomes/6":
            self.corrections.append(body)
            self.outcomes[6] = body
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"detail": f"{method} {path}"})

    def record(self, body: dict[str, Any]) -> httpx.Response:
        if body["months_after"] in self.outcomes:
            return httpx.Response(
                409, json={"code": "already_recorded", "detail": "Ce suivi est déjà enregistré."}
            )
        if body["status"] == "back_in_school" and not body.get("school"):
            return httpx.Response(
                422,
                json={
                    "detail": "La demande contient des champs invalides.",
                    "errors": [{"field": "body.school", "message": "Champ obligatoire."}],
                },
            )
        self.outcomes[body["months_after"]] = body
        return httpx.Response(201, json=body)

    def due_line(self) -> dict[str, Any]:
        return {
            "training_id": TRAINING_ID,
            "learner_id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "center_id": CENTER_ID,
            "pathway": "vocational_training",
            "months_after": 6,
            "completed_on": "2026-06-05",
            "due_on": "2026-12-05",
            "recorded": 6 in self.outcomes,
            "first_name_ar": "سلمى",
            "last_name_ar": "بنعلي",
            "first_name_latin": "Salma",
            "last_name_latin": "Benali",
        }


CENTER = {
    "id": CENTER_ID,
    "name": "Centre Al Amal",
    "name_ar": "مركز الأمل",
    "association_id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "region_code": "04",
    "province_code": "04.411",
}


@pytest.fixture
def service() -> FakeTraining:
    return FakeTraining()


@pytest.fixture
async def console(service: FakeTraining) -> AsyncIterator[httpx.AsyncClient]:
    """The console in development, its services the fake, signed in as the center's
    educator."""
    settings = ConsoleSettings(
        enrollment_url=ENROLLMENT,
        training_url=TRAINING,
        certification_url="http://127.0.0.1:9",
        notify_url="http://127.0.0.1:9",
    )
    app = create_app(settings)
    app.state.token_verifier = TokenVerifier(dev_secret=settings.auth_dev_key.get_secret_value())
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(service.handle)) as http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="https://console.test",
            headers={"Accept-Language": "fr"},
        ) as client,
    ):
        app.state.http = http
        signed_in = await client.post(
            "/sign-in/development",
            data={"role": "educator", "csrf_token": csrf(await client.get("/sign-in"))},
        )
        assert signed_in.status_code == 303
        yield client


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


FOLLOW_UP = f"/trainings/{TRAINING_ID}/follow-ups/6"


async def test_an_educator_records_a_six_month_follow_up_from_the_due_list(
    console: httpx.AsyncClient, service: FakeTraining
) -> None:
    classes = await console.get("/classes")
    assert f'href="{FOLLOW_UP}">Enregistrer le suivi</a>' in classes.text

    form = await console.get(FOLLOW_UP)
    assert form.status_code == 200
    assert "Salma Benali" in form.text
    assert "Les informations de santé n'entrent jamais dans Fursa." in form.text
    assert 'name="reason"' not in form.text

    # Back in school names the school: the service's refusal shows on the form, as typed.
    refused = await console.post(
        FOLLOW_UP,
        data={"csrf_token": csrf(form), "status": "back_in_school", "level": "1AC"},
    )
    assert refused.status_code == 422
    assert "Champ obligatoire." in refused.text
    assert 'value="1AC"' in refused.text
    assert service.outcomes == {}

    recorded = await console.post(
        FOLLOW_UP,
        data={
            "csrf_token": csrf(form),
            "status": "vocational_training",
            "institution": "ISTA Fès",
            "school": "typed before changing the situation",
        },
    )
    assert recorded.status_code == 303
    # Only the place the situation names reaches the service.
    assert service.outcomes[6] == {
        "status": "vocational_training",
        "institution": "ISTA Fès",
        "months_after": 6,
    }
    classes = await console.get("/classes")
    assert "Le suivi est enregistré." in classes.text
    assert f'href="{FOLLOW_UP}">Rectifier le suivi</a>' in classes.text


async def test_a_recorded_follow_up_is_corrected_with_a_reason(
    console: httpx.AsyncClient, service: FakeTraining
) -> None:
    service.outcomes[6] = {"status": "none", "months_after": 6}

    form = await console.get(FOLLOW_UP)
    assert "Ce suivi est déjà enregistré : le formulaire le rectifie" in form.text
    assert 'name="reason" value="new_information"' in form.text

    corrected = await console.post(
        FOLLOW_UP,
        data={"csrf_token": csrf(form), "status": "employed", "reason": "new_information"},
    )
    assert corrected.status_code == 303
    assert service.corrections == [{"status": "employed", "reason": "new_information"}]
    assert "Le suivi est rectifié." in (await console.get("/classes")).text


async def test_recording_a_follow_up_already_recorded_turns_the_form_into_its_correction(
    console: httpx.AsyncClient, service: FakeTraining
) -> None:
    form = await console.get(FOLLOW_UP)
    service.outcomes[6] = {"status": "none", "months_after": 6}

    answer = await console.post(FOLLOW_UP, data={"csrf_token": csrf(form), "status": "employed"})

    assert answer.status_code == 409
    assert "Ce suivi est déjà enregistré." in answer.text
    assert 'name="reason"' in answer.text
    assert service.corrections == []

"""Who may call the training API, and what each caller sees.

Every route needs a bearer token of the programme's staff (a partner's system is refused);
completing a training is for the center's educators, its association's staff and
administrators; a training outside the caller's scope answers 404 exactly like one that does
not exist, and lists and summaries count only what the caller may see. A training is placed
where learner-enrolled said its enrollment is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.auth import Principal, Role
from fursa.shared.problems import FIELD_RULES, MESSAGES
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count
from fursa.training.service import TrainingService
from fursa.training.settings import TrainingSettings

Caller = Callable[[str], dict[str, str]]
OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
PROBLEM_JSON = "application/problem+json"
MISSING = "00000000-0000-4000-8000-000000000000"
# Ending a training as failed needs no sessions first: what these tests look at is who may.
ENDED = {"result": "failed"}


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/trainings?enrollment_id={MISSING}"),
        ("GET", "/trainings/summary"),
        ("GET", f"/trainings/{MISSING}"),
        ("POST", f"/trainings/{MISSING}/completion"),
        ("GET", f"/trainings/{MISSING}/progress"),
        ("POST", f"/trainings/{MISSING}/outcomes"),
        ("POST", "/sessions"),
        ("POST", "/assessments"),
        ("GET", "/curriculum"),
        ("GET", "/indicators"),
    ],
)
async def test_every_route_needs_a_token(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    body = ENDED if method == "POST" else None

    response = await anonymous.request(method, path, json=body)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert (problem["code"], problem["status"]) == ("unauthorized", 401)
    assert problem["title"] == MESSAGES["unauthorized"]["ar"]  # no Accept-Language: Arabic


async def test_operational_routes_need_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200


# --- placement ------------------------------------------------------------------------------


async def test_a_training_is_placed_where_its_enrollment_is(
    app: FastAPI, open_training: OpenTraining, places: dict[str, dict[str, str]]
) -> None:
    training = await open_training(1, place="B")

    service: TrainingService = app.state.trainings
    record = await service.get(training["id"], scope=Principal(subject="t", role=Role.ADMIN))
    assert {
        "association_id": record.association_id,
        "center_id": record.center_id,
        "region_code": record.region_code,
        "province_code": record.province_code,
    } == places["B"]


# --- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("officer_07", "entraide_officer"),
        ("directorate_071", "directorate"),
        ("partner", "partner"),
    ],
)
async def test_only_educators_staff_and_admins_complete_a_training(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    caller: Caller,
    open_training: OpenTraining,
    name: str,
    role: str,
) -> None:
    training = await open_training(1)

    response = await client.post(
        f"/trainings/{training['id']}/completion", json=ENDED, headers=caller(name)
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": role}
    assert (await client.get(f"/trainings/{training['id']}")).json()["status"] == "open"
    assert await _published_after_drain(app, js) == 0


@pytest.mark.parametrize("name", ["educator_a1", "staff_a", "admin"])
async def test_the_centers_educators_its_association_and_admins_complete_a_training(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining, name: str
) -> None:
    training = await open_training(1)

    response = await client.post(
        f"/trainings/{training['id']}/completion", json=ENDED, headers=caller(name)
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


async def test_an_educator_cannot_complete_another_centers_training(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    caller: Caller,
    open_training: OpenTraining,
) -> None:
    theirs = await open_training(1, place="A1")
    other = await open_training(2, place="A2")  # same association, another center
    educator = caller("educator_a1")

    refused = await client.post(
        f"/trainings/{other['id']}/completion", json=ENDED, headers=educator
    )
    missing = await client.post(f"/trainings/{MISSING}/completion", json=ENDED, headers=educator)
    done = await client.post(f"/trainings/{theirs['id']}/completion", json=ENDED, headers=educator)

    assert refused.status_code == missing.status_code == 404
    assert refused.content == missing.content
    assert done.status_code == 200
    assert (await client.get(f"/trainings/{other['id']}")).json()["status"] == "open"
    assert await _published_after_drain(app, js) == 1


async def test_outside_the_scope_a_completed_training_is_not_found_rather_than_a_conflict(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    url = f"/trainings/{training['id']}/completion"
    await client.post(url, json=ENDED)

    response = await client.post(url, json=ENDED, headers=caller("staff_b"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", ["officer_07", "directorate_071", "partner"])
@pytest.mark.parametrize("path", ["/sessions", "/assessments"])
async def test_only_educators_staff_and_admins_record_a_class(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining, name: str, path: str
) -> None:
    training = await open_training(1)
    entries = [{"training_id": training["id"], "present": True}]
    body = {"module": "literacy", "held_on": "2025-11-03", "hours": 2, "attendance": entries}
    if path == "/assessments":
        body = {
            "module": "literacy",
            "assessed_on": "2025-11-03",
            "scores": [{"training_id": training["id"], "score": 12}],
        }

    response = await client.post(path, json=body, headers=caller(name))

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    progress = (await client.get(f"/trainings/{training['id']}/progress")).json()
    assert progress["modules"] == []


async def test_an_educator_records_only_their_centers_learners(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining
) -> None:
    theirs = await open_training(1, place="A1")
    other = await open_training(2, place="A2")  # same association, another center
    body = {
        "module": "literacy",
        "held_on": "2025-11-03",
        "hours": 2,
        "attendance": [
            {"training_id": theirs["id"], "present": True},
            {"training_id": other["id"], "present": True},
            {"training_id": MISSING, "present": True},
        ],
    }

    refused = await client.post("/sessions", json=body, headers=caller("educator_a1"))
    body["attendance"] = body["attendance"][:1]
    recorded = await client.post("/sessions", json=body, headers=caller("educator_a1"))

    assert refused.status_code == 422
    # Another center's learner reads exactly like one who does not exist.
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("attendance.1.training_id", "not_found"),
        ("attendance.2.training_id", "not_found"),
    ]
    assert recorded.status_code == 201
    assert recorded.json()["center_id"] == theirs["center_id"]
    progress = (await client.get(f"/trainings/{other['id']}/progress")).json()
    assert progress["hours_held"] == 0


async def test_an_association_records_a_class_of_one_center_at_a_time(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining
) -> None:
    a1 = await open_training(1, place="A1")
    a2 = await open_training(2, place="A2")
    body = {
        "module": "literacy",
        "held_on": "2025-11-03",
        "hours": 2,
        "attendance": [
            {"training_id": a1["id"], "present": True},
            {"training_id": a2["id"], "present": True},
        ],
    }

    response = await client.post("/sessions", json=body, headers=caller("staff_a"))

    assert response.status_code == 422
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("attendance.1.training_id", "other_center")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/trainings?enrollment_id={enrollment_id}",
        "/trainings/summary",
        "/trainings/{id}",
        "/trainings/{id}/progress",
        "/curriculum",
        "/indicators",
    ],
)
async def test_a_partners_system_is_refused_the_staffs_routes(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining, path: str
) -> None:
    url = path.format(**await open_training(1, place="A1"))

    refused = await client.get(url, headers=caller("partner"))
    served = await client.get(url, headers=caller("educator_a1"))

    # Refused as a role the route does not serve, not answered as if its scope were empty.
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_JSON
    problem = refused.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": "partner"}
    assert served.status_code == 200


# --- scope ----------------------------------------------------------------------------------


async def test_another_associations_training_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining
) -> None:
    training = await open_training(1, place="A1")
    staff_b = caller("staff_b")

    other = await client.get(f"/trainings/{training['id']}", headers=staff_b)
    missing = await client.get(f"/trainings/{MISSING}", headers=staff_b)
    listed = await client.get(
        "/trainings", params={"enrollment_id": training["enrollment_id"]}, headers=staff_b
    )
    paged = await client.get("/trainings", params={"after": training["id"]}, headers=staff_b)
    paged_missing = await client.get("/trainings", params={"after": MISSING}, headers=staff_b)

    assert other.status_code == missing.status_code == 404
    assert paged.status_code == paged_missing.status_code == 404
    assert paged.content == paged_missing.content
    assert other.headers["content-type"] == PROBLEM_JSON
    assert other.json()["code"] == "not_found"
    assert other.content == missing.content
    assert listed.status_code == 200
    assert listed.json() == []


@pytest.mark.parametrize(
    ("name", "sees"),
    [
        ("admin", True),
        ("staff_a", True),
        ("staff_b", False),
        ("educator_a1", True),
        ("educator_a2", False),
        ("officer_07", True),
        ("officer_06", False),
        ("directorate_071", True),
        ("directorate_141", False),
        ("directorate_r07", True),
    ],
)
async def test_a_training_is_read_only_within_the_callers_scope(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining, name: str, sees: bool
) -> None:
    training = await open_training(1, place="A1")
    headers = caller(name)

    fetched = await client.get(f"/trainings/{training['id']}", headers=headers)
    listed = await client.get(
        "/trainings", params={"enrollment_id": training["enrollment_id"]}, headers=headers
    )

    if sees:
        assert fetched.status_code == 200
        assert fetched.json() == training
        assert listed.json() == [training]
    else:
        assert fetched.status_code == 404
        assert fetched.json()["code"] == "not_found"
        assert listed.json() == []


async def test_summary_counts_only_the_callers_trainings(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining
) -> None:
    trainings = [
        await open_training(n, place=place)
        for n, place in enumerate(["A1", "A1", "A2", "B"], start=1)
    ]
    await client.post(f"/trainings/{trainings[0]['id']}/completion", json=ENDED)
    expected = {
        "admin": {"open": 3, "completed": 1, "withdrawn": 0},
        "staff_a": {"open": 2, "completed": 1, "withdrawn": 0},
        "staff_b": {"open": 1, "completed": 0, "withdrawn": 0},
        "educator_a1": {"open": 1, "completed": 1, "withdrawn": 0},
        "educator_a2": {"open": 1, "completed": 0, "withdrawn": 0},
        "officer_07": {"open": 2, "completed": 1, "withdrawn": 0},
        "officer_06": {"open": 1, "completed": 0, "withdrawn": 0},
        "directorate_071": {"open": 1, "completed": 1, "withdrawn": 0},
        "directorate_141": {"open": 1, "completed": 0, "withdrawn": 0},
        "directorate_r07": {"open": 2, "completed": 1, "withdrawn": 0},
    }

    summaries = {
        name: (await client.get("/trainings/summary", headers=caller(name))).json()
        for name in expected
    }

    assert summaries == expected


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/progress"), ("POST", "/completion"), ("POST", "/outcomes")],
)
async def test_an_overlong_training_id_is_refused_naming_it(
    client: httpx.AsyncClient, method: str, suffix: str
) -> None:
    response = await client.request(method, f"/trainings/{'x' * 65}{suffix}", json={})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert ("path.training_id", "string_too_long") in {
        (e["field"], e["rule"]) for e in response.json()["errors"]
    }


# --- languages and limits -------------------------------------------------------------------


async def test_arabic_is_answered_to_who_asks_for_it(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    arabic = {"Accept-Language": "ar"}
    training = await open_training(1)
    url = f"/trainings/{training['id']}/completion"
    await client.post(url, json=ENDED)

    conflict = await client.post(url, json=ENDED, headers=arabic)
    invalid = await client.post(url, json={**ENDED, "grade": "A"}, headers=arabic)
    missing = await client.get(f"/trainings/{MISSING}", headers=arabic)

    assert conflict.status_code == 409
    assert conflict.headers["content-language"] == "ar"
    assert conflict.json()["title"] == "هذا التكوين منتهٍ من قبل؛ لا تتغير نتيجته."
    assert invalid.json()["title"] == MESSAGES["validation"]["ar"]
    assert invalid.json()["errors"] == [
        {
            "field": "grade",
            "rule": "extra_forbidden",
            "message": FIELD_RULES["extra_forbidden"]["ar"],
        }
    ]
    assert missing.json()["title"] == MESSAGES["not_found"]["ar"]


async def test_a_body_over_the_limit_is_refused_and_changes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: TrainingSettings,
    open_training: OpenTraining,
) -> None:
    training = await open_training(1)
    body = {**ENDED, "workshops": ["x" * 60] * (settings.max_body_bytes // 60)}

    response = await client.post(f"/trainings/{training['id']}/completion", json=body)

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["params"] == {"limit": settings.max_body_bytes}
    assert (await client.get(f"/trainings/{training['id']}")).json()["status"] == "open"
    assert await _published_after_drain(app, js) == 0


async def _published_after_drain(app: FastAPI, js: JetStreamContext) -> int:
    """Events in the TRAINING stream once the outbox has been drained."""
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    return await stream_count(js, "TRAINING")

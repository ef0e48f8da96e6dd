"""Completing a training over HTTP: refused with every unmet condition listed, or recorded
once with the figures of the learner's sessions and published as training-completed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.clock import local_today
from fursa.shared.contracts import TrainingCompleted, parse_event
from fursa.shared.problems import MESSAGES
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Ready = Callable[..., Awaitable[None]]
PROBLEM_JSON = "application/problem+json"
PASSED = {"result": "passed"}
YESTERDAY = (local_today() - timedelta(days=1)).isoformat()


async def test_completing_a_ready_training_publishes_training_completed(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    open_training: OpenTraining,
    ready: Ready,
) -> None:
    training = await open_training(1)
    await ready(training)

    response = await client.post(f"/trainings/{training['id']}/completion", json=PASSED)

    assert response.status_code == 200, response.text
    completed = response.json()
    assert completed["status"] == "completed"
    assert completed["result"] == "passed"
    assert completed["workshops"] == ["tailoring"]
    assert (completed["hours_attended"], completed["attendance_rate"]) == (8.0, 1.0)
    assert completed["completed_on"] == local_today().isoformat()
    summary = (await client.get("/trainings/summary")).json()
    assert summary == {"open": 0, "completed": 1, "withdrawn": 0}

    assert await _published_after_drain(app, js) == 1
    message = await js.get_msg("TRAINING", 1)
    assert message.data is not None
    event = parse_event(message.data)
    assert event.type == "fursa.training.training-completed.v1"
    assert event.subject == training["id"]
    assert event.sequence == 2  # the record's version: opened at 1, completed at 2
    data = event.data
    assert isinstance(data, TrainingCompleted)
    assert data.enrollment_id == training["enrollment_id"]
    assert data.learner_id == training["learner_id"]
    assert data.pathway == "vocational_training"
    assert (data.hours_attended, data.attendance_rate) == (8.0, 1.0)
    assert data.workshops == ["tailoring"]
    assert data.completed_on.isoformat() == completed["completed_on"]


async def test_completion_is_refused_listing_every_unmet_condition(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    # Literacy held once, missed; no workshop, no assessment.
    session = {
        "module": "literacy",
        "held_on": YESTERDAY,
        "hours": 4,
        "attendance": [{"training_id": training["id"], "present": False}],
    }
    assert (await client.post("/sessions", json=session)).status_code == 201

    response = await client.post(
        f"/trainings/{training['id']}/completion", json=PASSED, headers={"Accept-Language": "fr"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "completion_conditions_unmet"
    assert problem["title"] == "La formation ne remplit pas encore les conditions de réussite."
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
        ("literacy", "module_not_passed"),
        ("workshops_not_passed", "workshops_not_passed"),
        ("attendance_below_minimum", "attendance_below_minimum"),
    ]
    attendance = problem["errors"][2]
    assert (attendance["required"], attendance["actual"]) == (3.0, 0.0)  # 75 % of 4 h
    assert all(error["message"] for error in problem["errors"])
    french = {"Accept-Language": "fr"}
    progress = (await client.get(f"/trainings/{training['id']}/progress", headers=french)).json()
    assert progress["unmet"] == problem["errors"]
    assert (await client.get(f"/trainings/{training['id']}")).json()["status"] == "open"
    assert await _published_after_drain(app, js) == 0


async def test_passing_every_module_without_the_hours_is_not_enough(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    for module, present in (("literacy", False), ("tailoring", True)):
        session = {
            "module": module,
            "held_on": YESTERDAY,
            "hours": 4,
            "attendance": [{"training_id": training["id"], "present": present}],
        }
        assert (await client.post("/sessions", json=session)).status_code == 201
        assessment = {
            "module": module,
            "assessed_on": YESTERDAY,
            "scores": [{"training_id": training["id"], "score": 12.5}],
        }
        assert (await client.post("/assessments", json=assessment)).status_code == 201

    response = await client.post(f"/trainings/{training['id']}/completion", json=PASSED)

    assert response.status_code == 422
    [unmet] = response.json()["errors"]
    # 4 h attended of 8 h required (literacy and the tailoring workshop): 6 h needed.
    assert unmet["rule"] == "attendance_below_minimum"
    assert (unmet["required"], unmet["actual"]) == (6.0, 4.0)


async def test_a_failed_training_ends_without_meeting_the_rule(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)

    response = await client.post(
        f"/trainings/{training['id']}/completion", json={"result": "failed"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "failed"
    assert (response.json()["hours_attended"], response.json()["attendance_rate"]) == (0, 0)


async def test_completing_a_training_twice_is_a_conflict(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    open_training: OpenTraining,
    ready: Ready,
) -> None:
    training = await open_training(2)
    await ready(training)
    url = f"/trainings/{training['id']}/completion"
    await client.post(url, json=PASSED)

    response = await client.post(url, json={"result": "failed"}, headers={"Accept-Language": "fr"})

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "urn:fursa:problem:training_already_completed",
        "title": "Cette formation est déjà terminée ; son résultat ne change plus.",
        "status": 409,
        "code": "training_already_completed",
    }
    assert (await client.get(f"/trainings/{training['id']}")).json()["result"] == "passed"
    assert await _published_after_drain(app, js) == 1


async def test_simultaneous_completions_publish_one_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    open_training: OpenTraining,
    ready: Ready,
) -> None:
    training = await open_training(3)
    await ready(training)
    url = f"/trainings/{training['id']}/completion"

    responses = await asyncio.gather(*(client.post(url, json=PASSED) for _ in range(2)))

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert await _published_after_drain(app, js) == 1


async def test_completing_an_unknown_training_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/trainings/00000000-0000-4000-8000-000000000000/completion", json=PASSED
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "urn:fursa:problem:not_found",
        "title": MESSAGES["not_found"]["ar"],
        "status": 404,
        "code": "not_found",
    }


async def test_invalid_completion_is_a_problem_naming_each_field(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, open_training: OpenTraining
) -> None:
    training = await open_training(4)
    body = {"result": "excellent", "hours_attended": 400}

    response = await client.post(f"/trainings/{training['id']}/completion", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert (problem["code"], problem["type"]) == ("validation", "urn:fursa:problem:validation")
    assert all(error["message"] for error in problem["errors"])
    errors = {(error["field"], error["rule"]) for error in problem["errors"]}
    assert errors == {("result", "enum"), ("hours_attended", "extra_forbidden")}
    assert (await client.get(f"/trainings/{training['id']}")).json()["status"] == "open"
    assert await _published_after_drain(app, js) == 0


async def test_listing_by_status_gives_the_open_trainings_oldest_first(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    first = await open_training(1)
    second = await open_training(2)
    done = await open_training(3)
    failed = {"result": "failed"}
    assert (await client.post(f"/trainings/{done['id']}/completion", json=failed)).is_success

    open_ids = [t["id"] for t in (await client.get("/trainings?status=open")).json()]
    assert open_ids == [first["id"], second["id"]]
    completed = (await client.get("/trainings", params={"status": "completed"})).json()
    assert [t["id"] for t in completed] == [done["id"]]
    assert len((await client.get("/trainings?status=open&limit=1")).json()) == 1


async def test_a_listing_continues_after_the_last_training_it_gave(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    opened = [(await open_training(n))["id"] for n in range(1, 6)]

    first_page = (await client.get("/trainings?status=open&limit=2")).json()
    after = first_page[-1]["id"]
    rest = (await client.get("/trainings", params={"status": "open", "after": after})).json()
    newest = (await client.get("/trainings", params={"after": opened[-1]})).json()

    assert [t["id"] for t in first_page] == opened[:2]
    assert [t["id"] for t in rest] == opened[2:]
    assert newest == []


async def test_bad_listing_filters_are_problems(client: httpx.AsyncClient) -> None:
    response = await client.get("/trainings?status=paused&limit=0")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    # The kernel names a query parameter with its location (`query.status`).
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
        ("query.status", "enum"),
        ("query.limit", "greater_than_equal"),
    }


async def _published_after_drain(app: FastAPI, js: JetStreamContext) -> int:
    """Events in the TRAINING stream once the outbox has been drained."""
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    return await stream_count(js, "TRAINING")

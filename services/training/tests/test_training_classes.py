"""A class's sessions and assessments, recorded by the educator in one call each; the early
warning that attendance raises, once per episode; and every way such a call can be wrong."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.clock import local_today
from fursa.shared.contracts import LearnerAtRisk, parse_event
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count
from fursa.training.settings import TrainingSettings

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
PROBLEM_JSON = "application/problem+json"
TODAY = local_today()


def day(n: int) -> str:
    """The n-th day of a term that ended yesterday (day 1 is 40 days ago)."""
    return (TODAY - timedelta(days=41 - n)).isoformat()


def session(*presences: tuple[str, bool], on: int = 1, **overrides: Any) -> dict[str, Any]:
    body = {
        "module": "literacy",
        "held_on": day(on),
        "hours": 3,
        "class_name": "A",
        "attendance": [{"training_id": t, "present": p} for t, p in presences],
    }
    return body | overrides


def assessment(*scores: tuple[str, float], **overrides: Any) -> dict[str, Any]:
    body = {
        "module": "literacy",
        "assessed_on": day(30),
        "scores": [{"training_id": t, "score": s} for t, s in scores],
    }
    return body | overrides


# --- sessions and attendance ----------------------------------------------------------------


async def test_a_class_attendance_is_recorded_in_one_call(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    amina, omar = await open_training(1), await open_training(2)

    response = await client.post(
        "/sessions", json=session((amina["id"], True), (omar["id"], False), hours=2.5)
    )

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert (recorded["learners"], recorded["present"], recorded["at_risk"]) == (2, 1, [])
    assert recorded["center_id"] == amina["center_id"]
    assert recorded["held_on"] == day(1)
    progress = (await client.get(f"/trainings/{amina['id']}/progress")).json()
    assert (progress["hours_held"], progress["hours_attended"]) == (2.5, 2.5)
    assert progress["modules"] == [
        {"module": "literacy", "hours_held": 2.5, "hours_attended": 2.5, "passed": None}
    ]
    absent = (await client.get(f"/trainings/{omar['id']}/progress")).json()
    assert (absent["hours_attended"], absent["attendance_rate"]) == (0, 0)


async def test_the_same_session_of_a_class_is_recorded_once(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    body = session((training["id"], True))
    await client.post("/sessions", json=body)

    again = await client.post("/sessions", json=body | {"hours": 1})
    other_class = await client.post("/sessions", json=body | {"class_name": "B"})

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["code"] == "already_recorded"
    assert other_class.status_code == 201
    progress = (await client.get(f"/trainings/{training['id']}/progress")).json()
    assert progress["hours_held"] == 6


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"hours": 0}, {("hours", "greater_than")}),
        ({"hours": 9}, {("hours", "less_than_equal")}),
        ({"held_on": "2026-02-30"}, {("held_on", "date_from_datetime_parsing")}),
        ({"module": "Literacy!"}, {("module", "string_pattern_mismatch")}),
        ({"attendance": []}, {("attendance", "too_short")}),
        ({"teacher": "Mme Alami"}, {("teacher", "extra_forbidden")}),
        (
            {"attendance": [{"training_id": "x", "present": "maybe"}]},
            {("attendance.0.present", "bool_parsing")},
        ),
    ],
)
async def test_a_malformed_session_is_refused_naming_each_field(
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    change: dict[str, Any],
    errors: set[tuple[str, str]],
) -> None:
    training = await open_training(1)

    response = await client.post("/sessions", json=session((training["id"], True)) | change)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "validation"
    assert {(e["field"], e["rule"]) for e in problem["errors"]} == errors
    progress = (await client.get(f"/trainings/{training['id']}/progress")).json()
    assert progress["hours_held"] == 0


async def test_class_entries_the_rules_refuse_are_each_named_and_nothing_is_recorded(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    unknown = "00000000-0000-4000-8000-000000000000"

    twice = await client.post(
        "/sessions", json=session((training["id"], True), (unknown, True), (training["id"], False))
    )
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    future = await client.post("/sessions", json=session((training["id"], True), held_on=tomorrow))
    # The test curriculum teaches vocational learners literacy and two workshops only.
    untaught = await client.post(
        "/sessions", json=session((training["id"], True), module="mathematics")
    )

    assert twice.status_code == future.status_code == untaught.status_code == 422
    assert twice.json()["code"] == "class_entries_refused"
    assert [(e["field"], e["rule"]) for e in twice.json()["errors"]] == [
        ("attendance.1.training_id", "not_found"),
        ("attendance.2.training_id", "duplicate"),
    ]
    assert [(e["field"], e["rule"]) for e in future.json()["errors"]] == [
        ("held_on", "future_date")
    ]
    assert [(e["field"], e["rule"]) for e in untaught.json()["errors"]] == [
        ("attendance.0.training_id", "module_not_in_pathway")
    ]
    assert all(e["message"] for e in twice.json()["errors"])
    progress = (await client.get(f"/trainings/{training['id']}/progress")).json()
    assert progress["hours_held"] == 0


async def test_an_oversized_class_is_refused(
    client: httpx.AsyncClient, settings: TrainingSettings
) -> None:
    entries = [("00000000-0000-4000-8000-000000000000", True)] * (settings.max_body_bytes // 40)

    response = await client.post("/sessions", json=session(*entries))

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


# --- early warning --------------------------------------------------------------------------


async def test_falling_attendance_raises_one_at_risk_alert_per_episode(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, open_training: OpenTraining
) -> None:
    # The test settings: the last 3 sessions, under 0.5 is at risk, back at 0.8 ends it.
    training, steady = await open_training(1), await open_training(2)
    presence = [False, False, False]  # 0/3: at risk (first alert)
    presence += [False, True, True]  # 1/3, 2/3: still the same episode, no alert
    presence += [False]  # 2/3 → 1/3 … hovering under 0.8, no alert
    presence += [True, True, True]  # 3/3: the episode ends
    presence += [False, False]  # 1/3: a new episode (second alert)
    alerted_on = []
    for n, present in enumerate(presence, start=1):
        response = await client.post(
            "/sessions", json=session((training["id"], present), (steady["id"], True), on=n)
        )
        assert response.status_code == 201, response.text
        if response.json()["at_risk"]:
            assert response.json()["at_risk"] == [training["id"]]
            alerted_on.append(n)

    assert alerted_on == [3, 12]
    assert (await client.get(f"/trainings/{training['id']}")).json()["at_risk"] is True
    assert (await client.get(f"/trainings/{steady['id']}")).json()["at_risk"] is False
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    assert await stream_count(js, "TRAINING") == 2
    events = [parse_event((await js.get_msg("TRAINING", seq)).data or b"") for seq in (1, 2)]
    assert [e.sequence for e in events] == [2, 3]  # the record's versions
    first = events[0].data
    assert isinstance(first, LearnerAtRisk)
    assert (first.window_sessions, first.attendance_rate, first.threshold) == (3, 0.0, 0.5)
    assert first.training_id == training["id"]
    indicators = (await client.get("/indicators")).json()
    assert indicators[0]["at_risk"] == 1


# --- assessments ----------------------------------------------------------------------------


async def test_a_class_assessment_passes_at_the_pass_mark(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    amina, omar = await open_training(1), await open_training(2)

    response = await client.post(
        "/assessments", json=assessment((amina["id"], 10), (omar["id"], 9.5))
    )

    assert response.status_code == 201, response.text
    assert [(a["training_id"], a["passed"]) for a in response.json()] == [
        (amina["id"], True),
        (omar["id"], False),
    ]
    progress = (await client.get(f"/trainings/{omar['id']}/progress")).json()
    assert progress["modules"] == [
        {"module": "literacy", "hours_held": 0, "hours_attended": 0, "passed": False}
    ]


async def test_a_retake_replaces_the_result_and_the_same_day_is_recorded_once(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    await client.post("/assessments", json=assessment((training["id"], 6)))

    again = await client.post("/assessments", json=assessment((training["id"], 15)))
    retake = await client.post(
        "/assessments", json=assessment((training["id"], 15), assessed_on=day(35))
    )

    assert again.status_code == 409
    assert again.json()["code"] == "already_recorded"
    assert retake.status_code == 201
    progress = (await client.get(f"/trainings/{training['id']}/progress")).json()
    assert progress["modules"][0]["passed"] is True


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"scores": [{"training_id": "x", "score": 21}]}, {("scores.0.score", "less_than_equal")}),
        (
            {"scores": [{"training_id": "x", "score": -1}]},
            {("scores.0.score", "greater_than_equal")},
        ),
        ({"scores": [{"training_id": "x", "score": "NaN"}]}, {("scores.0.score", "finite_number")}),
        ({"assessed_on": "2025-13-01"}, {("assessed_on", "date_from_datetime_parsing")}),
        ({"grade": "A"}, {("grade", "extra_forbidden")}),
        ({"module": None}, {("module", "string_type")}),
    ],
)
async def test_a_malformed_assessment_is_refused_naming_each_field(
    client: httpx.AsyncClient, change: dict[str, Any], errors: set[tuple[str, str]]
) -> None:
    response = await client.post("/assessments", json=assessment(("x", 12)) | change)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == errors


async def test_an_assessment_of_unknown_learners_or_in_the_future_is_refused(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    unknown = await client.post("/assessments", json=assessment(("nobody", 12)))
    future = await client.post(
        "/assessments", json=assessment((training["id"], 12), assessed_on=tomorrow)
    )

    assert [(e["field"], e["rule"]) for e in unknown.json()["errors"]] == [
        ("scores.0.training_id", "not_found")
    ]
    assert [(e["field"], e["rule"]) for e in future.json()["errors"]] == [
        ("assessed_on", "future_date")
    ]


async def test_the_curriculum_in_force_is_published(client: httpx.AsyncClient) -> None:
    response = await client.get("/curriculum")

    assert response.status_code == 200
    curriculum = response.json()
    vocational = next(p for p in curriculum["pathways"] if p["pathway"] == "vocational_training")
    assert vocational["modules"] == [
        {"module": "literacy", "kind": "educational", "required_hours": 4},
        {"module": "tailoring", "kind": "workshop", "required_hours": 4},
        {"module": "cooking", "kind": "workshop", "required_hours": 4},
    ]
    assert vocational["workshops_required"] == 1
    assert (curriculum["min_attendance_share"], curriculum["pass_mark"]) == (0.75, 10)
    assert curriculum["at_risk_window_sessions"] == 3

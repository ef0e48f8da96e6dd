"""Follow-up outcomes after a completed training, and the indicators officials report, each
within the caller's scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.shared.contracts import LearnerOutcomeRecorded, parse_event
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Ready = Callable[..., Awaitable[None]]
Caller = Callable[[str], dict[str, str]]
PROBLEM_JSON = "application/problem+json"
BACK_IN_SCHOOL = {
    "months_after": 6,
    "status": "back_in_school",
    "school": "Collège Ibn Tofail, Marrakech",
    "level": "1AC",
}


async def completed(
    client: httpx.AsyncClient, open_training: OpenTraining, ready: Ready, n: int, **place: str
) -> dict[str, Any]:
    training = await open_training(n, **place)
    await ready(training, class_name=f"class-{n}")
    response = await client.post(
        f"/trainings/{training['id']}/completion", json={"result": "passed"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- follow-up outcomes ---------------------------------------------------------------------


async def test_a_follow_up_is_recorded_and_published(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    open_training: OpenTraining,
    ready: Ready,
) -> None:
    training = await completed(client, open_training, ready, 1)

    response = await client.post(f"/trainings/{training['id']}/outcomes", json=BACK_IN_SCHOOL)

    assert response.status_code == 201, response.text
    outcome = response.json()
    assert (outcome["status"], outcome["school"], outcome["level"]) == (
        "back_in_school",
        "Collège Ibn Tofail, Marrakech",
        "1AC",
    )
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    assert await stream_count(js, "TRAINING") == 2  # training-completed, then the outcome
    event = parse_event((await js.get_msg("TRAINING", 2)).data or b"")
    assert (event.subject, event.sequence) == (training["id"], 3)
    data = event.data
    assert isinstance(data, LearnerOutcomeRecorded)
    assert (data.outcome_id, data.months_after, data.status) == (outcome["id"], 6, "back_in_school")
    assert data.enrollment_id == training["enrollment_id"]


async def test_a_follow_up_comes_after_completion_and_once_per_month(
    client: httpx.AsyncClient, open_training: OpenTraining, ready: Ready
) -> None:
    still_open = await open_training(2)
    training = await completed(client, open_training, ready, 1)
    url = f"/trainings/{training['id']}/outcomes"

    early = await client.post(f"/trainings/{still_open['id']}/outcomes", json=BACK_IN_SCHOOL)
    first = await client.post(url, json=BACK_IN_SCHOOL)
    again = await client.post(url, json={"months_after": 6, "status": "employed"})
    later = await client.post(url, json={"months_after": 12, "status": "employed"})

    assert early.status_code == 409
    assert early.json()["code"] == "training_not_completed"
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["code"] == "already_recorded"
    assert later.status_code == 201


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"months_after": 6, "status": "back_in_school", "school": "X"}, {("level", "missing")}),
        ({"months_after": 6, "status": "vocational_training"}, {("institution", "missing")}),
        (
            {"months_after": 6, "status": "employed", "school": "X"},
            {("school", "not_for_status")},
        ),
        ({"months_after": 0, "status": "none"}, {("months_after", "greater_than_equal")}),
        ({"months_after": 61, "status": "none"}, {("months_after", "less_than_equal")}),
        ({"months_after": 6, "status": "retired"}, {("status", "enum")}),
        ({"months_after": 6, "status": "none", "salary": 3000}, {("salary", "extra_forbidden")}),
        ({"status": "none"}, {("months_after", "missing")}),
    ],
)
async def test_a_wrong_follow_up_is_refused_naming_each_field(
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    body: dict[str, Any],
    errors: set[tuple[str, str]],
) -> None:
    training = await completed(client, open_training, ready, 1)

    response = await client.post(f"/trainings/{training['id']}/outcomes", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == errors
    assert all(e["message"] for e in response.json()["errors"])


async def test_a_follow_up_outside_the_callers_scope_is_not_found(
    client: httpx.AsyncClient, caller: Caller, open_training: OpenTraining, ready: Ready
) -> None:
    training = await completed(client, open_training, ready, 1)

    response = await client.post(
        f"/trainings/{training['id']}/outcomes", json=BACK_IN_SCHOOL, headers=caller("staff_b")
    )
    officer = await client.post(
        f"/trainings/{training['id']}/outcomes", json=BACK_IN_SCHOOL, headers=caller("officer_07")
    )

    assert response.status_code == 404
    assert officer.status_code == 403


# --- indicators -----------------------------------------------------------------------------


async def test_indicators_by_center_within_each_callers_scope(
    client: httpx.AsyncClient,
    caller: Caller,
    open_training: OpenTraining,
    ready: Ready,
    places: dict[str, dict[str, str]],
) -> None:
    done = await completed(client, open_training, ready, 1, place="A1")
    await open_training(2, place="A1")
    await open_training(3, place="A2")
    await open_training(4, place="B")
    await client.post(f"/trainings/{done['id']}/outcomes", json=BACK_IN_SCHOOL)

    async def figures(name: str) -> dict[str | None, tuple[int, float | None, float | None]]:
        response = await client.get("/indicators", params={"by": "center"}, headers=caller(name))
        assert response.status_code == 200, response.text
        return {
            g["group"]["center"]: (g["learners"], g["completion_rate"], g["reintegration_rate"])
            for g in response.json()
        }

    a1, a2, b = (places[name]["center_id"] for name in ("A1", "A2", "B"))
    assert await figures("admin") == {a1: (2, 0.5, 1.0), a2: (1, 0.0, None), b: (1, 0.0, None)}
    assert await figures("staff_a") == {a1: (2, 0.5, 1.0), a2: (1, 0.0, None)}
    assert await figures("educator_a2") == {a2: (1, 0.0, None)}
    assert await figures("directorate_071") == {a1: (2, 0.5, 1.0)}
    assert await figures("directorate_r07") == {a1: (2, 0.5, 1.0), a2: (1, 0.0, None)}
    assert await figures("officer_06") == {b: (1, 0.0, None)}
    forbidden = await client.get("/indicators", headers=caller("partner"))
    assert forbidden.status_code == 403


async def test_indicators_by_sex_pathway_and_school_year(
    client: httpx.AsyncClient, open_training: OpenTraining, ready: Ready
) -> None:
    # Test learners with odd numbers are girls.
    await completed(client, open_training, ready, 1)
    await open_training(2)
    await open_training(3)

    response = await client.get(
        "/indicators",
        params=[("by", "sex"), ("by", "pathway"), ("by", "school_year")],
    )

    groups = {(g["group"]["sex"], g["learners"], g["completed"]) for g in response.json()}
    assert groups == {("female", 2, 1), ("male", 1, 0)}
    assert {g["group"]["school_year"] for g in response.json()} == {"2025/2026"}
    female = next(g for g in response.json() if g["group"]["sex"] == "female")
    assert female["attendance_rate"] == 1.0
    other_year = await client.get("/indicators", params={"school_year": "2024/2025"})
    assert other_year.json()[0]["learners"] == 0

    published = await client.get("/indicators", params={"by": "sex", "publication": "true"})
    assert [
        (g["group"]["sex"], g["learners"], g["completed"], g["at_risk"], g["attendance_rate"])
        for g in published.json()
    ] == [("female", None, None, 0, None), ("male", None, None, 0, None)]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"by": "planet"}, {("query.by.0", "enum")}),
        ({"school_year": "2025/2027"}, {("query.school_year", "value_error")}),
        ({"school_year": "25-26"}, {("query.school_year", "string_pattern_mismatch")}),
    ],
)
async def test_bad_indicator_questions_are_problems(
    client: httpx.AsyncClient, params: dict[str, str], errors: set[tuple[str, str]]
) -> None:
    response = await client.get("/indicators", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == errors


def _places(*names: str) -> list[dict[str, str]]:
    from conftest import PLACES

    return [PLACES[name] for name in names]

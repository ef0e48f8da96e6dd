"""Corrections of marks, scores and follow-ups: each keeps what the entry was, why, who and
when; an excused absence does not count against the early warning; a plain second POST stays
a conflict; another association's entries are not found."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import select

from fursa.shared.clock import local_today
from fursa.shared.contracts import (
    LearnerAtRisk,
    LearnerErased,
    LearnerOutcomeRecorded,
    new_event,
    parse_event,
)
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import stream_count, wait_until
from fursa.training.models import TrainingModel

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Ready = Callable[..., Awaitable[None]]
Deliver = Callable[..., Awaitable[None]]
Caller = Callable[[str], dict[str, str]]
TODAY = local_today()


def day(n: int) -> str:
    return (TODAY - timedelta(days=30 - n)).isoformat()


async def call(client: httpx.AsyncClient, on: int, *marks: tuple[str, bool]) -> str:
    body = {
        "module": "literacy",
        "held_on": day(on),
        "hours": 2,
        "attendance": [{"training_id": t, "present": p} for t, p in marks],
    }
    response = await client.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def published(app: FastAPI, js: JetStreamContext) -> list[Any]:
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    count = await stream_count(js, "TRAINING")
    return [parse_event((await js.get_msg("TRAINING", n)).data or b"") for n in range(1, count + 1)]


async def test_a_mark_is_corrected_with_its_reason_and_the_previous_value_kept(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    training = await open_training(1)
    session_id = await call(client, 1, (training["id"], False))
    url = f"/sessions/{session_id}/attendance/{training['id']}"
    excused = {"present": False, "excused": True, "reason": "excuse_presented"}

    corrected = await client.put(url, json=excused, headers=caller("educator_a1"))
    resent = await client.put(url, json=excused, headers=caller("educator_a1"))
    again = await client.post(
        "/sessions",
        json={
            "module": "literacy",
            "held_on": day(1),
            "hours": 2,
            "attendance": [{"training_id": training["id"], "present": True}],
        },
    )

    assert corrected.status_code == 200, corrected.text
    assert corrected.json() | {"at_risk": []} == {
        "session_id": session_id,
        "training_id": training["id"],
        "present": False,
        "excused": True,
        "recorded_by": "dev-educator",
        "at_risk": [],
    }
    assert resent.status_code == 200
    assert again.status_code == 409  # recording twice stays a conflict
    [history] = (await client.get(f"/trainings/{training['id']}/corrections")).json()
    assert history["kind"] == "attendance"
    assert history["entry_id"] == session_id
    assert history["previous"] == {"present": False, "excused": False}
    assert history["current"] == {"present": False, "excused": True}
    assert (history["reason"], history["corrected_by"]) == ("excuse_presented", "dev-educator")
    assert history["corrected_at"]
    [line] = (await client.get(f"/sessions/{session_id}")).json()["learners"]
    assert (line["excused"], line["recorded_by"]) == (True, "dev-educator")


async def test_excused_absences_do_not_count_against_the_at_risk_threshold(
    app: FastAPI, js: JetStreamContext, client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    # The test settings: at risk under 0.5 over the last 3 sessions that count.
    absent, excused, slipping = (
        await open_training(1),
        await open_training(2),
        await open_training(3),
    )
    sessions = []
    for on, present in [(1, True), (2, True), (3, False)]:
        body = {
            "module": "literacy",
            "held_on": day(on),
            "hours": 2,
            "attendance": [
                {"training_id": absent["id"], "present": False},
                {"training_id": excused["id"], "present": False, "excused": True},
                {"training_id": slipping["id"], "present": present},
            ],
        }
        response = await client.post("/sessions", json=body)
        sessions.append(response.json())
    assert sessions[-1]["at_risk"] == [absent["id"]]

    # A justification comes for one of three absences: the window no longer holds three.
    excusing = await client.put(
        f"/sessions/{sessions[2]['id']}/attendance/{absent['id']}",
        json={"present": False, "excused": True, "reason": "excuse_presented"},
    )
    # A present mark was a mistake: two absences of three start an episode.
    mistake = await client.put(
        f"/sessions/{sessions[1]['id']}/attendance/{slipping['id']}",
        json={"present": False, "reason": "entry_error"},
    )

    assert excusing.status_code == 200, excusing.text
    assert (await client.get(f"/trainings/{absent['id']}")).json()["at_risk"] is False
    assert (await client.get(f"/trainings/{excused['id']}")).json()["at_risk"] is False
    assert mistake.json()["at_risk"] == [slipping["id"]]
    alerts = [e.data for e in await published(app, js) if isinstance(e.data, LearnerAtRisk)]
    assert [a.training_id for a in alerts] == [absent["id"], slipping["id"]]


async def test_a_learner_the_call_forgot_is_added_by_a_correction(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    called, forgotten = await open_training(1), await open_training(2)
    elsewhere = await open_training(3, place="A2")
    session_id = await call(client, 1, (called["id"], True))

    added = await client.put(
        f"/sessions/{session_id}/attendance/{forgotten['id']}",
        json={"present": True, "reason": "late_arrival"},
    )
    other_center = await client.put(
        f"/sessions/{session_id}/attendance/{elsewhere['id']}",
        json={"present": True, "reason": "late_arrival"},
    )

    assert added.status_code == 200, added.text
    [history] = (await client.get(f"/trainings/{forgotten['id']}/corrections")).json()
    assert history["previous"] is None
    progress = (await client.get(f"/trainings/{forgotten['id']}/progress")).json()
    assert progress["hours_attended"] == 2
    assert other_center.status_code == 422
    assert [(e["field"], e["rule"]) for e in other_center.json()["errors"]] == [
        ("training_id", "other_center")
    ]


async def test_a_score_is_corrected_and_passes_at_the_pass_mark(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    body = {
        "module": "literacy",
        "assessed_on": day(5),
        "scores": [{"training_id": training["id"], "score": 8}],
    }
    [assessment] = (await client.post("/assessments", json=body)).json()

    corrected = await client.put(
        f"/assessments/{assessment['id']}", json={"score": 12.5, "reason": "remarked"}
    )

    assert assessment["passed"] is False
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["score"], corrected.json()["passed"]) == (12.5, True)
    listed = (await client.get(f"/trainings/{training['id']}/assessments")).json()
    assert [(a["id"], a["assessed_on"], a["passed"]) for a in listed] == [
        (assessment["id"], day(5), True)
    ]
    [history] = (await client.get(f"/trainings/{training['id']}/corrections")).json()
    assert (history["previous"], history["current"]) == (
        {"score": 8, "passed": False},
        {"score": 12.5, "passed": True},
    )
    assert (await client.post("/assessments", json=body)).status_code == 409


async def test_a_follow_up_is_corrected_published_again_and_forgotten_at_erasure(
    app: FastAPI,
    js: JetStreamContext,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    deliver: Deliver,
) -> None:
    training = await open_training(1)
    await ready(training)
    url = f"/trainings/{training['id']}/outcomes"
    await client.post(f"/trainings/{training['id']}/completion", json={"result": "passed"})
    first = {"months_after": 6, "status": "vocational_training", "institution": "ISTA NTIC"}
    outcome = (await client.post(url, json=first)).json()

    corrected = await client.put(
        f"{url}/6",
        json={
            "status": "back_in_school",
            "school": "Collège Ibn Tofail",
            "level": "1AC",
            "reason": "new_information",
        },
    )
    missing = await client.put(f"{url}/12", json={"status": "none", "reason": "entry_error"})

    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["id"], corrected.json()["status"]) == (outcome["id"], "back_in_school")
    assert missing.status_code == 404
    outcomes = [e for e in await published(app, js) if isinstance(e.data, LearnerOutcomeRecorded)]
    assert [(e.data.outcome_id, e.data.status) for e in outcomes] == [
        (outcome["id"], "vocational_training"),
        (outcome["id"], "back_in_school"),
    ]
    assert outcomes[1].sequence > outcomes[0].sequence
    [history] = (await client.get(f"/trainings/{training['id']}/corrections")).json()
    assert history["previous"]["institution"] == "ISTA NTIC"

    enrolled = learner_enrolled(1)
    erased = LearnerErased(
        learner_id=enrolled.learner_id,
        enrollment_ids=[enrolled.enrollment_id],
        erased_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    await deliver((new_event(erased, subject=erased.learner_id, sequence=2), "erased"))
    runtime: ServiceRuntime = app.state.runtime

    async def forgotten() -> bool:
        async with runtime.db.connect() as connection:
            table = TrainingModel.metadata.tables["correction"]
            rows = (await connection.execute(select(table))).all()
        return not [row for row in rows if "ISTA" in repr(row) or "Ibn Tofail" in repr(row)]

    await wait_until(forgotten)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"present": True, "excused": True, "reason": "entry_error"},
            {("excused", "excused_but_present")},
        ),
        ({"present": False, "reason": "because"}, {("reason", "enum")}),
        ({"present": False}, {("reason", "missing")}),
        (
            {"present": False, "reason": "entry_error", "note": "malade"},
            {("note", "extra_forbidden")},
        ),
    ],
)
async def test_a_wrong_correction_is_refused_naming_each_field(
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    body: dict[str, Any],
    errors: set[tuple[str, str]],
) -> None:
    training = await open_training(1)
    session_id = await call(client, 1, (training["id"], False))

    response = await client.put(f"/sessions/{session_id}/attendance/{training['id']}", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == errors
    assert (await client.get(f"/trainings/{training['id']}/corrections")).json() == []


async def test_another_associations_entries_cannot_be_corrected(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    training = await open_training(1)
    session_id = await call(client, 1, (training["id"], False))
    body = {
        "module": "literacy",
        "assessed_on": day(5),
        "scores": [{"training_id": training["id"], "score": 8}],
    }
    [assessment] = (await client.post("/assessments", json=body)).json()
    mark = {"present": True, "reason": "entry_error"}
    score = {"score": 15, "reason": "remarked"}

    for name, status in [("staff_b", 404), ("educator_a2", 404), ("officer_07", 403)]:
        headers = caller(name)
        mark_url = f"/sessions/{session_id}/attendance/{training['id']}"
        assert (await client.put(mark_url, json=mark, headers=headers)).status_code == status
        score_url = f"/assessments/{assessment['id']}"
        assert (await client.put(score_url, json=score, headers=headers)).status_code == status
    history = await client.get(
        f"/trainings/{training['id']}/corrections", headers=caller("staff_b")
    )
    assert history.status_code == 404
    assert (await client.get(f"/trainings/{training['id']}/corrections")).json() == []

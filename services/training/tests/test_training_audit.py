"""Who recorded or corrected a learner's attendance, scores, completion and follow-ups, and
why: training's audit trail, read by officers, the directorate and associations within their
scope. On SQLite and on PostgreSQL, against the running service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from fursa.shared.contracts import LearnerErased
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.training.service import erase_learner

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Ready = Callable[..., Awaitable[None]]
Caller = Callable[[str], dict[str, str]]


async def trail(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_learners_year_is_in_the_trail_with_who_and_why(
    app: FastAPI,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    caller: Caller,
) -> None:
    training = await open_training(1)
    await ready(training)
    educator = caller("educator_a1")
    assessments = (await client.get(f"/trainings/{training['id']}/assessments")).json()
    corrected = await client.put(
        f"/assessments/{assessments[0]['id']}",
        json={"score": 15, "reason": "remarked"},
        headers=educator,
    )
    assert corrected.status_code == 200, corrected.text
    completed = await client.post(
        f"/trainings/{training['id']}/completion", json={"result": "passed"}, headers=educator
    )
    assert completed.status_code == 200, completed.text
    outcome = await client.post(
        f"/trainings/{training['id']}/outcomes",
        json={"months_after": 6, "status": "vocational_training", "institution": "ISTA NTIC"},
        headers=educator,
    )
    assert outcome.status_code == 201, outcome.text

    entries = await trail(client, caller("officer_07"), learner_id=uuid_of("learner", 1))

    assert [(e["action"], e["reason"]) for e in entries] == [
        ("assessment.recorded", None),
        ("assessment.recorded", None),
        ("assessment.corrected", "remarked"),
        ("training.completed", None),
        ("follow_up.recorded", None),
    ]
    assert entries[2]["entity_id"] == assessments[0]["id"]
    assert entries[2]["actor"] == "dev-educator"
    assert entries[2]["role"] == "educator"
    assert entries[3]["details"] == {"training_id": training["id"], "result": "passed"}
    assert entries[4]["details"] == {"training_id": training["id"], "months_after": 6}
    for entry in entries:
        assert (entry["center_id"], entry["region_code"]) == (uuid_of("center", 1), "07")
    # A session is the class's act: one entry each, placed at the center, naming no learner.
    called = await trail(client, caller("officer_07"), action="attendance.recorded")
    assert [(e["entity"], e["learner_id"], e["details"]["module"]) for e in called] == [
        ("class_session", None, "literacy"),
        ("class_session", None, "tailoring"),
    ]
    # No school, no institution, no score, no name in what the trail says.
    said = str(await trail(client, caller("admin")))
    assert "ISTA NTIC" not in said
    assert learner_enrolled(1).pii.first_name_latin not in said


async def test_a_mark_corrected_says_who_and_why(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    training = await open_training(1)
    body = {
        "module": "literacy",
        "held_on": "2025-11-03",
        "hours": 2,
        "attendance": [{"training_id": training["id"], "present": False}],
    }
    session_id = (await client.post("/sessions", json=body)).json()["id"]
    excused = {"present": False, "excused": True, "reason": "excuse_presented"}
    corrected = await client.put(
        f"/sessions/{session_id}/attendance/{training['id']}",
        json=excused,
        headers=caller("educator_a1"),
    )
    assert corrected.status_code == 200, corrected.text

    [entry] = await trail(client, caller("staff_a"), action="attendance.corrected")
    assert (entry["entity"], entry["entity_id"], entry["reason"]) == (
        "attendance",
        session_id,
        "excuse_presented",
    )
    assert entry["learner_id"] == uuid_of("learner", 1)


async def test_readers_see_their_own_territory_only(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    in_07 = await open_training(1, place="A1")
    in_06 = await open_training(2, place="B")
    for training, day in ((in_07, "2025-11-03"), (in_06, "2025-11-04")):
        body = {
            "module": "literacy",
            "held_on": day,
            "hours": 2,
            "attendance": [{"training_id": training["id"], "present": True}],
        }
        assert (await client.post("/sessions", json=body)).status_code == 201

    def centers(entries: list[dict[str, Any]]) -> set[str]:
        return {entry["center_id"] for entry in entries}

    assert centers(await trail(client, caller("officer_07"))) == {uuid_of("center", 1)}
    assert centers(await trail(client, caller("officer_06"))) == {uuid_of("center", 3)}
    assert centers(await trail(client, caller("directorate_071"))) == {uuid_of("center", 1)}
    assert centers(await trail(client, caller("directorate_141"))) == {uuid_of("center", 3)}
    assert centers(await trail(client, caller("staff_b"))) == {uuid_of("center", 3)}
    assert len(await trail(client, caller("admin"))) == 2
    educator = await client.get("/audit", headers=caller("educator_a1"))
    assert educator.status_code == 403


async def test_a_curriculum_set_and_an_erasure_are_in_the_trail(
    app: FastAPI, client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    await open_training(1)
    center = uuid_of("center", 1)
    plan = {"modules": {"literacy": 2}, "workshops": {"electricity": 2}, "workshops_required": 1}
    put = await client.put(
        f"/centers/{center}/curriculum/vocational_training",
        json=plan,
        headers=caller("staff_a"),
    )
    assert put.status_code == 200, put.text
    async with app.state.runtime.uow.begin() as tx:
        await erase_learner(
            tx,
            LearnerErased(
                learner_id=uuid_of("learner", 1),
                enrollment_ids=[uuid_of("enrollment", 1)],
                erased_at=datetime(2026, 7, 1, tzinfo=UTC),
            ),
        )

    entries = await trail(client, caller("directorate_r07"))
    assert [(e["action"], e["actor"], e["role"]) for e in entries] == [
        ("curriculum.set", "dev-association_staff", "association_staff"),
        ("learner.erased", "fursa/training", "system"),
    ]
    assert entries[0]["details"] == {"pathway": "vocational_training"}
    assert entries[1]["learner_id"] == uuid_of("learner", 1)

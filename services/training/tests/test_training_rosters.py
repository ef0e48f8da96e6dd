"""Class rosters by name: a center's classes, who is in one and who was called at a session;
names follow learner-updated and go with learner-erased; another association's center and
sessions are not found."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from fursa.shared.clock import local_today
from fursa.shared.contracts import CloudEvent, LearnerErased, LearnerUpdated, new_event
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.builders import learner_enrolled, learner_pii
from fursa.shared.testing.kernel import wait_until
from fursa.training.models import TrainingModel

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Deliver = Callable[..., Awaitable[None]]
Caller = Callable[[str], dict[str, str]]
YESTERDAY = (local_today() - timedelta(days=1)).isoformat()


def call(*marks: tuple[str, bool, bool], class_name: str = "B") -> dict[str, Any]:
    return {
        "module": "literacy",
        "held_on": YESTERDAY,
        "hours": 2,
        "class_name": class_name,
        "attendance": [
            {"training_id": t, "present": present, "excused": excused}
            for t, present, excused in marks
        ],
    }


def renamed(n: int) -> CloudEvent[Any]:
    pii = learner_pii(n).model_copy(update={"first_name_ar": "زينب", "first_name_latin": "Zineb"})
    data = LearnerUpdated(
        learner_id=learner_enrolled(n).learner_id,
        association_id=learner_enrolled(n).association_id,
        changed=["first_name_ar", "first_name_latin"],
        updated_at=datetime(2026, 1, 5, tzinfo=UTC),
        pii=pii,
    )
    return new_event(data, subject=data.learner_id, sequence=2)


def erased(n: int) -> CloudEvent[Any]:
    enrolled = learner_enrolled(n)
    data = LearnerErased(
        learner_id=enrolled.learner_id,
        enrollment_ids=[enrolled.enrollment_id],
        erased_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return new_event(data, subject=data.learner_id, sequence=3)


def handled(app: FastAPI, count: int) -> bool:
    runtime: ServiceRuntime = app.state.runtime
    stats = runtime.consumers[0].stats
    return stats.applied + stats.duplicates + stats.stale >= count


async def test_a_class_roster_names_its_learners_and_a_session_its_marks(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    salma, omar, other = await open_training(1), await open_training(2), await open_training(3)
    center = salma["center_id"]
    recorded = await client.post(
        "/sessions", json=call((salma["id"], True, False), (omar["id"], False, True))
    )
    assert recorded.status_code == 201, recorded.text

    classes = (await client.get(f"/centers/{center}/classes")).json()
    roster = (await client.get(f"/centers/{center}/classes/B")).json()
    called = (await client.get(f"/sessions/{recorded.json()['id']}")).json()

    assert classes == [{"class_name": "B", "learners": 2}, {"class_name": None, "learners": 1}]
    assert {line["training_id"] for line in roster} == {salma["id"], omar["id"]}
    assert {(line["first_name_ar"], line["last_name_ar"]) for line in roster} == {("سلمى", "بنعلي")}
    assert roster[0]["first_name_latin"] == "Salma"
    marks = {line["training_id"]: line for line in called["learners"]}
    assert (marks[salma["id"]]["present"], marks[salma["id"]]["excused"]) == (True, False)
    assert (marks[omar["id"]]["present"], marks[omar["id"]]["excused"]) == (False, True)
    assert marks[omar["id"]]["recorded_by"] == called["recorded_by"] == "dev-admin"
    assert other["id"] not in marks


async def test_a_class_lists_its_latest_sessions_most_recent_day_first(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)
    earlier = (local_today() - timedelta(days=3)).isoformat()
    first = await client.post("/sessions", json=call((training["id"], True, False)))
    second = await client.post(
        "/sessions", json=call((training["id"], False, False)) | {"held_on": earlier}
    )
    other_class = await client.post(
        "/sessions", json=call((training["id"], True, False), class_name="C")
    )
    assert {first.status_code, second.status_code, other_class.status_code} == {201}

    url = f"/centers/{training['center_id']}/classes/B/sessions"
    listed = (await client.get(url)).json()
    latest = (await client.get(url, params={"limit": 1})).json()

    assert [s["id"] for s in listed] == [first.json()["id"], second.json()["id"]]
    assert [(s["module"], s["held_on"], s["hours"]) for s in listed] == [
        ("literacy", YESTERDAY, 2),
        ("literacy", earlier, 2),
    ]
    assert listed[0]["recorded_by"] == "dev-admin"
    assert [s["id"] for s in latest] == [first.json()["id"]]


async def test_a_learner_is_put_in_a_class_of_their_center(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    training = await open_training(1)

    moved = await client.put(f"/trainings/{training['id']}/class", json={"class_name": "C"})
    roster = (await client.get(f"/centers/{training['center_id']}/classes/C")).json()
    slash = await client.put(f"/trainings/{training['id']}/class", json={"class_name": "C/D"})

    assert moved.status_code == 200, moved.text
    assert [line["training_id"] for line in roster] == [training["id"]]
    assert slash.status_code == 422
    assert [e["field"] for e in slash.json()["errors"]] == ["class_name"]


async def test_a_corrected_name_reaches_the_roster(
    app: FastAPI, client: httpx.AsyncClient, open_training: OpenTraining, deliver: Deliver
) -> None:
    training = await open_training(1)
    await client.put(f"/trainings/{training['id']}/class", json={"class_name": "B"})

    await deliver((renamed(1), "renamed"))
    await wait_until(lambda: handled(app, 2))

    [line] = (await client.get(f"/centers/{training['center_id']}/classes/B")).json()
    assert (line["first_name_ar"], line["first_name_latin"]) == ("زينب", "Zineb")


async def test_an_erasure_removes_the_learners_names_from_rosters(
    app: FastAPI, client: httpx.AsyncClient, open_training: OpenTraining, deliver: Deliver
) -> None:
    training, kept = await open_training(1), await open_training(2)
    recorded = await client.post(
        "/sessions", json=call((training["id"], True, False), (kept["id"], True, False))
    )

    await deliver((erased(1), "erased"))
    await wait_until(lambda: handled(app, 3))

    roster = (await client.get(f"/centers/{training['center_id']}/classes/B")).json()
    called = (await client.get(f"/sessions/{recorded.json()['id']}")).json()
    anonymous = [line for line in roster if line["training_id"] == training["id"]]
    assert anonymous == [roster[-1]]  # anonymous lines come last
    assert [anonymous[0][k] for k in ("first_name_ar", "last_name_latin")] == [None, None]
    assert [line["first_name_latin"] for line in called["learners"]] == ["Salma", None]
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.db.connect() as connection:
        table = TrainingModel.metadata.tables["learner_name"]
        names = (await connection.execute(select(table.c.learner_id))).scalars().all()
    assert names == [kept["learner_id"]]


async def test_another_associations_center_and_session_are_not_found(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    training = await open_training(1)
    recorded = await client.post("/sessions", json=call((training["id"], True, False)))
    center, session_id = training["center_id"], recorded.json()["id"]
    urls = [
        f"/centers/{center}/classes",
        f"/centers/{center}/classes/B",
        f"/centers/{center}/classes/B/sessions",
        f"/sessions/{session_id}",
    ]

    for name, status in [
        ("staff_b", 404),
        ("educator_a2", 404),
        ("officer_07", 403),
        ("partner", 403),
        ("staff_a", 200),
        ("educator_a1", 200),
    ]:
        for url in urls:
            response = await client.get(url, headers=caller(name))
            assert response.status_code == status, (name, url, response.text)
    unknown = "/centers/00000000-0000-4000-8000-000000000000/classes"
    assert (await client.get(unknown, headers=caller("staff_a"))).status_code == 404

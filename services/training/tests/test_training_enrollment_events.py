"""The enrollment service's events, as training hears them: learner-enrolled opens one
training, learner-transferred moves it (history kept), learner-withdrawn closes it, and
learner-erased forgets the learner behind a tombstone that late redeliveries cannot cross."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlmodel import select as select_models

from fursa.shared.contracts import (
    CloudEvent,
    LearnerErased,
    LearnerTransferred,
    LearnerWithdrawn,
    WithdrawalReason,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.streams import LEARNER_ENROLLED
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.builders import learner_enrolled, learner_pii
from fursa.shared.testing.kernel import wait_until
from fursa.training.models import ErasedLearner, TrainingModel, TrainingTransfer

EventFactory = Callable[..., CloudEvent[Any]]
Deliver = Callable[..., Awaitable[None]]
OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Caller = Callable[[str], dict[str, str]]


def transferred(n: int, to: dict[str, str], *, sequence: int = 2) -> CloudEvent[Any]:
    enrolled = learner_enrolled(n)
    data = LearnerTransferred(
        enrollment_id=enrolled.enrollment_id,
        learner_id=enrolled.learner_id,
        association_id=to["association_id"],
        from_center_id=enrolled.center_id,
        to_center_id=to["center_id"],
        region_code=to["region_code"],
        province_code=to["province_code"],
        pathway=enrolled.pathway,
        transferred_on=date(2026, 1, 12),
    )
    return new_event(data, subject=data.enrollment_id, sequence=sequence)


def withdrawn(n: int, *, sequence: int = 2) -> CloudEvent[Any]:
    enrolled = learner_enrolled(n)
    data = LearnerWithdrawn(
        enrollment_id=enrolled.enrollment_id,
        learner_id=enrolled.learner_id,
        association_id=enrolled.association_id,
        center_id=enrolled.center_id,
        pathway=enrolled.pathway,
        reason=WithdrawalReason.WORK,
        withdrawn_on=date(2026, 2, 2),
    )
    return new_event(data, subject=data.enrollment_id, sequence=sequence)


def erased(n: int) -> CloudEvent[Any]:
    enrolled = learner_enrolled(n)
    data = LearnerErased(
        learner_id=enrolled.learner_id,
        enrollment_ids=[enrolled.enrollment_id],
        erased_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return new_event(data, subject=data.learner_id, sequence=1)


async def rows(app: FastAPI) -> list[str]:
    """Every row of every training table, as text."""
    runtime: ServiceRuntime = app.state.runtime
    stored = []
    async with runtime.db.connect() as connection:
        for table in TrainingModel.metadata.sorted_tables:
            stored += [repr(row) for row in (await connection.execute(select(table))).all()]
    return stored


async def trainings_of(client: httpx.AsyncClient, n: int) -> list[dict[str, Any]]:
    enrollment_id = learner_enrolled(n).enrollment_id
    found: list[dict[str, Any]] = (
        await client.get("/trainings", params={"enrollment_id": enrollment_id})
    ).json()
    return found


# --- learner-enrolled -----------------------------------------------------------------------


async def test_learner_enrolled_opens_one_training_whatever_the_redeliveries(
    client: httpx.AsyncClient, enrolled: EventFactory, deliver: Deliver
) -> None:
    first = enrolled(1)
    again = enrolled(1, sequence=2)  # a distinct event about the same enrollment

    await deliver(
        (first, "first"),
        (first, "republished"),  # past the duplicate window: a new message id
        (again, again.id),
    )
    await wait_until(lambda: _any(client, 1))

    data = learner_enrolled(1)
    [training] = await trainings_of(client, 1)
    assert training["status"] == "open"
    assert training["learner_id"] == data.learner_id
    assert training["center_id"] == data.center_id
    assert training["pathway"] == "vocational_training"
    assert training["school_year"] == "2025/2026"
    assert training["completed_on"] is None
    summary = (await client.get("/trainings/summary")).json()
    assert summary == {"open": 1, "completed": 0, "withdrawn": 0}


async def test_training_keeps_only_the_learners_sex_and_names_of_their_personal_data(
    app: FastAPI, client: httpx.AsyncClient, enrolled: EventFactory, deliver: Deliver
) -> None:
    await deliver((enrolled(2), "only"))
    await wait_until(lambda: _any(client, 2))

    pii = learner_pii(2)
    secrets = {pii.guardian.name, pii.guardian.phone, pii.birth_date.isoformat()}
    stored = await rows(app)
    learner_id = learner_enrolled(2).learner_id
    assert any(learner_id in row and "'male'" in row for row in stored)
    assert any(learner_id in row and pii.last_name_ar in row for row in stored)  # rosters
    assert not [secret for secret in secrets if any(secret in row for row in stored)]


async def test_trainings_of_an_enrollment_not_yet_seen_is_an_empty_list(
    client: httpx.AsyncClient,
) -> None:
    assert await trainings_of(client, 9) == []


# --- learner-transferred --------------------------------------------------------------------


async def test_a_transfer_moves_the_training_and_keeps_its_history(
    app: FastAPI,
    client: httpx.AsyncClient,
    caller: Caller,
    open_training: OpenTraining,
    deliver: Deliver,
    places: dict[str, dict[str, str]],
) -> None:
    training = await open_training(1, place="A1")
    url = f"/trainings/{training['id']}"

    await deliver((transferred(1, places["A2"]), "moved"))
    await wait_until(lambda: _center_is(client, url, places["A2"]["center_id"]))

    assert (await client.get(url, headers=caller("educator_a1"))).status_code == 404
    assert (await client.get(url, headers=caller("educator_a2"))).status_code == 200
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.db.read() as session:
        [move] = (await session.exec(select_models(TrainingTransfer))).all()
    assert (move.from_center_id, move.to_center_id) == (
        places["A1"]["center_id"],
        places["A2"]["center_id"],
    )
    assert move.transferred_on == date(2026, 1, 12)
    assert (await client.get(url)).json()["status"] == "open"


# --- learner-withdrawn ----------------------------------------------------------------------


async def test_a_withdrawal_closes_the_training_to_sessions_and_completion(
    client: httpx.AsyncClient, open_training: OpenTraining, deliver: Deliver
) -> None:
    training = await open_training(1)
    url = f"/trainings/{training['id']}"

    await deliver((withdrawn(1), "left"))
    await wait_until(lambda: _status_is(client, url, "withdrawn"))

    closed = (await client.get(url)).json()
    assert closed["closed_on"] == "2026-02-02"
    session = {
        "module": "literacy",
        "held_on": "2026-02-03",
        "hours": 2,
        "attendance": [{"training_id": training["id"], "present": True}],
    }
    refused = await client.post("/sessions", json=session)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "training_closed"
    completion = await client.post(f"{url}/completion", json={"result": "failed"})
    assert completion.status_code == 409
    assert completion.json()["code"] == "training_closed"
    summary = (await client.get("/trainings/summary")).json()
    assert summary == {"open": 0, "completed": 0, "withdrawn": 1}


async def test_leaving_the_waiting_list_closes_nothing_and_dead_letters_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    deliver: Deliver,
    places: dict[str, dict[str, str]],
) -> None:
    # Learner 7 never left the waiting list: training never opened anything for them.
    await deliver((transferred(7, places["B"], sequence=1), "moved"))
    await deliver((withdrawn(7, sequence=2), "left-the-waiting-list"))
    await wait_until(lambda: _handled(app, 2))

    runtime: ServiceRuntime = app.state.runtime
    assert runtime.consumers[0].stats.dead_lettered == 0
    assert await trainings_of(client, 7) == []


# --- learner-erased -------------------------------------------------------------------------


async def test_an_erasure_forgets_the_learners_sex_and_a_late_redelivery_cannot_restore_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    enrolled: EventFactory,
    open_training: OpenTraining,
    deliver: Deliver,
) -> None:
    training = await open_training(1)
    learner_id = training["learner_id"]

    await deliver((erased(1), "erased"))
    late = enrolled(1)
    await deliver((late, "late-redelivery"), (enrolled(1, sequence=5), "another"))
    await wait_until(lambda: _handled(app, 4))

    assert [t["id"] for t in await trainings_of(client, 1)] == [training["id"]]
    stored = await rows(app)
    assert not [row for row in stored if learner_id in row and "male" in row]
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.db.read() as session:
        assert await session.get(ErasedLearner, learner_id) is not None
    indicators = (await client.get("/indicators", params={"by": "sex"})).json()
    assert [(g["group"], g["learners"]) for g in indicators] == [({"sex": None}, 1)]


async def test_an_erasure_forgets_the_school_and_institution_of_follow_ups(
    app: FastAPI, client: httpx.AsyncClient, open_training: OpenTraining, deliver: Deliver
) -> None:
    training = await open_training(1)
    await client.post(f"/trainings/{training['id']}/completion", json={"result": "failed"})
    follow_up = {"months_after": 6, "status": "vocational_training", "institution": "ISTA NTIC"}
    assert (await client.post(f"/trainings/{training['id']}/outcomes", json=follow_up)).is_success
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()  # published: only the sent outbox row holds it now

    await deliver((erased(1), "erased"))
    await wait_until(lambda: _handled(app, 2))

    assert not [row for row in await rows(app) if "ISTA NTIC" in row]
    indicators = (await client.get("/indicators")).json()
    assert indicators[0]["reintegration_rate"] == 1.0  # the situation stays, anonymous


async def test_an_erasure_before_the_enrollment_arrives_leaves_nothing_to_open(
    app: FastAPI, client: httpx.AsyncClient, enrolled: EventFactory, deliver: Deliver
) -> None:
    await deliver((erased(5), "erased-first"))

    await deliver((enrolled(5), "enrolled-late"))
    await wait_until(lambda: _handled(app, 2))

    assert await trainings_of(client, 5) == []
    summary = (await client.get("/trainings/summary")).json()
    assert summary == {"open": 0, "completed": 0, "withdrawn": 0}


async def test_an_erasure_deletes_dead_letters_carrying_the_learners_personal_data(
    app: FastAPI, js: JetStreamContext, enrolled: EventFactory, deliver: Deliver
) -> None:
    broken = json.loads(to_json_bytes(enrolled(6)))
    broken["data"]["pathway"] = "astronaut"
    await js.publish(LEARNER_ENROLLED, json.dumps(broken).encode(), headers={"Nats-Msg-Id": "x"})
    runtime: ServiceRuntime = app.state.runtime
    dead_letter = runtime.tables.dead_letter

    async def dead_letters() -> int:
        async with runtime.db.connect() as connection:
            return len((await connection.execute(select(dead_letter.c.id))).all())

    await wait_until(lambda: _equals(dead_letters(), 1))
    await deliver((erased(6), "erased"))
    await wait_until(lambda: _equals(dead_letters(), 0))

    pii = learner_pii(6)
    assert not [row for row in await rows(app) if pii.guardian.phone in row]


def _handled(app: FastAPI, count: int) -> bool:
    """Whether training's consumer has handled ``count`` messages (applied or not)."""
    runtime: ServiceRuntime = app.state.runtime
    stats = runtime.consumers[0].stats
    return stats.applied + stats.duplicates + stats.stale >= count


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _any(client: httpx.AsyncClient, n: int) -> bool:
    return bool(await trainings_of(client, n))


async def _center_is(client: httpx.AsyncClient, url: str, center_id: str) -> bool:
    return bool((await client.get(url)).json()["center_id"] == center_id)


async def _status_is(client: httpx.AsyncClient, url: str, status: str) -> bool:
    return bool((await client.get(url)).json()["status"] == status)

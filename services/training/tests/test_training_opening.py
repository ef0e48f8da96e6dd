"""A learner-enrolled event opens one training, which keeps no personal data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from fursa.shared.contracts import CloudEvent
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.builders import learner_enrolled, learner_pii
from fursa.training.models import TrainingModel

EventFactory = Callable[..., CloudEvent[Any]]
Deliver = Callable[..., Awaitable[None]]


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

    data = learner_enrolled(1)
    response = await client.get("/trainings", params={"enrollment_id": data.enrollment_id})
    [training] = response.json()
    assert training["status"] == "open"
    assert training["learner_id"] == data.learner_id
    assert training["center_id"] == data.center_id
    assert training["pathway"] == "vocational_training"
    assert training["completed_on"] is None
    assert (await client.get("/trainings/summary")).json() == {"open": 1, "completed": 0}
    fetched = await client.get(f"/trainings/{training['id']}")
    assert fetched.json() == training


async def test_training_keeps_none_of_the_learners_personal_data(
    app: FastAPI, enrolled: EventFactory, deliver: Deliver
) -> None:
    await deliver((enrolled(2), "only"))

    pii = learner_pii(2)
    secrets = {
        pii.first_name_ar,
        pii.last_name_ar,
        pii.first_name_latin,
        pii.last_name_latin,
        pii.guardian.name,
        pii.guardian.phone,
        pii.birth_date.isoformat(),
    }
    runtime: ServiceRuntime = app.state.runtime
    stored = []
    async with runtime.db.connect() as connection:
        for table in TrainingModel.metadata.sorted_tables:
            stored += [repr(row) for row in (await connection.execute(select(table))).all()]
    assert any(learner_enrolled(2).learner_id in row for row in stored)
    assert not [secret for secret in secrets if any(secret in row for row in stored)]


async def test_trainings_of_an_enrollment_not_yet_seen_is_an_empty_list(
    client: httpx.AsyncClient,
) -> None:
    unseen = learner_enrolled(9).enrollment_id

    response = await client.get("/trainings", params={"enrollment_id": unseen})

    assert response.status_code == 200
    assert response.json() == []

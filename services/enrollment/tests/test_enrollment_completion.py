"""The enrollment service reacts to training-completed: the enrollment closes, once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.service import EnrollmentService
from fursa.shared.auth import Principal, Role
from fursa.shared.contracts import (
    CloudEvent,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.deadletters import list_dead_letters
from fursa.shared.messaging.streams import CONSUMERS, TRAINING_COMPLETED
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import acknowledged_through, wait_until

Body = Callable[..., dict[str, Any]]
CONSUMER = next(spec for spec in CONSUMERS if spec.service == "enrollment")


def training_completed(enrollment: dict[str, Any]) -> CloudEvent[Any]:
    training_id = str(uuid.uuid4())
    return new_event(
        TrainingCompleted(
            training_id=training_id,
            enrollment_id=enrollment["enrollment_id"],
            learner_id=enrollment["learner_id"],
            center_id=enrollment["center_id"],
            pathway=Pathway.VOCATIONAL_TRAINING,
            workshops=["tailoring"],
            hours_attended=412.5,
            attendance_rate=0.92,
            result=TrainingResult.PASSED,
            completed_on=date.fromisoformat(enrollment["enrolled_on"]),
        ),
        subject=training_id,
        sequence=2,
    )


async def publish(js: JetStreamContext, event: CloudEvent[Any], msg_id: str) -> int:
    """Publish and return the stream sequence the broker stored the message at."""
    ack = await js.publish(
        TRAINING_COMPLETED, to_json_bytes(event), headers={"Nats-Msg-Id": msg_id}
    )
    return int(ack.seq)


def applied(js: JetStreamContext, seq: int) -> Callable[[], Awaitable[bool]]:
    """Whether enrollment's consumer has acknowledged everything up to ``seq``."""
    return partial(acknowledged_through, js, CONSUMER, seq)


async def test_training_completed_closes_the_enrollment_once(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    enrollment = (await client.post("/enrollments", json=enrollment_body())).json()
    event = training_completed(enrollment)

    await publish(js, event, "first")
    seq = await publish(js, event, "redelivered")  # past the duplicate window: a new message id
    await wait_until(applied(js, seq))

    closed = (await client.get(f"/enrollments/{enrollment['enrollment_id']}")).json()
    assert closed["status"] == "completed"
    assert closed["completed_on"] == enrollment["enrolled_on"]
    service: EnrollmentService = app.state.enrollments
    admin = Principal(subject="test", role=Role.ADMIN)
    assert (await service.get(enrollment["enrollment_id"], scope=admin)).enrollment.version == 2
    summary = (await client.get("/enrollments/summary")).json()
    assert summary == {
        "waitlisted": 0,
        "enrolled": 0,
        "withdrawn": 0,
        "completed": 1,
        "total": 1,
    }


async def test_completion_of_an_unknown_enrollment_is_dead_lettered(
    app: FastAPI, js: JetStreamContext
) -> None:
    stranger = {
        "enrollment_id": str(uuid.uuid4()),
        "learner_id": str(uuid.uuid4()),
        "center_id": str(uuid.uuid4()),
        "enrolled_on": "2025-10-01",
    }
    event = training_completed(stranger)

    seq = await publish(js, event, event.id)
    runtime: ServiceRuntime = app.state.runtime

    await wait_until(applied(js, seq))
    [dead] = await list_dead_letters(runtime.db, runtime.tables)
    assert dead.event_id == event.id
    assert dead.error.startswith("unprocessable: there is no enrollment")


async def test_operators_list_dead_letters_and_a_failing_replay_keeps_the_row(
    client: httpx.AsyncClient, bearer: Callable[..., dict[str, str]], js: JetStreamContext
) -> None:
    stranger = {
        "enrollment_id": str(uuid.uuid4()),
        "learner_id": str(uuid.uuid4()),
        "center_id": str(uuid.uuid4()),
        "enrolled_on": "2025-10-01",
    }
    event = training_completed(stranger)
    seq = await publish(js, event, event.id)
    await wait_until(applied(js, seq))

    listed = (await client.get("/dead-letters")).json()
    assert [(d["event_id"], d["consumer"]) for d in listed] == [(event.id, CONSUMER.durable)]
    staff = bearer(Role.ASSOCIATION_STAFF, association_id=str(uuid.uuid4()))
    assert (await client.get("/dead-letters", headers=staff)).status_code == 403

    replay = await client.post(
        f"/dead-letters/{listed[0]['id']}/replay", params={"consumer": CONSUMER.durable}
    )
    assert replay.status_code == 409
    assert replay.json()["code"] == "replay_failed"
    assert len((await client.get("/dead-letters")).json()) == 1
    missing = await client.post("/dead-letters/999/replay", params={"consumer": CONSUMER.durable})
    assert missing.status_code == 404

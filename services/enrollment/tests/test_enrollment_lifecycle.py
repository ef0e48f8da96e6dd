"""Capacity, the waiting list, transfers, withdrawals and completion, through the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.shared.contracts import (
    LearnerEnrolled,
    LearnerTransferred,
    LearnerWaitlisted,
    LearnerWithdrawn,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.streams import CONSUMERS, TRAINING_COMPLETED
from fursa.shared.testing.kernel import wait_until

Body = Callable[..., dict[str, Any]]
Desk = Any
CONSUMER = next(spec for spec in CONSUMERS if spec.service == "enrollment")


async def test_full_center_puts_learner_on_waiting_list_with_a_position(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    first = await desk.enroll(enrollment_body())

    second = await desk.enroll(enrollment_body())
    third = await desk.enroll(enrollment_body())

    assert first["status"] == "enrolled"
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    assert (third["status"], third["waitlist_position"]) == ("waitlisted", 2)
    assert third["enrolled_on"] is None
    [waitlisted, _] = await desk.published("learner-waitlisted")
    assert isinstance(waitlisted.data, LearnerWaitlisted)
    assert waitlisted.data.enrollment_id == second["enrollment_id"]
    assert waitlisted.data.position == 1
    assert waitlisted.data.pii.first_name_ar == "سلمى"
    center = (await desk.client.get(f"/centers/{DEMO_CENTER_ID}")).json()
    assert center["places"] == [
        {
            "pathway": "vocational_training",
            "school_year": "2025/2026",
            "places": 1,
            "enrolled": 1,
            "waitlisted": 2,
        }
    ]


async def test_withdrawal_promotes_the_next_learner_in_line(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    holder = await desk.enroll(enrollment_body())
    next_in_line = await desk.enroll(enrollment_body())
    after = await desk.enroll(enrollment_body())

    response = await desk.client.post(
        f"/enrollments/{holder['enrollment_id']}/withdrawal", json={"reason": "work"}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["withdrawal_reason"]) == (
        "withdrawn",
        "work",
    )
    promoted = await desk.enrollment(next_in_line["enrollment_id"])
    assert promoted["status"] == "enrolled"
    assert promoted["enrolled_on"] is not None
    assert (await desk.enrollment(after["enrollment_id"]))["waitlist_position"] == 1
    [withdrawn] = await desk.published("learner-withdrawn")
    assert isinstance(withdrawn.data, LearnerWithdrawn)
    assert withdrawn.data.reason == "work"
    enrolled = await desk.published("learner-enrolled")
    assert [e.data.promoted_from_waitlist for e in enrolled] == [False, True]
    promotion = enrolled[1]
    assert isinstance(promotion.data, LearnerEnrolled)
    assert promotion.subject == next_in_line["enrollment_id"]
    assert promotion.data.enrollment_id == next_in_line["enrollment_id"]
    assert promotion.sequence == 2  # after its learner-waitlisted


async def test_leaving_the_waiting_list_promotes_nobody(desk: Desk, enrollment_body: Body) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())
    behind = await desk.enroll(enrollment_body())

    await desk.client.post(
        f"/enrollments/{waiting['enrollment_id']}/withdrawal", json={"reason": "moved"}
    )

    assert (await desk.enrollment(behind["enrollment_id"]))["waitlist_position"] == 1
    assert len(await desk.published("learner-enrolled")) == 1


async def test_a_larger_capacity_promotes_waiting_learners(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 0)
    waiting = [await desk.enroll(enrollment_body()) for _ in range(3)]

    await desk.set_capacity(DEMO_CENTER_ID, 2)

    statuses = [(await desk.enrollment(e["enrollment_id"]))["status"] for e in waiting]
    assert statuses == ["enrolled", "enrolled", "waitlisted"]


async def test_transfer_keeps_history_and_frees_the_place_it_left(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    mover = await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())

    response = await desk.client.post(
        f"/enrollments/{mover['enrollment_id']}/transfer", json={"to_center_id": centers["A2"]}
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["enrollment_id"] == mover["enrollment_id"]
    assert (moved["center_id"], moved["status"]) == (centers["A2"], "enrolled")
    assert [(t["from_center_id"], t["to_center_id"]) for t in moved["transfers"]] == [
        (DEMO_CENTER_ID, centers["A2"])
    ]
    assert (await desk.enrollment(waiting["enrollment_id"]))["status"] == "enrolled"
    [transferred] = await desk.published("learner-transferred")
    assert isinstance(transferred.data, LearnerTransferred)
    assert (transferred.data.from_center_id, transferred.data.to_center_id) == (
        DEMO_CENTER_ID,
        centers["A2"],
    )
    assert transferred.data.province_code == "073"
    assert transferred.sequence == 2


async def test_an_enrollment_moved_there_and_back_reads_once_with_both_moves(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    mover = await desk.enroll(enrollment_body())
    for to_center_id in (centers["A2"], DEMO_CENTER_ID):
        response = await desk.client.post(
            f"/enrollments/{mover['enrollment_id']}/transfer", json={"to_center_id": to_center_id}
        )
        assert response.status_code == 200, response.text

    read = await desk.enrollment(mover["enrollment_id"])

    assert (read["center_id"], read["status"], read["waitlist_position"]) == (
        DEMO_CENTER_ID,
        "enrolled",
        None,
    )
    assert sorted((t["from_center_id"], t["to_center_id"]) for t in read["transfers"]) == sorted(
        [(DEMO_CENTER_ID, centers["A2"]), (centers["A2"], DEMO_CENTER_ID)]
    )


async def test_transfer_into_a_full_center_is_refused(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await desk.set_capacity(centers["A2"], 1)
    await desk.enroll(enrollment_body(center_id=centers["A2"]))
    mover = await desk.enroll(enrollment_body())

    response = await desk.client.post(
        f"/enrollments/{mover['enrollment_id']}/transfer", json={"to_center_id": centers["A2"]}
    )
    same = await desk.client.post(
        f"/enrollments/{mover['enrollment_id']}/transfer", json={"to_center_id": DEMO_CENTER_ID}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "center_full"
    assert same.status_code == 409
    assert same.json()["code"] == "transfer_to_same_center"
    assert (await desk.enrollment(mover["enrollment_id"]))["center_id"] == DEMO_CENTER_ID


async def test_a_closed_enrollment_cannot_be_withdrawn_again(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())
    url = f"/enrollments/{created['enrollment_id']}/withdrawal"
    await desk.client.post(url, json={"reason": "family"})

    again = await desk.client.post(url, json={"reason": "family"})
    unknown_reason = await desk.client.post(url, json={"reason": "bored"})

    assert again.status_code == 409
    assert again.json()["code"] == "enrollment_closed"
    assert unknown_reason.status_code == 422
    assert unknown_reason.json()["errors"][0]["field"] == "reason"


async def test_completion_closes_the_enrollment_and_promotes_the_next(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    holder = await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())
    event = new_event(
        TrainingCompleted(
            training_id="0b1e9a4b-3d2f-4b8e-a6c5-0e9d8f7a6b52",
            enrollment_id=holder["enrollment_id"],
            learner_id=holder["learner_id"],
            center_id=DEMO_CENTER_ID,
            pathway=Pathway.VOCATIONAL_TRAINING,
            workshops=[],
            hours_attended=300,
            attendance_rate=0.9,
            result=TrainingResult.PASSED,
            completed_on=holder["enrolled_on"],
        ),
        subject=holder["enrollment_id"],
        sequence=1,
    )

    await js.publish(TRAINING_COMPLETED, to_json_bytes(event))

    async def promoted() -> bool:
        return (await desk.enrollment(waiting["enrollment_id"]))["status"] == "enrolled"

    await wait_until(promoted)
    assert (await desk.enrollment(holder["enrollment_id"]))["status"] == "completed"


async def test_concurrent_enrollments_never_take_more_places_than_there_are(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 3)
    bodies = [enrollment_body() for _ in range(10)]

    created = await asyncio.gather(*(desk.enroll(body) for body in bodies))

    statuses = sorted(e["status"] for e in created)
    assert statuses == ["enrolled"] * 3 + ["waitlisted"] * 7
    positions = sorted(e["waitlist_position"] for e in created if e["status"] == "waitlisted")
    assert positions == list(range(1, 8))


async def test_concurrent_withdrawals_promote_each_waiting_learner_once(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 3)
    holders = [await desk.enroll(enrollment_body()) for _ in range(3)]
    waiting = [await desk.enroll(enrollment_body()) for _ in range(4)]

    responses = await asyncio.gather(
        *(
            desk.client.post(
                f"/enrollments/{holder['enrollment_id']}/withdrawal", json={"reason": "work"}
            )
            for holder in holders
        )
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    statuses = [(await desk.enrollment(e["enrollment_id"]))["status"] for e in waiting]
    assert statuses == ["enrolled", "enrolled", "enrolled", "waitlisted"]
    promotions = [e for e in await desk.published("learner-enrolled") if e.sequence == 2]
    assert sorted(e.subject for e in promotions) == sorted(e["enrollment_id"] for e in waiting[:3])


async def test_list_filters_enrollments_by_status(
    client: httpx.AsyncClient, desk: Desk, enrollment_body: Body
) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())

    listed = (await client.get("/enrollments", params={"status": "waitlisted"})).json()

    assert [e["enrollment_id"] for e in listed] == [waiting["enrollment_id"]]

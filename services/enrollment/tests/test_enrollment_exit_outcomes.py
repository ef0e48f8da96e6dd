"""Where a learner went on leaving the programme: recorded with the withdrawal (a reason that
says it implies it) or once the enrollment closed, corrected with a reason, carried in the
events, and counted by the statistics and by the indicators at exit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from nats.js import JetStreamContext

from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.enrollment.domain import (
    EnrollmentStatus,
    EnrollmentStillOpen,
    OutcomeContradictsReason,
    record_exit_outcome,
    withdraw,
)
from fursa.shared.contracts import (
    ExitOutcome,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    WithdrawalReason,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.streams import CONSUMERS, TRAINING_COMPLETED
from fursa.shared.testing.kernel import wait_until

Body = Callable[..., dict[str, Any]]
Desk = Any
TRAINING = next(
    spec for spec in CONSUMERS if spec.service == "enrollment" and spec.stream == "TRAINING"
)


class Record:
    """An enrollment as the domain rules see it."""

    def __init__(self, status: EnrollmentStatus = EnrollmentStatus.ENROLLED) -> None:
        self.status = status
        self.center_id = "center"
        self.enrolled_on: date | None = date(2025, 9, 15)
        self.completed_on: date | None = None
        self.withdrawn_on: date | None = None
        self.withdrawal_reason: WithdrawalReason | None = None
        self.exit_outcome: ExitOutcome | None = None
        self.version = 1


# --- rules ----------------------------------------------------------------------------------


def test_a_reason_that_says_where_the_learner_went_implies_the_outcome() -> None:
    back = Record()
    withdraw(back, reason=WithdrawalReason.RETURNED_TO_SCHOOL, on=date(2026, 1, 5))
    trained = Record()
    withdraw(trained, reason=WithdrawalReason.VOCATIONAL_TRAINING, on=date(2026, 1, 5))
    working = Record()
    withdraw(working, reason=WithdrawalReason.WORK, on=date(2026, 1, 5))

    assert back.exit_outcome is ExitOutcome.BACK_IN_SCHOOL
    assert trained.exit_outcome is ExitOutcome.VOCATIONAL_TRAINING
    assert working.exit_outcome is None  # leaving to work is not always a placement


def test_an_outcome_the_reason_contradicts_is_refused_and_changes_nothing() -> None:
    record = Record()
    with pytest.raises(OutcomeContradictsReason) as refused:
        withdraw(
            record,
            reason=WithdrawalReason.RETURNED_TO_SCHOOL,
            on=date(2026, 1, 5),
            outcome=ExitOutcome.EMPLOYED,
        )
    assert refused.value.params["field"] == "exit_outcome"
    assert (record.status, record.exit_outcome, record.version) == (
        EnrollmentStatus.ENROLLED,
        None,
        1,
    )


def test_an_outcome_is_recorded_only_once_the_learner_left_and_only_a_change_counts() -> None:
    with pytest.raises(EnrollmentStillOpen):
        record_exit_outcome(Record(), ExitOutcome.EMPLOYED)
    completed = Record(EnrollmentStatus.COMPLETED)

    assert record_exit_outcome(completed, ExitOutcome.APPRENTICED) is True
    assert record_exit_outcome(completed, ExitOutcome.APPRENTICED) is False
    assert (completed.exit_outcome, completed.version) == (ExitOutcome.APPRENTICED, 2)


# --- withdrawal -----------------------------------------------------------------------------


async def withdrawal(desk: Desk, enrollment: dict[str, Any], **body: Any) -> Any:
    return await desk.client.post(
        f"/enrollments/{enrollment['enrollment_id']}/withdrawal", json=body
    )


async def test_a_withdrawal_records_where_the_learner_went_and_the_event_carries_it(
    desk: Desk, enrollment_body: Body
) -> None:
    working = await desk.enroll(enrollment_body())
    back = await desk.enroll(enrollment_body())

    hired = await withdrawal(desk, working, reason="work", exit_outcome="employed")
    to_school = await withdrawal(desk, back, reason="returned_to_school")

    assert hired.status_code == 200, hired.text
    assert hired.json()["exit_outcome"] == "employed"
    assert to_school.json()["exit_outcome"] == "back_in_school"
    withdrawn = {e.data.enrollment_id: e.data for e in await desk.published("learner-withdrawn")}
    assert withdrawn[working["enrollment_id"]].exit_outcome is ExitOutcome.EMPLOYED
    assert withdrawn[back["enrollment_id"]].reason is WithdrawalReason.RETURNED_TO_SCHOOL
    assert withdrawn[back["enrollment_id"]].exit_outcome is ExitOutcome.BACK_IN_SCHOOL


async def test_a_contradiction_or_a_bad_outcome_is_a_problem_naming_the_field(
    desk: Desk, enrollment_body: Body
) -> None:
    enrollment = await desk.enroll(enrollment_body())

    contradiction = await withdrawal(
        desk, enrollment, reason="returned_to_school", exit_outcome="employed"
    )
    unknown_value = await withdrawal(desk, enrollment, reason="work", exit_outcome="married")

    assert contradiction.status_code == 422
    assert contradiction.headers["content-type"].startswith("application/problem+json")
    assert contradiction.json()["code"] == "exit_outcome_contradicts_reason"
    assert contradiction.json()["params"]["field"] == "exit_outcome"
    assert unknown_value.status_code == 422
    assert [e["field"] for e in unknown_value.json()["errors"]] == ["exit_outcome"]
    assert (await desk.enrollment(enrollment["enrollment_id"]))["status"] == "enrolled"
    assert await desk.published("learner-withdrawn") == []


# --- after the enrollment closed ------------------------------------------------------------


async def complete(desk: Desk, js: JetStreamContext, enrollment: dict[str, Any]) -> None:
    """Training's training-completed for ``enrollment``; waits until enrollment closed it."""
    training_id = str(uuid.uuid4())
    event = new_event(
        TrainingCompleted(
            training_id=training_id,
            enrollment_id=enrollment["enrollment_id"],
            learner_id=enrollment["learner_id"],
            center_id=enrollment["center_id"],
            pathway=Pathway.VOCATIONAL_TRAINING,
            workshops=["tailoring"],
            hours_attended=400.0,
            attendance_rate=0.9,
            result=TrainingResult.PASSED,
            completed_on=date.fromisoformat(enrollment["enrolled_on"]),
        ),
        subject=training_id,
        sequence=2,
    )
    await js.publish(TRAINING_COMPLETED, to_json_bytes(event), headers={"Nats-Msg-Id": event.id})

    async def closed() -> bool:
        found = await desk.enrollment(enrollment["enrollment_id"])
        info = await js.consumer_info(TRAINING.stream, TRAINING.durable)
        return found["status"] == "completed" and info.num_ack_pending == 0

    await wait_until(closed)


async def put_outcome(desk: Desk, enrollment: dict[str, Any], **body: Any) -> Any:
    return await desk.client.put(
        f"/enrollments/{enrollment['enrollment_id']}/exit-outcome", json=body
    )


async def test_a_completed_learners_outcome_is_recorded_then_corrected_with_a_reason(
    desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    learner = await desk.enroll(enrollment_body())
    await complete(desk, js, learner)

    recorded = await put_outcome(desk, learner, exit_outcome="apprenticed")
    again = await put_outcome(desk, learner, exit_outcome="apprenticed")
    unexplained = await put_outcome(desk, learner, exit_outcome="employed")
    corrected = await put_outcome(desk, learner, exit_outcome="employed", reason="new_information")

    assert recorded.status_code == 200, recorded.text
    assert again.json()["exit_outcome"] == "apprenticed"
    assert unexplained.status_code == 422
    assert unexplained.json()["code"] == "correction_reason_required"
    assert unexplained.json()["params"]["field"] == "reason"
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["exit_outcome"] == "employed"
    events = await desk.published("exit-outcome-recorded")
    assert [(e.data.exit_outcome, e.sequence) for e in events] == [
        (ExitOutcome.APPRENTICED, 3),
        (ExitOutcome.EMPLOYED, 4),
    ]
    assert events[0].subject == learner["enrollment_id"]
    assert events[0].data.left_on == date.fromisoformat(learner["enrolled_on"])
    trail = (await desk.client.get("/audit", params={"entity_id": learner["enrollment_id"]})).json()
    entries = {entry["action"]: entry for entry in trail}
    assert entries["enrollment.exit_outcome_recorded"]["details"] == {
        "exit_outcome": "apprenticed",
        "previous": None,
    }
    correction = entries["enrollment.exit_outcome_corrected"]
    assert correction["reason"] == "new_information"
    assert correction["details"] == {"exit_outcome": "employed", "previous": "apprenticed"}
    [row] = (await desk.client.get("/indicators")).json()["rows"]
    assert row["moments"]["at_exit"] == {
        "reached": 1,
        "reintegrated": 0,
        "placed": 1,
        "reintegration_rate": 0.0,
        "placement_rate": 1.0,
    }


async def test_no_outcome_at_exit_for_a_learner_still_enrolled_nor_a_bad_value(
    desk: Desk, enrollment_body: Body
) -> None:
    learner = await desk.enroll(enrollment_body())

    open_one = await put_outcome(desk, learner, exit_outcome="employed")
    bad = await put_outcome(desk, learner, exit_outcome="abroad")

    assert open_one.status_code == 409
    assert open_one.json()["code"] == "enrollment_still_open"
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["exit_outcome"]
    assert (await desk.enrollment(learner["enrollment_id"]))["exit_outcome"] is None


# --- counted --------------------------------------------------------------------------------


async def cohort_that_left(desk: Desk, enrollment_body: Body) -> list[dict[str, Any]]:
    """Twelve girls at A1: five went back to school, five to a job, one left for her family
    (where she went not recorded), one is still enrolled. Returns the one who left for her
    family first."""
    girls = [await desk.enroll(enrollment_body()) for _ in range(12)]
    for girl in girls[:5]:
        assert (await withdrawal(desk, girl, reason="returned_to_school")).status_code == 200
    for girl in girls[5:10]:
        response = await withdrawal(desk, girl, reason="work", exit_outcome="employed")
        assert response.status_code == 200
    assert (await withdrawal(desk, girls[10], reason="family")).status_code == 200
    return girls[10:]


async def test_indicators_count_at_exit_everyone_who_left(
    desk: Desk, enrollment_body: Body
) -> None:
    await cohort_that_left(desk, enrollment_body)

    [row] = (await desk.client.get("/indicators", params={"by": "center"})).json()["rows"]

    assert row["learners"] == 12
    assert row["moments"]["at_exit"] == {
        "reached": 11,
        "reintegrated": 5,
        "placed": 5,
        "reintegration_rate": 0.4545,
        "placement_rate": 0.4545,
    }


async def test_published_at_exit_figures_withhold_the_one_who_left_to_unknown_until_recorded(
    desk: Desk, enrollment_body: Body
) -> None:
    family, _still_enrolled = await cohort_that_left(desk, enrollment_body)
    params = {"by": "center", "publication": "true"}

    withheld = (await desk.client.get("/indicators", params=params)).json()["rows"][0]
    recorded = await put_outcome(desk, family, exit_outcome="apprenticed")
    published = (await desk.client.get("/indicators", params=params)).json()["rows"][0]

    # One learner neither reintegrated nor placed: 11 - 5 - 5 would single her out.
    assert withheld["moments"]["at_exit"] == {
        "reached": 11,
        "reintegrated": None,
        "placed": None,
        "reintegration_rate": None,
        "placement_rate": None,
    }
    assert recorded.status_code == 200, recorded.text
    assert published["moments"]["at_exit"] == {
        "reached": 11,
        "reintegrated": 5,
        "placed": 6,
        "reintegration_rate": 0.4545,
        "placement_rate": 0.5455,
    }


async def test_statistics_count_by_outcome_at_exit_with_small_cells_suppressed(
    desk: Desk, enrollment_body: Body
) -> None:
    await cohort_that_left(desk, enrollment_body)

    exact = (await desk.client.get("/statistics", params={"by": "exit_outcome"})).json()
    published = await desk.client.get(
        "/statistics",
        params={"by": ["center", "exit_outcome"], "publication": "true", "format": "csv"},
    )

    counts = {
        row["group"]["exit_outcome"]: (row["enrolled"], row["withdrawn"]) for row in exact["rows"]
    }
    assert counts == {
        "back_in_school": (0, 5),
        "employed": (0, 5),
        "not_recorded": (1, 1),
    }
    assert published.text.splitlines() == [
        "center,exit_outcome,waitlisted,enrolled,withdrawn,completed",
        f"{DEMO_CENTER_ID},back_in_school,0,0,5,0",
        f"{DEMO_CENTER_ID},employed,0,0,5,0",
        f"{DEMO_CENTER_ID},not_recorded,0,<5,<5,0",
    ]

"""Training rules, without a database or a broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from fursa.shared.contracts import TrainingResult
from fursa.training import domain
from fursa.training.domain import (
    Completion,
    InvalidCompletion,
    Summary,
    TrainingAlreadyCompleted,
    TrainingClosed,
    TrainingStatus,
)


@dataclass
class FakeRecord:
    status: TrainingStatus = TrainingStatus.OPEN
    completed_on: date | None = None
    closed_on: date | None = None
    hours_attended: float | None = None
    attendance_rate: float | None = None
    result: TrainingResult | None = None
    workshops: list[str] = field(default_factory=list)
    at_risk: bool = False
    version: int = domain.FIRST_VERSION


PASSED = Completion(
    hours_attended=412.5,
    attendance_rate=0.92,
    result=TrainingResult.PASSED,
    workshops=("tailoring", "computing"),
)


def test_completing_a_training_records_its_result_and_advances_its_version() -> None:
    record = FakeRecord()

    domain.complete(record, PASSED, on=date(2026, 6, 30))

    assert record.status == TrainingStatus.COMPLETED
    assert record.completed_on == date(2026, 6, 30)
    assert (record.hours_attended, record.attendance_rate) == (412.5, 0.92)
    assert record.result == TrainingResult.PASSED
    assert record.workshops == ["tailoring", "computing"]
    assert record.version == 2


def test_a_training_completes_only_once() -> None:
    record = FakeRecord()
    domain.complete(record, PASSED, on=date(2026, 6, 30))
    failed = Completion(hours_attended=10, attendance_rate=0.1, result=TrainingResult.FAILED)

    with pytest.raises(TrainingAlreadyCompleted):
        domain.complete(record, failed, on=date(2026, 7, 1))

    assert record.result == TrainingResult.PASSED
    assert record.version == 2


@pytest.mark.parametrize(
    ("hours", "rate"),
    [(-1.0, 0.5), (float("nan"), 0.5), (float("inf"), 0.5), (10.0, 1.01), (10.0, -0.1)],
)
def test_impossible_attendance_is_refused(hours: float, rate: float) -> None:
    with pytest.raises(InvalidCompletion):
        Completion(hours_attended=hours, attendance_rate=rate, result=TrainingResult.PASSED)


def test_no_attendance_at_all_is_a_possible_completion() -> None:
    completion = Completion(hours_attended=0, attendance_rate=0, result=TrainingResult.FAILED)

    assert completion.workshops == ()


def test_summary_counts_open_completed_and_withdrawn_trainings() -> None:
    assert Summary.of({TrainingStatus.OPEN: 4}) == Summary(open=4, completed=0, withdrawn=0)


def test_a_withdrawn_learners_training_closes_and_takes_no_completion() -> None:
    record = FakeRecord(at_risk=True)

    assert domain.withdraw(record, on=date(2026, 2, 1)) is True

    assert (record.status, record.closed_on, record.at_risk) == (
        TrainingStatus.WITHDRAWN,
        date(2026, 2, 1),
        False,
    )
    assert record.version == domain.FIRST_VERSION  # nothing published
    with pytest.raises(TrainingClosed):
        domain.complete(record, PASSED, on=date(2026, 6, 30))


def test_a_completed_training_keeps_its_result_when_the_learner_withdraws_later() -> None:
    record = FakeRecord()
    domain.complete(record, PASSED, on=date(2026, 6, 30))

    assert domain.withdraw(record, on=date(2026, 7, 1)) is False

    assert (record.status, record.result) == (TrainingStatus.COMPLETED, TrainingResult.PASSED)

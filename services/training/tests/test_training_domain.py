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
    TrainingStatus,
)


@dataclass
class FakeRecord:
    status: TrainingStatus = TrainingStatus.OPEN
    completed_on: date | None = None
    hours_attended: float | None = None
    attendance_rate: float | None = None
    result: TrainingResult | None = None
    workshops: list[str] = field(default_factory=list)
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


def test_summary_counts_open_and_completed_trainings() -> None:
    assert Summary.of({TrainingStatus.OPEN: 4}) == Summary(open=4, completed=0)

"""Enrollment rules, without a database or a broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from fursa.enrollment import domain
from fursa.enrollment.domain import (
    CompletionBeforeEnrollment,
    EnrollmentStatus,
    Summary,
)
from fursa.shared.contracts import WithdrawalReason


@dataclass
class FakeEnrollment:
    enrolled_on: date | None = date(2025, 10, 1)
    status: EnrollmentStatus = EnrollmentStatus.ENROLLED
    center_id: str = "center-1"
    completed_on: date | None = None
    withdrawn_on: date | None = None
    withdrawal_reason: WithdrawalReason | None = None
    version: int = domain.FIRST_VERSION


def test_completed_training_closes_the_enrollment_and_advances_its_version() -> None:
    enrollment = FakeEnrollment()

    changed = domain.complete(enrollment, on=date(2026, 6, 30))

    assert changed
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.completed_on == date(2026, 6, 30)
    assert enrollment.version == 2


def test_completing_a_completed_enrollment_changes_nothing() -> None:
    enrollment = FakeEnrollment()
    domain.complete(enrollment, on=date(2026, 6, 30))

    changed = domain.complete(enrollment, on=date(2026, 7, 15))

    assert not changed
    assert enrollment.completed_on == date(2026, 6, 30)
    assert enrollment.version == 2


def test_training_may_complete_on_the_day_of_enrollment() -> None:
    enrollment = FakeEnrollment(enrolled_on=date(2025, 10, 1))

    assert domain.complete(enrollment, on=date(2025, 10, 1))


def test_training_cannot_complete_before_the_learner_was_enrolled() -> None:
    enrollment = FakeEnrollment(enrolled_on=date(2025, 10, 1))

    with pytest.raises(CompletionBeforeEnrollment):
        domain.complete(enrollment, on=date(2025, 9, 30))

    assert enrollment.status == EnrollmentStatus.ENROLLED
    assert enrollment.version == 1


def test_summary_counts_enrollments_in_each_state() -> None:
    summary = Summary.of(
        {
            EnrollmentStatus.WAITLISTED: 3,
            EnrollmentStatus.ENROLLED: 7,
            EnrollmentStatus.WITHDRAWN: 1,
            EnrollmentStatus.COMPLETED: 2,
        }
    )

    assert (summary.waitlisted, summary.enrolled, summary.withdrawn) == (3, 7, 1)
    assert (summary.completed, summary.total) == (2, 13)
    assert Summary.of({}).total == 0

"""Enrollment rules, without a database or a broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from fursa.enrollment import domain
from fursa.enrollment.domain import (
    CompletionBeforeEnrollment,
    EnrollmentClosed,
    EnrollmentStatus,
    NotHoldingAPlace,
    SameCenter,
    Summary,
)
from fursa.shared.contracts import WithdrawalReason
from fursa.shared.publication import publishable


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


def test_withdrawing_an_enrolled_learner_frees_a_place() -> None:
    enrollment = FakeEnrollment()

    freed = domain.withdraw(enrollment, reason=WithdrawalReason.WORK, on=date(2026, 1, 5))

    assert freed
    assert enrollment.status == EnrollmentStatus.WITHDRAWN
    assert (enrollment.withdrawn_on, enrollment.withdrawal_reason) == (
        date(2026, 1, 5),
        WithdrawalReason.WORK,
    )
    assert enrollment.version == 2


def test_leaving_the_waiting_list_frees_no_place() -> None:
    enrollment = FakeEnrollment(status=EnrollmentStatus.WAITLISTED, enrolled_on=None)

    assert not domain.withdraw(enrollment, reason=WithdrawalReason.MOVED, on=date(2026, 1, 5))
    assert enrollment.status == EnrollmentStatus.WITHDRAWN


@pytest.mark.parametrize("status", [EnrollmentStatus.WITHDRAWN, EnrollmentStatus.COMPLETED])
def test_a_closed_enrollment_neither_withdraws_nor_transfers(status: EnrollmentStatus) -> None:
    enrollment = FakeEnrollment(status=status)

    with pytest.raises(EnrollmentClosed):
        domain.withdraw(enrollment, reason=WithdrawalReason.OTHER, on=date(2026, 1, 5))
    with pytest.raises(EnrollmentClosed):
        domain.transfer(enrollment, to_center_id="center-2")
    assert enrollment.version == 1


def test_a_transfer_moves_the_enrollment_and_names_the_center_it_left() -> None:
    enrollment = FakeEnrollment()

    left = domain.transfer(enrollment, to_center_id="center-2")

    assert (left, enrollment.center_id, enrollment.version) == ("center-1", "center-2", 2)
    assert enrollment.status == EnrollmentStatus.ENROLLED


def test_a_transfer_goes_to_another_center_and_needs_a_place_held() -> None:
    with pytest.raises(SameCenter):
        domain.transfer(FakeEnrollment(), to_center_id="center-1")
    waiting = FakeEnrollment(status=EnrollmentStatus.WAITLISTED, enrolled_on=None)
    with pytest.raises(NotHoldingAPlace):
        domain.transfer(waiting, to_center_id="center-2")


def test_promotion_gives_the_waiting_learner_a_place_today() -> None:
    enrollment = FakeEnrollment(status=EnrollmentStatus.WAITLISTED, enrolled_on=None)

    domain.promote(enrollment, on=date(2026, 2, 1))

    assert (enrollment.status, enrollment.enrolled_on) == (
        EnrollmentStatus.ENROLLED,
        date(2026, 2, 1),
    )
    assert enrollment.version == 2
    with pytest.raises(EnrollmentClosed):
        domain.promote(enrollment, on=date(2026, 2, 2))


def test_a_waiting_learner_has_no_training_to_complete() -> None:
    enrollment = FakeEnrollment(status=EnrollmentStatus.WAITLISTED, enrolled_on=None)

    with pytest.raises(NotHoldingAPlace):
        domain.complete(enrollment, on=date(2026, 6, 30))


def test_a_late_completion_leaves_a_withdrawal_as_it_is() -> None:
    enrollment = FakeEnrollment(status=EnrollmentStatus.WITHDRAWN)

    assert not domain.complete(enrollment, on=date(2026, 6, 30))
    assert enrollment.status == EnrollmentStatus.WITHDRAWN


def test_capacity_without_a_limit_always_has_room() -> None:
    assert domain.has_room(None, 10_000)
    assert domain.has_room(3, 2)
    assert not domain.has_room(3, 3)


@pytest.mark.parametrize(
    ("age", "band"),
    [(11, "under_12"), (12, "12_14"), (14, "12_14"), (17, "15_17"), (18, "18_and_over")],
)
def test_ages_fall_in_the_indicators_bands(age: int, band: str) -> None:
    assert domain.age_band(age) == band


def test_published_counts_suppress_one_to_four_learners() -> None:
    assert [publishable(n) for n in (0, 1, 4, 5, 12)] == [0, None, None, 5, 12]

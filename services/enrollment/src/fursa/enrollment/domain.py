"""Enrollment rules in plain Python: no web framework, no database, no broker.

Rules act on anything shaped like an enrollment (:class:`EnrollmentRecord`), so the service
layer applies them to its table rows and the unit tests to plain objects.

An enrollment is *waitlisted* while its center's pathway is full, *enrolled* once it holds a
place (it may move to another center: a transfer, with history kept), and ends *withdrawn*
(with a reason) or *completed* (when its training completes). Waitlisted and enrolled are
the active states: a learner holds at most one active enrollment. A closed enrollment may
record where the learner went (its outcome at exit), with the withdrawal or afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from fursa.shared.contracts import ExitOutcome, WithdrawalReason

FIRST_VERSION = 1
"""Version of a new enrollment: the sequence of its first event."""


class EnrollmentStatus(StrEnum):
    WAITLISTED = "waitlisted"
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


ACTIVE = frozenset({EnrollmentStatus.WAITLISTED, EnrollmentStatus.ENROLLED})


class Refused(Exception):  # noqa: N818 - reads as what happened
    """A request the programme's rules refuse: ``rule`` names the rule, ``params`` explain.

    ``conflict`` says whether it conflicts with the records' current state (an HTTP 409) or
    is refused whatever the state (422).
    """

    rule = "refused"
    conflict = False

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message or self.rule)
        self.params = params


class EnrollmentError(Refused):
    """A change of an enrollment that the programme's rules refuse."""

    rule = "enrollment_rule"
    conflict = True


class CompletionBeforeEnrollment(EnrollmentError):  # noqa: N818 - a rule, named as such
    """A training cannot end before the learner was enrolled."""

    rule = "completion_before_enrollment"


class EnrollmentClosed(EnrollmentError):  # noqa: N818 - a rule, named as such
    """A withdrawn or completed enrollment changes no more."""

    rule = "enrollment_closed"


class NotHoldingAPlace(EnrollmentError):  # noqa: N818 - a rule, named as such
    """Only an enrollment that holds a place can move or complete (not a waitlisted one)."""

    rule = "not_holding_a_place"


class NotWaiting(EnrollmentError):  # noqa: N818 - a rule, named as such
    """Only a learner on a waiting list takes a place offered at another center."""

    rule = "not_waiting"


class EnrollmentStillOpen(EnrollmentError):  # noqa: N818 - a rule, named as such
    """An outcome at exit is for a learner who left: withdrawn, or completed."""

    rule = "enrollment_still_open"


class OutcomeContradictsReason(Refused):
    """A withdrawal whose reason says where the learner went records that outcome."""

    rule = "exit_outcome_contradicts_reason"


class SameCenter(EnrollmentError):  # noqa: N818 - a rule, named as such
    """A transfer goes to another center."""

    rule = "transfer_to_same_center"


class EnrollmentRecord(Protocol):
    status: EnrollmentStatus
    center_id: str
    enrolled_on: date | None
    completed_on: date | None
    withdrawn_on: date | None
    withdrawal_reason: WithdrawalReason | None
    exit_outcome: ExitOutcome | None
    version: int


def has_room(places: int | None, occupied: int) -> bool:
    """Whether a center's pathway takes one more learner (no configured capacity: no limit)."""
    return places is None or occupied < places


def complete(enrollment: EnrollmentRecord, *, on: date) -> bool:
    """Close an enrollment whose training ended on ``on``.

    Returns whether anything changed: an enrollment that is already completed stays as it is
    (its training completes once; a repeated notice changes nothing), and so does a withdrawn
    one (the association recorded that the learner left; a late completion does not undo it).
    """
    if enrollment.status in (EnrollmentStatus.COMPLETED, EnrollmentStatus.WITHDRAWN):
        return False
    if enrollment.status is EnrollmentStatus.WAITLISTED or enrollment.enrolled_on is None:
        raise NotHoldingAPlace("a waitlisted learner has no training to complete")
    if on < enrollment.enrolled_on:
        raise CompletionBeforeEnrollment(
            f"training completed on {on}, before the enrollment on {enrollment.enrolled_on}"
        )
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.completed_on = on
    enrollment.version += 1
    return True


IMPLIED_OUTCOMES: Mapping[WithdrawalReason, ExitOutcome] = {
    WithdrawalReason.RETURNED_TO_SCHOOL: ExitOutcome.BACK_IN_SCHOOL,
    WithdrawalReason.VOCATIONAL_TRAINING: ExitOutcome.VOCATIONAL_TRAINING,
}
"""Withdrawal reasons that say where the learner went: a success, not a dropout."""


def outcome_of_withdrawal(
    reason: WithdrawalReason, outcome: ExitOutcome | None
) -> ExitOutcome | None:
    """The outcome a withdrawal records: the one given, else the one its reason implies.
    Raises :class:`OutcomeContradictsReason` for an outcome its reason contradicts."""
    implied = IMPLIED_OUTCOMES.get(reason)
    if outcome is None:
        return implied
    if implied is not None and outcome != implied:
        raise OutcomeContradictsReason(
            field="exit_outcome", reason=reason, exit_outcome=outcome, implied=implied
        )
    return outcome


def withdraw(
    enrollment: EnrollmentRecord,
    *,
    reason: WithdrawalReason,
    on: date,
    outcome: ExitOutcome | None = None,
) -> bool:
    """Close an active enrollment: the learner left, for ``reason``, to ``outcome`` when
    known (see :func:`outcome_of_withdrawal`). Returns whether a place was freed."""
    if enrollment.status not in ACTIVE:
        raise EnrollmentClosed(f"the enrollment is already {enrollment.status}")
    exit_outcome = outcome_of_withdrawal(reason, outcome)
    held_a_place = enrollment.status is EnrollmentStatus.ENROLLED
    enrollment.status = EnrollmentStatus.WITHDRAWN
    enrollment.withdrawn_on = on
    enrollment.withdrawal_reason = reason
    enrollment.exit_outcome = exit_outcome
    enrollment.version += 1
    return held_a_place


def left_on(enrollment: EnrollmentRecord) -> date | None:
    """When the learner left: the withdrawal or the training's completion (``None``: not)."""
    return enrollment.withdrawn_on or enrollment.completed_on


def record_exit_outcome(enrollment: EnrollmentRecord, outcome: ExitOutcome) -> bool:
    """Record, or correct, where a learner who left went. Returns whether it changed.

    A later record replaces the earlier one, whatever the withdrawal's reason said: it is
    what the center learned since (the trail keeps both)."""
    if enrollment.status in ACTIVE:
        raise EnrollmentStillOpen(f"the enrollment is still {enrollment.status}")
    if enrollment.exit_outcome == outcome:
        return False
    enrollment.exit_outcome = outcome
    enrollment.version += 1
    return True


def transfer(enrollment: EnrollmentRecord, *, to_center_id: str) -> str:
    """Move an enrollment that holds a place to another center; returns the center it left."""
    if enrollment.status not in ACTIVE:
        raise EnrollmentClosed(f"the enrollment is already {enrollment.status}")
    if enrollment.status is not EnrollmentStatus.ENROLLED:
        raise NotHoldingAPlace("a waitlisted learner withdraws and enrolls elsewhere instead")
    if to_center_id == enrollment.center_id:
        raise SameCenter("the enrollment is already in that center")
    left = enrollment.center_id
    enrollment.center_id = to_center_id
    enrollment.version += 1
    return left


def take_place_elsewhere(enrollment: EnrollmentRecord, *, to_center_id: str, on: date) -> str:
    """A waiting learner takes a place offered at another center (the same pathway and school
    year): enrolled there at once, out of the line it waited in. Returns the center it left."""
    if enrollment.status is not EnrollmentStatus.WAITLISTED:
        raise NotWaiting(f"a place elsewhere is for a waitlisted learner, not {enrollment.status}")
    if to_center_id == enrollment.center_id:
        raise SameCenter("the learner already waits at that center")
    left = enrollment.center_id
    enrollment.center_id = to_center_id
    enrollment.status = EnrollmentStatus.ENROLLED
    enrollment.enrolled_on = on
    enrollment.version += 1
    return left


def promote(enrollment: EnrollmentRecord, *, on: date) -> None:
    """A place freed up: the learner at the head of the waiting list takes it."""
    if enrollment.status is not EnrollmentStatus.WAITLISTED:
        raise EnrollmentClosed(f"only a waitlisted enrollment is promoted, not {enrollment.status}")
    enrollment.status = EnrollmentStatus.ENROLLED
    enrollment.enrolled_on = on
    enrollment.version += 1


AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under_12", 0, 11),
    ("12_14", 12, 14),
    ("15_17", 15, 17),
    ("18_and_over", 18, 200),
)


def age_band(age: int) -> str:
    """The band an age falls in, as the programme's indicators report it."""
    return next(name for name, low, high in AGE_BANDS if low <= age <= high)


@dataclass(frozen=True)
class Summary:
    """How many enrollments are in each state."""

    waitlisted: int
    enrolled: int
    withdrawn: int
    completed: int

    @property
    def total(self) -> int:
        return self.waitlisted + self.enrolled + self.withdrawn + self.completed

    @classmethod
    def of(cls, counts: Mapping[EnrollmentStatus, int]) -> Summary:
        return cls(**{status.value: counts.get(status, 0) for status in EnrollmentStatus})

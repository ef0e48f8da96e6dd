"""Enrollment rules in plain Python: no web framework, no database, no broker.

Rules act on anything shaped like an enrollment (:class:`EnrollmentRecord`), so the service
layer applies them to its table rows and the unit tests to plain objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

FIRST_VERSION = 1
"""Version of a new enrollment: the sequence of its learner-enrolled event."""


class EnrollmentStatus(StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"


class EnrollmentError(Exception):
    """A change that the programme's rules refuse."""


class CompletionBeforeEnrollment(EnrollmentError):  # noqa: N818 - a rule, named as such
    """A training cannot end before the learner was enrolled."""


class EnrollmentRecord(Protocol):
    status: EnrollmentStatus
    enrolled_on: date
    completed_on: date | None
    version: int


def complete(enrollment: EnrollmentRecord, *, on: date) -> bool:
    """Close an enrollment whose training ended on ``on``.

    Returns whether anything changed: an enrollment that is already completed stays as it is
    (its training completes once; a repeated notice changes nothing).
    """
    if enrollment.status == EnrollmentStatus.COMPLETED:
        return False
    if on < enrollment.enrolled_on:
        raise CompletionBeforeEnrollment(
            f"training completed on {on}, before the enrollment on {enrollment.enrolled_on}"
        )
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.completed_on = on
    enrollment.version += 1
    return True


@dataclass(frozen=True)
class Summary:
    """How many enrollments are active and how many completed."""

    enrolled: int
    completed: int

    @property
    def total(self) -> int:
        return self.enrolled + self.completed

    @classmethod
    def of(cls, counts: Mapping[EnrollmentStatus, int]) -> Summary:
        return cls(
            enrolled=counts.get(EnrollmentStatus.ENROLLED, 0),
            completed=counts.get(EnrollmentStatus.COMPLETED, 0),
        )

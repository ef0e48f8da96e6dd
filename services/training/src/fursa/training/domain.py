"""Training rules in plain Python: no web framework, no database, no broker.

Rules act on anything shaped like a training record (:class:`TrainingRecordLike`), so the
service layer applies them to its table rows and the unit tests to plain objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from fursa.shared.contracts import TrainingResult

FIRST_VERSION = 1
"""Version of a newly opened training record; each change that publishes an event adds one."""


class TrainingStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class TrainingError(Exception):
    """A change that the programme's rules refuse."""


class TrainingAlreadyCompleted(TrainingError):  # noqa: N818 - a rule, named as such
    """A training completes once; its result is not overwritten."""


class TrainingClosed(TrainingError):  # noqa: N818 - a rule, named as such
    """A training that ended (completed or withdrawn) takes no more attendance or results."""


class InvalidCompletion(TrainingError):  # noqa: N818 - a rule, named as such
    """Attendance figures that cannot be true."""


@dataclass(frozen=True)
class Completion:
    """How a training ended: attendance, result and the workshops followed."""

    hours_attended: float
    attendance_rate: float
    result: TrainingResult
    workshops: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hours_attended) and self.hours_attended >= 0):
            raise InvalidCompletion("hours attended must be a number of hours, zero or more")
        if not (0 <= self.attendance_rate <= 1):
            raise InvalidCompletion("attendance rate is a share of sessions, from 0 to 1")


class TrainingRecordLike(Protocol):
    status: TrainingStatus
    completed_on: date | None
    closed_on: date | None
    hours_attended: float | None
    attendance_rate: float | None
    result: TrainingResult | None
    workshops: list[str]
    at_risk: bool
    version: int


def ensure_open(record: TrainingRecordLike) -> None:
    """Raise :class:`TrainingClosed` unless the training is still going on."""
    if record.status != TrainingStatus.OPEN:
        raise TrainingClosed(f"this training is {record.status}")


def complete(record: TrainingRecordLike, completion: Completion, *, on: date) -> None:
    """Record how a training ended on ``on``; raises :class:`TrainingAlreadyCompleted`, or
    :class:`TrainingClosed` for a withdrawn learner's training."""
    if record.status == TrainingStatus.COMPLETED:
        raise TrainingAlreadyCompleted("this training is already completed")
    ensure_open(record)
    record.status = TrainingStatus.COMPLETED
    record.completed_on = on
    record.closed_on = on
    record.hours_attended = completion.hours_attended
    record.attendance_rate = completion.attendance_rate
    record.result = completion.result
    record.workshops = list(completion.workshops)
    record.at_risk = False
    record.version += 1


def withdraw(record: TrainingRecordLike, *, on: date) -> bool:
    """Close the training of a learner who left the programme; False if it had already ended
    (a completed training keeps its result)."""
    if record.status != TrainingStatus.OPEN:
        return False
    record.status = TrainingStatus.WITHDRAWN
    record.closed_on = on
    record.at_risk = False
    return True


@dataclass(frozen=True)
class Summary:
    """How many trainings are open, completed and withdrawn."""

    open: int
    completed: int
    withdrawn: int

    @classmethod
    def of(cls, counts: Mapping[TrainingStatus, int]) -> Summary:
        return cls(
            open=counts.get(TrainingStatus.OPEN, 0),
            completed=counts.get(TrainingStatus.COMPLETED, 0),
            withdrawn=counts.get(TrainingStatus.WITHDRAWN, 0),
        )

"""Events published by the training service."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from fursa.shared.contracts.common import Pathway, Uuid
from fursa.shared.contracts.registry import EventData, register


class TrainingResult(StrEnum):
    """Outcome of a completed training."""

    PASSED = "passed"
    FAILED = "failed"


@register("fursa.training.training-completed.v1", producer="training", stable=True)
class TrainingCompleted(EventData):
    """A learner's training ended with a result; it closes the enrollment."""

    training_id: Uuid
    enrollment_id: Uuid
    learner_id: Uuid
    center_id: Uuid
    pathway: Pathway
    workshops: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(description="Workshops followed (e.g. `tailoring`); may be empty."),
    ]
    hours_attended: Annotated[float, Field(ge=0)]
    attendance_rate: Annotated[float, Field(ge=0, le=1, description="Share of sessions, 0..1.")]
    result: TrainingResult
    completed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.training.learner-at-risk.v1", producer="training", stable=True)
class LearnerAtRisk(EventData):
    """Attendance over the learner's last `window_sessions` sessions fell under the threshold:
    one event per episode (the episode ends when attendance recovers above threshold + margin)."""

    training_id: Uuid
    enrollment_id: Uuid
    learner_id: Uuid
    center_id: Uuid
    pathway: Pathway
    window_sessions: Annotated[int, Field(ge=1)]
    attendance_rate: Annotated[float, Field(ge=0, le=1, description="Over the window, 0..1.")]
    threshold: Annotated[float, Field(ge=0, le=1)]
    detected_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


class OutcomeStatus(StrEnum):
    """Where a learner is at a follow-up after the programme."""

    BACK_IN_SCHOOL = "back_in_school"
    VOCATIONAL_TRAINING = "vocational_training"
    EMPLOYED = "employed"
    APPRENTICED = "apprenticed"
    NONE = "none"


@register("fursa.training.learner-outcome-recorded.v1", producer="training", stable=True)
class LearnerOutcomeRecorded(EventData):
    """A follow-up (e.g. 6 or 12 months after the programme) recorded where the learner is."""

    outcome_id: Uuid
    training_id: Uuid
    enrollment_id: Uuid
    learner_id: Uuid
    center_id: Uuid
    pathway: Pathway
    months_after: Annotated[int, Field(ge=1, le=60)]
    status: OutcomeStatus
    school: Annotated[str | None, Field(max_length=200, description="Back in school.")] = None
    level: Annotated[str | None, Field(max_length=64, description="School level.")] = None
    institution: Annotated[
        str | None, Field(max_length=200, description="Vocational training institution.")
    ] = None
    recorded_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.training.follow-up-due.v1", producer="training", stable=True)
class FollowUpDue(EventData):
    """A completed training's follow-up (6 or 12 months after it ended) is due on `due_on`,
    and none is recorded yet: published once per training and milestone, in the week it falls
    due, so that the center calls the learner."""

    training_id: Uuid
    enrollment_id: Uuid
    learner_id: Uuid
    center_id: Uuid
    pathway: Pathway
    months_after: Annotated[int, Field(ge=1, le=60)]
    completed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    due_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]

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


@register("fursa.training.training-completed.v1", producer="training", stable=False)
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

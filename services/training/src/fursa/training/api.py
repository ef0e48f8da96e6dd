"""The training HTTP API: request and response shapes, and thin routes over the service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fursa.shared.contracts import Pathway, TrainingResult
from fursa.training.domain import (
    Completion,
    InvalidCompletion,
    TrainingAlreadyCompleted,
    TrainingStatus,
)
from fursa.training.models import TrainingRecord
from fursa.training.problems import ProblemType
from fursa.training.service import TrainingNotFound, TrainingService

PROBLEMS: dict[type[Exception], ProblemType] = {
    TrainingNotFound: ProblemType(404, "Training not found", "training-not-found"),
    TrainingAlreadyCompleted: ProblemType(
        409, "Training already completed", "training-already-completed"
    ),
    InvalidCompletion: ProblemType(422, "Invalid completion", "invalid-completion"),
}

Id = Annotated[str, Path(max_length=64)]


class CompletionRequest(BaseModel):
    """How the training ended (the same rules as the training-completed event)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    hours_attended: Annotated[float, Field(ge=0)]
    attendance_rate: Annotated[float, Field(ge=0, le=1, description="Share of sessions, 0..1.")]
    result: TrainingResult
    workshops: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, description="Workshops followed, e.g. `tailoring`."
    )

    def completion(self) -> Completion:
        return Completion(
            hours_attended=self.hours_attended,
            attendance_rate=self.attendance_rate,
            result=self.result,
            workshops=tuple(self.workshops),
        )


class TrainingPublic(BaseModel):
    """A learner's training record (it holds no personal data)."""

    id: str
    enrollment_id: str
    learner_id: str
    center_id: str
    pathway: Pathway
    status: TrainingStatus
    opened_at: datetime
    completed_on: date | None
    hours_attended: float | None
    attendance_rate: float | None
    result: TrainingResult | None
    workshops: list[str]

    @classmethod
    def of(cls, record: TrainingRecord) -> TrainingPublic:
        return cls(
            id=record.id,
            enrollment_id=record.enrollment_id,
            learner_id=record.learner_id,
            center_id=record.center_id,
            pathway=record.pathway,
            status=record.status,
            opened_at=record.opened_at,
            completed_on=record.completed_on,
            hours_attended=record.hours_attended,
            attendance_rate=record.attendance_rate,
            result=record.result,
            workshops=record.workshops,
        )


class TrainingSummary(BaseModel):
    open: int
    completed: int


def _service(request: Request) -> TrainingService:
    service: TrainingService = request.app.state.trainings
    return service


Service = Annotated[TrainingService, Depends(_service)]

router = APIRouter(tags=["training"])


@router.get("/trainings")
async def find_trainings(
    enrollment_id: Annotated[str, Query(max_length=64)], service: Service
) -> list[TrainingPublic]:
    return [TrainingPublic.of(record) for record in await service.for_enrollment(enrollment_id)]


# Declared before /trainings/{training_id}, which would otherwise match "summary".
@router.get("/trainings/summary")
async def training_summary(service: Service) -> TrainingSummary:
    summary = await service.summary()
    return TrainingSummary(open=summary.open, completed=summary.completed)


@router.get("/trainings/{training_id}")
async def get_training(training_id: Id, service: Service) -> TrainingPublic:
    return TrainingPublic.of(await service.get(training_id))


@router.post("/trainings/{training_id}/completion")
async def complete_training(
    training_id: Id, body: CompletionRequest, service: Service
) -> TrainingPublic:
    return TrainingPublic.of(await service.complete(training_id, body.completion()))

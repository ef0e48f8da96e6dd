"""The training HTTP API: request and response shapes, and thin routes over the service.

Every route needs a bearer token and answers within the caller's scope: a training record
outside it answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fursa.shared import problems
from fursa.shared.auth import CurrentPrincipal, Principal, Role, allow
from fursa.shared.contracts import Pathway, TrainingResult
from fursa.shared.problems import Problem
from fursa.training.domain import (
    Completion,
    InvalidCompletion,
    TrainingAlreadyCompleted,
    TrainingStatus,
)
from fursa.training.models import TrainingRecord
from fursa.training.service import TrainingNotFound, TrainingService

# The training service's rules, by code, in the programme's two languages.
problems.register_messages(
    {
        "training_already_completed": {
            "fr": "Cette formation est déjà terminée ; son résultat ne change plus.",
            "ar": "هذا التكوين منتهٍ من قبل؛ لا تتغير نتيجته.",
        },
        "invalid_completion": {
            "fr": "Les chiffres d'assiduité sont impossibles.",
            "ar": "أرقام المواظبة غير ممكنة.",
        },
    }
)

# Who may record how a training ended: the center's educators, its association, an administrator.
Completer = Annotated[Principal, Depends(allow(Role.EDUCATOR, Role.ASSOCIATION_STAFF, Role.ADMIN))]

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
    principal: CurrentPrincipal,
    service: Service,
    enrollment_id: Annotated[str | None, Query(max_length=64)] = None,
    status: TrainingStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TrainingPublic]:
    """Trainings visible to the caller, oldest first: an enrollment's (zero or one), or e.g.
    the open trainings of an educator's center (``status=open``)."""
    records = await service.find(
        enrollment_id=enrollment_id, status=status, limit=limit, scope=principal
    )
    return [TrainingPublic.of(record) for record in records]


# Declared before /trainings/{training_id}, which would otherwise match "summary".
@router.get("/trainings/summary")
async def training_summary(principal: CurrentPrincipal, service: Service) -> TrainingSummary:
    """How many of the trainings the caller may see are open, and how many completed."""
    summary = await service.summary(scope=principal)
    return TrainingSummary(open=summary.open, completed=summary.completed)


@router.get("/trainings/{training_id}")
async def get_training(
    training_id: Id, principal: CurrentPrincipal, service: Service
) -> TrainingPublic:
    """One training the caller may see (404 otherwise)."""
    try:
        return TrainingPublic.of(await service.get(training_id, scope=principal))
    except TrainingNotFound:
        raise Problem.not_found() from None


@router.post("/trainings/{training_id}/completion")
async def complete_training(
    training_id: Id, body: CompletionRequest, principal: Completer, service: Service
) -> TrainingPublic:
    """Record how a training the caller may see ended (404 otherwise; 409 the second time)."""
    try:
        record = await service.complete(training_id, body.completion(), scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    except TrainingAlreadyCompleted:
        raise Problem.rule("training_already_completed", status=409) from None
    except InvalidCompletion as exc:
        raise Problem(422, "invalid_completion", detail=str(exc)) from None
    return TrainingPublic.of(record)

"""Corrections of marks, scores and follow-ups, each with its reason, and their history.

Recording stays a POST that answers 409 when the entry exists; a correction is an explicit
PUT on the entry, which names why (a code) and keeps the previous value. A PUT that changes
nothing is a no-op, so an offline screen may resend it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from fursa.shared.auth import Staff
from fursa.shared.contracts import OutcomeStatus
from fursa.shared.problems import Problem
from fursa.training.api import (
    AssessmentResult,
    Id,
    OutcomePublic,
    OutcomeRequest,
    Recorder,
    Service,
    StrictBody,
    rule_errors,
)
from fursa.training.correcting import Corrections, EntryNotFound
from fursa.training.corrections import CorrectionKind, CorrectionReason, Mark
from fursa.training.domain import TrainingClosed
from fursa.training.follow_up import follow_up_errors
from fursa.training.models import Correction
from fursa.training.rosters import SessionNotFound
from fursa.training.service import EntriesRefused, TrainingNotCompleted, TrainingNotFound

Reason = Annotated[
    CorrectionReason, Field(description="Why the entry is corrected (a code, never free text).")
]


class MarkCorrection(StrictBody):
    present: bool
    excused: bool = False
    reason: Reason


class MarkPublic(BaseModel):
    session_id: str
    training_id: str
    present: bool
    excused: bool
    recorded_by: str | None
    at_risk: list[str] = Field(description="Trainings whose at-risk episode this began.")


class ScoreCorrection(StrictBody):
    score: Annotated[float, Field(ge=0, le=20, description="Out of 20.")]
    reason: Reason


class OutcomeCorrection(StrictBody):
    """The follow-up as it should read (the month is the path's)."""

    status: OutcomeStatus
    school: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    level: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    institution: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    reason: Reason


class CorrectionPublic(BaseModel):
    """One correction: the entry, what it was (null: added after the call) and became."""

    id: str
    training_id: str
    kind: CorrectionKind
    entry_id: str
    previous: dict[str, Any] | None
    current: dict[str, Any]
    reason: CorrectionReason
    corrected_by: str
    corrected_at: datetime

    @classmethod
    def of(cls, correction: Correction) -> CorrectionPublic:
        return cls.model_validate(correction, from_attributes=True)


async def _corrections(request: Request) -> Corrections:
    corrections: Corrections = request.app.state.corrections
    return corrections


CorrectionsDep = Annotated[Corrections, Depends(_corrections)]

router = APIRouter(tags=["corrections"])


@router.put("/sessions/{session_id}/attendance/{training_id}")
async def correct_mark(
    session_id: Id,
    training_id: Id,
    body: MarkCorrection,
    request: Request,
    principal: Recorder,
    corrections: CorrectionsDep,
) -> MarkPublic:
    """Correct a learner's mark at a session, or add a learner the call forgot; the early
    warning is recomputed (an excused absence does not count against it)."""
    mark = Mark(present=body.present, excused=body.excused)
    try:
        attendance, alerts = await corrections.correct_attendance(
            session_id, training_id, mark, body.reason, scope=principal
        )
    except (SessionNotFound, TrainingNotFound):
        raise Problem.not_found() from None
    except TrainingClosed:
        raise Problem.rule("training_closed", status=409) from None
    except EntriesRefused as exc:
        raise Problem(422, "validation", errors=rule_errors(request, exc.errors)) from None
    return MarkPublic(
        session_id=attendance.session_id,
        training_id=attendance.training_id,
        present=attendance.present,
        excused=attendance.excused,
        recorded_by=attendance.recorded_by,
        at_risk=alerts,
    )


@router.put("/assessments/{assessment_id}")
async def correct_score(
    assessment_id: Id, body: ScoreCorrection, principal: Recorder, corrections: CorrectionsDep
) -> AssessmentResult:
    """Correct a score (and so whether it passes) of an open training."""
    try:
        assessment = await corrections.correct_assessment(
            assessment_id, body.score, body.reason, scope=principal
        )
    except EntryNotFound:
        raise Problem.not_found() from None
    except TrainingClosed:
        raise Problem.rule("training_closed", status=409) from None
    return AssessmentResult.model_validate(assessment, from_attributes=True)


@router.put("/trainings/{training_id}/outcomes/{months_after}")
async def correct_outcome(
    training_id: Id,
    months_after: Annotated[int, Path(ge=1, le=60)],
    body: OutcomeCorrection,
    request: Request,
    principal: Recorder,
    corrections: CorrectionsDep,
) -> OutcomePublic:
    """Correct a recorded follow-up; the corrected situation is published again."""
    follow_up = OutcomeRequest(
        months_after=months_after,
        status=body.status,
        school=body.school,
        level=body.level,
        institution=body.institution,
    ).follow_up()
    errors = follow_up_errors(follow_up)
    if errors:
        raise Problem(422, "validation", errors=rule_errors(request, errors))
    try:
        outcome = await corrections.correct_outcome(
            training_id, follow_up, body.reason, scope=principal
        )
    except (TrainingNotFound, EntryNotFound):
        raise Problem.not_found() from None
    except TrainingNotCompleted:
        raise Problem.rule("training_not_completed", status=409) from None
    return OutcomePublic.of(outcome)


@router.get("/trainings/{training_id}/corrections")
async def correction_history(
    training_id: Id, principal: Staff, corrections: CorrectionsDep
) -> list[CorrectionPublic]:
    """Every correction of a training's marks, scores and follow-ups, oldest first."""
    try:
        history = await corrections.history(training_id, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    return [CorrectionPublic.of(c) for c in history]


@router.get("/trainings/{training_id}/assessments")
async def training_assessments(
    training_id: Id, principal: Staff, service: Service
) -> list[AssessmentResult]:
    """A training's assessments as they stand (oldest first), with the ids to correct them."""
    try:
        assessments = await service.assessments(training_id, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    return [AssessmentResult.model_validate(a, from_attributes=True) for a in assessments]

"""Class rosters by name: a center's classes, who is in one, who was called at a session.

Names are personal data: rosters answer only those who work with the class (its center's
educators, its association's staff, administrators), within their scope; a center or session
outside it is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from fursa.shared.problems import Problem
from fursa.training.api import ClassName, Id, Recorder, StrictBody
from fursa.training.center_curricula import CenterNotFound
from fursa.training.domain import TrainingClosed, TrainingStatus
from fursa.training.rosters import ClassCount, RosterLine, Rosters, SessionNotFound
from fursa.training.service import TrainingNotFound


class LearnerOnRoster(BaseModel):
    """A learner of a class; names are null once the learner is erased."""

    training_id: str
    learner_id: str
    class_name: str | None
    status: TrainingStatus
    at_risk: bool
    first_name_ar: str | None
    last_name_ar: str | None
    first_name_latin: str | None
    last_name_latin: str | None

    @classmethod
    def of(cls, line: RosterLine) -> LearnerOnRoster:
        names = line.names
        return cls(
            training_id=line.record.id,
            learner_id=line.record.learner_id,
            class_name=line.record.class_name,
            status=line.record.status,
            at_risk=line.record.at_risk,
            first_name_ar=names.first_name_ar if names else None,
            last_name_ar=names.last_name_ar if names else None,
            first_name_latin=names.first_name_latin if names else None,
            last_name_latin=names.last_name_latin if names else None,
        )


class ClassPublic(BaseModel):
    class_name: str | None = Field(description="null: open trainings not yet in a class.")
    learners: int

    @classmethod
    def of(cls, count: ClassCount) -> ClassPublic:
        return cls(class_name=count.class_name, learners=count.learners)


class CalledLearner(LearnerOnRoster):
    present: bool
    excused: bool
    recorded_by: str | None = Field(description="Who set the mark as it stands.")


class SessionRoster(BaseModel):
    id: str
    center_id: str
    class_name: str
    module: str
    held_on: date
    hours: float
    recorded_by: str | None
    learners: list[CalledLearner]


class SessionHeld(BaseModel):
    id: str
    module: str
    held_on: date
    hours: float
    recorded_by: str | None


class ClassAssignment(StrictBody):
    class_name: ClassName


async def _rosters(request: Request) -> Rosters:
    rosters: Rosters = request.app.state.rosters
    return rosters


RostersDep = Annotated[Rosters, Depends(_rosters)]

router = APIRouter(tags=["classes"])


@router.get("/centers/{center_id}/classes")
async def center_classes(
    center_id: Id, principal: Recorder, rosters: RostersDep
) -> list[ClassPublic]:
    """A center's classes and their open trainings (404 for a center outside the scope)."""
    try:
        counts = await rosters.classes(center_id, scope=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return [ClassPublic.of(count) for count in counts]


@router.get("/centers/{center_id}/classes/{class_name}")
async def class_roster(
    center_id: Id, class_name: Id, principal: Recorder, rosters: RostersDep
) -> list[LearnerOnRoster]:
    """The learners of a class, by name (Arabic surname, then first name)."""
    try:
        lines = await rosters.class_roster(center_id, class_name, scope=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return [LearnerOnRoster.of(line) for line in lines]


@router.get("/centers/{center_id}/classes/{class_name}/sessions")
async def class_sessions(
    center_id: Id,
    class_name: Id,
    principal: Recorder,
    rosters: RostersDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[SessionHeld]:
    """A class's latest sessions, the most recent day first, with the ids that open their call
    (``GET /sessions/{session_id}``) and correct a mark (404 for a center outside the scope)."""
    try:
        held = await rosters.class_sessions(center_id, class_name, limit=limit, scope=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return [SessionHeld.model_validate(s, from_attributes=True) for s in held]


@router.put("/trainings/{training_id}/class")
async def assign_class(
    training_id: Id, body: ClassAssignment, principal: Recorder, rosters: RostersDep
) -> LearnerOnRoster:
    """Put a learner in a class of their center (a learner's first call also does)."""
    try:
        line = await rosters.assign(training_id, body.class_name, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    except TrainingClosed:
        raise Problem.rule("training_closed", status=409) from None
    return LearnerOnRoster.of(line)


@router.get("/sessions/{session_id}")
async def session_roster(session_id: Id, principal: Recorder, rosters: RostersDep) -> SessionRoster:
    """A session and every learner called at it, by name, with their mark and its author."""
    try:
        held, called = await rosters.session_roster(session_id, scope=principal)
    except SessionNotFound:
        raise Problem.not_found() from None
    return SessionRoster(
        id=held.id,
        center_id=held.center_id,
        class_name=held.class_name,
        module=held.module,
        held_on=held.held_on,
        hours=held.hours,
        recorded_by=held.recorded_by,
        learners=[
            CalledLearner(
                **LearnerOnRoster.of(c.line).model_dump(),
                present=c.attendance.present,
                excused=c.attendance.excused,
                recorded_by=c.attendance.recorded_by,
            )
            for c in called
        ],
    )

"""The follow-ups a center is due to make in a week (6 and 12 months after completion).

The list names the learners (a center calls them), so it answers those who work with the
center: its educators, its association's staff, administrators, within their scope.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from fursa.shared.clock import local_today
from fursa.shared.contracts import Pathway
from fursa.shared.problems import Problem
from fursa.training.api import Recorder, rule_errors
from fursa.training.center_curricula import CenterNotFound
from fursa.training.follow_up import Week
from fursa.training.follow_up_reminders import DueFollowUp, FollowUpReminders


class FollowUpDuePublic(BaseModel):
    training_id: str
    learner_id: str
    center_id: str
    pathway: Pathway
    months_after: int
    completed_on: date
    due_on: date
    recorded: bool = Field(description="Whether this follow-up is already recorded.")
    first_name_ar: str | None
    last_name_ar: str | None
    first_name_latin: str | None
    last_name_latin: str | None

    @classmethod
    def of(cls, due: DueFollowUp) -> FollowUpDuePublic:
        record, names = due.record, due.names
        assert record.completed_on is not None
        return cls(
            training_id=record.id,
            learner_id=record.learner_id,
            center_id=record.center_id,
            pathway=record.pathway,
            months_after=due.months_after,
            completed_on=record.completed_on,
            due_on=due.due_on,
            recorded=due.recorded,
            first_name_ar=names.first_name_ar if names else None,
            last_name_ar=names.last_name_ar if names else None,
            first_name_latin=names.first_name_latin if names else None,
            last_name_latin=names.last_name_latin if names else None,
        )


class FollowUpsDue(BaseModel):
    week: str
    monday: date
    sunday: date
    due: list[FollowUpDuePublic]


async def _reminders(request: Request) -> FollowUpReminders:
    reminders: FollowUpReminders = request.app.state.follow_up_reminders
    return reminders


Reminders = Annotated[FollowUpReminders, Depends(_reminders)]

router = APIRouter(tags=["follow-ups"])


@router.get("/follow-ups/due", responses={404: {"description": "A center the caller cannot see"}})
async def follow_ups_due(
    request: Request,
    principal: Recorder,
    reminders: Reminders,
    week: Annotated[
        str | None,
        Query(max_length=8, description="ISO week, e.g. `2026-W49`; this week by default."),
    ] = None,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
) -> FollowUpsDue:
    """Who is due their 6- or 12-month follow-up in a week, by due date: of one center, or of
    every center the caller sees (each line names its center)."""
    try:
        asked = Week.of(local_today()) if week is None else Week.parse(week)
    except ValueError:
        raise Problem(
            422, "validation", errors=rule_errors(request, [("week", "iso_week")])
        ) from None
    try:
        due = await reminders.due(asked, scope=principal, center_id=center_id)
    except CenterNotFound:
        raise Problem.not_found() from None
    return FollowUpsDue(
        week=str(asked),
        monday=asked.monday,
        sunday=asked.sunday,
        due=[FollowUpDuePublic.of(d) for d in due],
    )

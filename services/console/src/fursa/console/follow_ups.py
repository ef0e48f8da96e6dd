"""Educators' follow-ups after the programme: from the week's due list, where a learner is 6 or
12 months after their training (the training service's categories; a school, level or
institution only where the category names one), and its correction with a reason code once
recorded. The training service says what each category requires; its refusals show on the form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.classes import Id
from fursa.console.clients import Training
from fursa.console.enrolment_changes import refused_on_form
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import ServiceProblem, TrainingClient
from fursa.console.signin import CurrentPerson
from fursa.shared.contracts import OutcomeStatus

router = APIRouter()

Months = Annotated[int, Path(ge=1, le=60)]
# What each situation names (as the training service requires it); the others name no place.
NAMED_PLACES: dict[str, tuple[str, ...]] = {
    OutcomeStatus.BACK_IN_SCHOOL: ("school", "level"),
    OutcomeStatus.VOCATIONAL_TRAINING: ("institution",),
}
OUTCOME_REASONS = ("entry_error", "new_information")
FIELDS = ("status", "school", "level", "institution", "reason")


async def teaching_person(person: CurrentPerson) -> Person:
    """The person, if classes are their work (educators, association staff, admin)."""
    if not person.teaches:
        raise HTTPException(403)
    return person


TeachingPerson = Annotated[Person, Depends(teaching_person)]


async def due_line(training: TrainingClient, training_id: str, months: int) -> dict[str, Any]:
    """The training's line of its center's due list this week (the learner's name, whether it
    is recorded), or the bare follow-up when it is not due this week."""
    record = await training.training(training_id)
    week = await training.follow_ups_due(record["center_id"])
    for line in week["due"]:
        if line["training_id"] == training_id and line["months_after"] == months:
            return dict(line)
    return {"training_id": training_id, "months_after": months, "recorded": False}


def outcome_body(form: dict[str, str]) -> dict[str, Any]:
    """The service's body: the category, and only the places that category names."""
    status = form.get("status", "")
    body: dict[str, Any] = {"status": status}
    body |= {name: form.get(name, "").strip() or None for name in NAMED_PLACES.get(status, ())}
    return body


async def _follow_up_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    line: dict[str, Any],
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return pages.render(
        request,
        "follow_up.html",
        status_code=status_code,
        person=person,
        line=line,
        statuses=list(OutcomeStatus),
        named_places=NAMED_PLACES,
        reasons=OUTCOME_REASONS,
        values=values or {},
        problem=problem,
        errors=errors or {},
    )


@router.get("/trainings/{training_id}/follow-ups/{months}")
async def follow_up_form(
    request: Request,
    training_id: Id,
    months: Months,
    person: TeachingPerson,
    pages: PagesDep,
    training: Training,
) -> Response:
    line = await due_line(training, training_id, months)
    return await _follow_up_page(request, pages, person, line)


@router.post("/trainings/{training_id}/follow-ups/{months}")
async def record_follow_up(
    request: Request,
    training_id: Id,
    months: Months,
    person: TeachingPerson,
    pages: PagesDep,
    training: Training,
    form: CheckedForm,
) -> Response:
    """Record the follow-up, or correct it when the form gives why (it was recorded)."""
    values = {name: str(form.get(name) or "") for name in FIELDS}
    body = outcome_body(values)
    try:
        if values["reason"]:
            await training.correct_outcome(training_id, months, body | {"reason": values["reason"]})
        else:
            await training.record_outcome(training_id, body | {"months_after": months})
    except ServiceProblem as refusal:
        problem, errors = refused_on_form(refusal)
        line = await due_line(training, training_id, months)
        if refusal.code == "already_recorded":
            line["recorded"] = True
        return await _follow_up_page(
            request,
            pages,
            person,
            line,
            values=values,
            problem=problem,
            errors=errors,
            status_code=422 if refusal.status == 422 else 409,
        )
    request.session["done"] = "follow_up_corrected" if values["reason"] else "follow_up_recorded"
    return RedirectResponse("/classes", status_code=303)

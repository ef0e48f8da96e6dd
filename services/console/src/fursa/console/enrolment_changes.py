"""What association staff change after enrolling: a learner's details, a transfer, a
withdrawal, a place taken at another center, an erasure. Each form is one page; each answer one
call to the enrollment service, whose refusals (in the person's language) are shown on the form
they came from, and whose success returns to the learner's page saying what was done."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Enrollment
from fursa.console.learners import SCHOOL_LEVELS, center_names, guardian_phone, pathway_names
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import ServiceProblem
from fursa.console.signin import CurrentPerson

router = APIRouter()

Id = Annotated[str, Path(max_length=64)]

WITHDRAWAL_REASONS = ("moved", "work", "family", "health", "marriage", "lost_contact", "other")
# The details a correction may change, as the form names them; the guardian's under guardian.
CORRECTABLE = (
    "first_name_ar",
    "last_name_ar",
    "first_name_latin",
    "last_name_latin",
    "birth_date",
    "massar_code",
    "last_school_level",
)
GUARDIAN_CORRECTABLE = {"guardian_name": "name", "guardian_phone": "phone"}


def done(request: Request, learner_id: str, what: str) -> Response:
    """Back to the learner's page, which says what was just done."""
    request.session["done"] = what
    return RedirectResponse(f"/learners/{learner_id}", status_code=303)


def refused_on_form(refusal: ServiceProblem) -> tuple[str, dict[str, str]]:
    """A refusal as a form shows it: the service's words, field by field (401/403 go on to
    the console's own pages)."""
    if refusal.status in (401, 403) or refusal.status >= 500:
        raise refusal
    errors = {name.split(".")[-1]: message for name, message in refusal.field_errors().items()}
    return refusal.detail, errors


def correction(form: dict[str, str], learner: dict[str, Any]) -> dict[str, Any]:
    """The fields the person changed, as the service's PATCH body (the rest is left out)."""
    changes: dict[str, Any] = {}
    for name in CORRECTABLE:
        typed = form.get(name, "").strip()
        if name == "massar_code":
            typed = typed.upper()
        if typed != (learner.get(name) or ""):
            changes[name] = typed or None
    guardian: dict[str, Any] = {}
    for name, field in GUARDIAN_CORRECTABLE.items():
        typed = form.get(name, "").strip()
        if field == "phone" and typed:
            typed = guardian_phone(typed)
        if typed != (learner["guardian"].get(field) or ""):
            guardian[field] = typed or None
    if guardian:
        changes["guardian"] = guardian
    return changes


def _correction_values(learner: dict[str, Any]) -> dict[str, str]:
    values = {name: str(learner.get(name) or "") for name in CORRECTABLE}
    values |= {
        name: str(learner["guardian"].get(f) or "") for name, f in GUARDIAN_CORRECTABLE.items()
    }
    return values


async def _correction_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    learner: dict[str, Any],
    *,
    values: dict[str, str],
    problem: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return pages.render(
        request,
        "correction.html",
        status_code=status_code,
        person=person,
        learner=learner,
        values=values,
        school_levels=SCHOOL_LEVELS,
        problem=problem,
        errors=errors or {},
    )


@router.get("/learners/{learner_id}/correction")
async def correction_form(
    request: Request, learner_id: Id, person: CurrentPerson, pages: PagesDep, enrollment: Enrollment
) -> Response:
    learner = await enrollment.learner(learner_id)
    values = _correction_values(learner)
    return await _correction_page(request, pages, person, learner, values=values)


@router.post("/learners/{learner_id}/correction")
async def correct(
    request: Request,
    learner_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    learner = await enrollment.learner(learner_id)
    values = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    changes = correction(values, learner)
    if not changes:
        return done(request, learner_id, "corrected")
    try:
        await enrollment.correct(learner_id, changes)
    except ServiceProblem as refusal:
        problem, errors = refused_on_form(refusal)
        errors = {("guardian_" + k if k in ("name", "phone") else k): m for k, m in errors.items()}
        return await _correction_page(
            request,
            pages,
            person,
            learner,
            values=values,
            problem=problem,
            errors=errors,
            status_code=422,
        )
    return done(request, learner_id, "corrected")


@router.get("/learners/{learner_id}/erasure")
async def erasure_form(
    request: Request, learner_id: Id, person: CurrentPerson, pages: PagesDep, enrollment: Enrollment
) -> Response:
    learner = await enrollment.learner(learner_id)
    return pages.render(request, "erasure.html", person=person, learner=learner, problem="")


@router.post("/learners/{learner_id}/erasure")
async def erase(
    request: Request,
    learner_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    learner = await enrollment.learner(learner_id)
    if form.get("confirm") != "yes":
        problem = pages.gettext(request, "Tick the box to confirm the erasure.")
        return pages.render(
            request,
            "erasure.html",
            status_code=422,
            person=person,
            learner=learner,
            problem=problem,
        )
    try:
        await enrollment.erase(learner_id)
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        return pages.render(
            request,
            "erasure.html",
            status_code=409,
            person=person,
            learner=learner,
            problem=problem,
        )
    return done(request, learner_id, "erased")


async def _enrolment_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    enrollment: Enrollment,
    enrollment_id: str,
    template: str,
    *,
    problem: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A form about one enrolment: the enrolment, its learner and the centers by name."""
    language = pages.language(request)
    item = await enrollment.enrollment(enrollment_id)
    learner, centers, pathways = await asyncio.gather(
        enrollment.learner(item["learner_id"]), enrollment.centers(), enrollment.pathways()
    )
    return pages.render(
        request,
        template,
        status_code=status_code,
        person=person,
        item=item,
        learner=learner,
        centers=center_names(centers, language),
        pathways=pathway_names(pathways, language),
        problem=problem,
        **context,
    )


@router.get("/enrollments/{enrollment_id}/transfer")
async def transfer_form(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
) -> Response:
    return await _enrolment_page(request, pages, person, enrollment, enrollment_id, "transfer.html")


@router.post("/enrollments/{enrollment_id}/transfer")
async def transfer(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    try:
        moved = await enrollment.transfer(enrollment_id, str(form.get("to_center_id") or ""))
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        return await _enrolment_page(
            request,
            pages,
            person,
            enrollment,
            enrollment_id,
            "transfer.html",
            problem=problem,
            status_code=422,
        )
    return done(request, moved["learner_id"], "transferred")


@router.get("/enrollments/{enrollment_id}/withdrawal")
async def withdrawal_form(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
) -> Response:
    return await _enrolment_page(
        request,
        pages,
        person,
        enrollment,
        enrollment_id,
        "withdrawal.html",
        reasons=WITHDRAWAL_REASONS,
    )


@router.post("/enrollments/{enrollment_id}/withdrawal")
async def withdraw(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    try:
        withdrawn = await enrollment.withdraw(enrollment_id, str(form.get("reason") or ""))
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        return await _enrolment_page(
            request,
            pages,
            person,
            enrollment,
            enrollment_id,
            "withdrawal.html",
            problem=problem,
            status_code=422,
            reasons=WITHDRAWAL_REASONS,
        )
    return done(request, withdrawn["learner_id"], "withdrawn")


@router.get("/enrollments/{enrollment_id}/places")
async def places_nearby(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
) -> Response:
    nearby = await enrollment.places_nearby(enrollment_id)
    return await _enrolment_page(
        request, pages, person, enrollment, enrollment_id, "places.html", nearby=nearby
    )


@router.post("/enrollments/{enrollment_id}/places")
async def place_elsewhere(
    request: Request,
    enrollment_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    try:
        placed = await enrollment.place_elsewhere(enrollment_id, str(form.get("center_id") or ""))
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        nearby = await enrollment.places_nearby(enrollment_id)
        return await _enrolment_page(
            request,
            pages,
            person,
            enrollment,
            enrollment_id,
            "places.html",
            problem=problem,
            status_code=422,
            nearby=nearby,
        )
    return done(request, placed["learner_id"], "placed")

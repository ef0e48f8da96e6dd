"""Association staff's learners: the list with its search and filters, a learner's page, and
the enrol form. Each route reads the request, calls the enrollment service as the person, and
renders what it answered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from fursa.console.clients import Certification, Enrollment, Notify, Training
from fursa.console.i18n import Language
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import EnrollmentClient, ServiceProblem
from fursa.console.signin import CurrentPerson
from fursa.shared.phones import NotAMobileNumberError, moroccan_mobile

router = APIRouter()

PAGE_SIZE = 25
STATUSES = ("enrolled", "waitlisted", "completed", "withdrawn")
SCHOOL_LEVELS = (
    "never_schooled",
    "primary_1",
    "primary_2",
    "primary_3",
    "primary_4",
    "primary_5",
    "primary_6",
    "middle_1",
    "middle_2",
    "middle_3",
    "high_school",
)


def center_names(centers: list[dict[str, Any]], language: Language) -> dict[str, str]:
    """Center id → its name in the person's language (the French name when no Arabic one)."""
    return _names(centers, language)


def association_names(associations: list[dict[str, Any]], language: Language) -> dict[str, str]:
    """Association id → its name in the person's language (the French name when no Arabic one)."""
    return _names(associations, language)


def _names(named: list[dict[str, Any]], language: Language) -> dict[str, str]:
    return {
        each["id"]: (each.get("name_ar") if language == "ar" else None) or each["name"]
        for each in named
    }


def pathway_names(pathways: list[dict[str, Any]], language: Language) -> dict[str, str]:
    return {pathway["code"]: pathway[language] for pathway in pathways}


@router.get("/")
async def home(person: CurrentPerson) -> Response:
    return RedirectResponse(person.home, status_code=303)


@router.get("/learners")
async def learners(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    name: Annotated[str, Query(max_length=200)] = "",
    center_id: Annotated[str, Query(max_length=64)] = "",
    pathway: Annotated[str, Query(max_length=40)] = "",
    school_year: Annotated[str, Query(max_length=9)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    language = pages.language(request)
    criteria = {
        "name": name.strip(),
        "center_id": center_id,
        "pathway": pathway,
        "school_year": school_year,
        "status": status if status in STATUSES else "",
    }
    found, centers, pathways, years = await asyncio.gather(
        enrollment.find_learners(**criteria, limit=PAGE_SIZE, offset=offset),
        enrollment.centers(),
        enrollment.pathways(),
        enrollment.school_years(),
    )
    context = {
        "person": person,
        "found": found,
        "criteria": criteria,
        "centers": center_names(centers, language),
        "pathways": pathway_names(pathways, language),
        "school_years": [year["code"] for year in years],
        "statuses": STATUSES,
        "page_size": PAGE_SIZE,
        "offset": offset,
    }
    # htmx's search-as-you-type asks for the results only; a plain GET gets the whole page.
    template = "learner_results.html" if request.headers.get("HX-Request") else "learners.html"
    return pages.render(request, template, **context)


@router.get("/learners/{learner_id}")
async def learner_page(
    request: Request,
    learner_id: Annotated[str, Path(max_length=64)],
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    training: Training,
    certification: Certification,
    notify: Notify,
) -> Response:
    language = pages.language(request)
    learner, listed, centers, pathways = await asyncio.gather(
        enrollment.learner(learner_id),
        enrollment.enrollments_of(learner_id),
        enrollment.centers(),
        enrollment.pathways(),
    )
    # The list leaves out waiting-list positions and transfers: read each enrolment.
    enrollments = await asyncio.gather(
        *(enrollment.enrollment(item["enrollment_id"]) for item in listed)
    )
    ids = [item["enrollment_id"] for item in enrollments]
    trainings, certificates, messages, audit = await asyncio.gather(
        asyncio.gather(*(seen(training.trainings_of(e)) for e in ids)),
        asyncio.gather(*(seen(certification.certificates_of(e)) for e in ids)),
        seen(notify.deliveries_to(learner_id)),
        seen(enrollment.audit_of(learner_id)),
    )
    outcome = request.session.pop("enrolled", None)
    duplicates: list[dict[str, Any]] = []
    if isinstance(outcome, dict):
        duplicates = await _possible_duplicates(enrollment, outcome.get("possible_duplicates", []))
    # Referrals are association staff's work: others' pages leave them out.
    referrals = await enrollment.referrals_by_id(
        {item["referral_id"] for item in enrollments if item.get("referral_id") and person.enrols}
    )
    by_enrollment = [
        {
            **item,
            "training": (found or [None])[0],
            "certificates": issued or [],
            "referral": referrals.get(item.get("referral_id") or ""),
        }
        for item, found, issued in zip(enrollments, trainings, certificates, strict=True)
    ]
    return pages.render(
        request,
        "learner.html",
        person=person,
        learner=learner,
        enrollments=sorted(by_enrollment, key=lambda item: item["school_year"], reverse=True),
        centers=center_names(centers, language),
        pathways=pathway_names(pathways, language),
        messages=messages,
        audit=audit,
        done=request.session.pop("done", None),
        outcome=outcome,
        duplicates=duplicates,
    )


async def seen(call: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """What a service shows this person, or ``None`` when their role may not read it (the
    page says so rather than fail: each service decides who reads what)."""
    try:
        return await call
    except ServiceProblem as refusal:
        if refusal.status == 403:
            return None
        raise


async def _possible_duplicates(
    enrollment: EnrollmentClient, found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The earlier learners a new record may be, with their names (those the person sees)."""
    duplicates = []
    for candidate in found:
        try:
            other = await enrollment.learner(candidate["learner_id"])
        except ServiceProblem:
            continue
        duplicates.append({**other, "score": candidate["score"]})
    return duplicates


async def _enrol_form(
    request: Request,
    person: Person,
    pages: PagesDep,
    enrollment: EnrollmentClient,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str = "",
    status_code: int = 200,
) -> Response:
    language = pages.language(request)
    centers, pathways, years = await asyncio.gather(
        enrollment.centers(), enrollment.pathways(), enrollment.school_years()
    )
    open_years = [year for year in years if date.fromisoformat(year["ends_on"]) >= date.today()]
    return pages.render(
        request,
        "enrol.html",
        status_code=status_code,
        person=person,
        centers=center_names(centers, language),
        pathways=pathway_names(pathways, language),
        school_years=open_years or years,
        school_levels=SCHOOL_LEVELS,
        values=values,
        errors=errors,
        problem=problem,
    )


@router.get("/enrol")
async def enrol_form(
    request: Request, person: CurrentPerson, pages: PagesDep, enrollment: Enrollment
) -> Response:
    values = {
        "nationality": "MA",
        "preferred_language": pages.language(request),
        "referral_id": request.query_params.get("referral_id", "")[:36],
    }
    return await _enrol_form(request, person, pages, enrollment, values=values, errors={})


def guardian_phone(typed: str) -> str:
    """A Moroccan mobile as staff type it (06 12 34 56 78) in E.164; anything else as typed,
    for the service to accept (a foreign number in E.164) or name as the field at fault."""
    try:
        return moroccan_mobile(typed)
    except NotAMobileNumberError:
        return typed.replace(" ", "")


def enrollment_body(form: FormData) -> dict[str, Any]:
    """The enrol form as the enrollment service's request body."""

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    year_left = text("year_left_school")
    return {
        "learner": {
            "first_name_ar": text("first_name_ar"),
            "last_name_ar": text("last_name_ar"),
            "first_name_latin": text("first_name_latin"),
            "last_name_latin": text("last_name_latin"),
            "birth_date": text("birth_date"),
            "sex": text("sex"),
            "nationality": (text("nationality") or "MA").upper(),
            "massar_code": (text("massar_code") or "").upper() or None,
            "last_school_level": text("last_school_level"),
            "year_left_school": int(year_left) if year_left and year_left.isdigit() else year_left,
        },
        "guardian": {
            "name": text("guardian_name"),
            "phone": guardian_phone(text("guardian_phone") or ""),
            "preferred_language": text("preferred_language"),
        },
        "consent": {
            "data_use": form.get("consent_data_use") == "yes",
            "notifications": form.get("consent_notifications") == "yes",
        },
        "center_id": text("center_id"),
        "pathway": text("pathway"),
        "school_year": text("school_year"),
        "referral_id": text("referral_id"),
    }


# The service's field names (learner.birth_date) → the form's (birth_date).
FORM_FIELDS = {
    "guardian.name": "guardian_name",
    "guardian.phone": "guardian_phone",
    "guardian.preferred_language": "preferred_language",
}


@router.post("/enrol")
async def enrol(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    values = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    try:
        enrolled = await enrollment.enroll(enrollment_body(form))
    except ServiceProblem as refusal:
        if refusal.status in (401, 403):
            raise
        errors = {
            FORM_FIELDS.get(field, field.split(".")[-1]): message
            for field, message in refusal.field_errors().items()
        }
        return await _enrol_form(
            request,
            person,
            pages,
            enrollment,
            values=values,
            errors=errors,
            problem=refusal.detail,
            status_code=422,
        )
    request.session["enrolled"] = {
        "status": enrolled["status"],
        "waitlist_position": enrolled.get("waitlist_position"),
        "possible_duplicates": enrolled.get("possible_duplicates", []),
    }
    return RedirectResponse(f"/learners/{enrolled['learner_id']}", status_code=303)

"""Entraide Nationale officers' diplomas: the approval queue of their region by cohort (a
center's learners of one school year), a cohort's learners with what their diploma will say
(and its preview, the PDF itself), approving a whole cohort or one learner, holding one with a
reason until released, the cohort's diplomas as one PDF to print.

The certification service decides everything (the officer's region, who may approve, what is
pending); the console groups its answers and names the learners and centers."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from fursa.console.clients import Certification, Enrollment
from fursa.console.enrolment_changes import refused_on_form
from fursa.console.learners import center_names, pathway_names, seen
from fursa.console.pages import CheckedForm, Pages, PagesDep, Person
from fursa.console.services import CertificationClient, EnrollmentClient, ServiceProblem
from fursa.console.signin import CurrentPerson
from fursa.shared.contracts.common import UUID_PATTERN

router = APIRouter()

CenterId = Annotated[str, Path(pattern=UUID_PATTERN)]
EnrollmentId = Annotated[str, Path(pattern=UUID_PATTERN)]
SCHOOL_YEAR = r"^[0-9]{4}/[0-9]{4}$"
SchoolYear = Annotated[str, Query(pattern=SCHOOL_YEAR)]
PDF = "application/pdf"


def cohort_url(center_id: str, school_year: str) -> str:
    return f"/cohorts/{center_id}?{urlencode({'school_year': school_year})}"


@router.get("/approvals")
async def approval_queue(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
) -> Response:
    """The diplomas awaiting the officer's approval, one line per cohort."""
    language = pages.language(request)
    pending, centers, pathways = await asyncio.gather(
        certification.pending_approvals(), enrollment.centers(), enrollment.pathways()
    )
    names = center_names(centers, language)
    cohorts: dict[tuple[str, str], Counter[str]] = {}
    for line in pending:
        cohorts.setdefault((line["center_id"], line["school_year"]), Counter())[
            line["pathway"]
        ] += 1
    return pages.render(
        request,
        "approvals.html",
        person=person,
        cohorts=[
            {
                "center_id": center_id,
                "center": names.get(center_id, ""),
                "school_year": school_year,
                "by_pathway": dict(by_pathway),
                "learners": sum(by_pathway.values()),
                "url": cohort_url(center_id, school_year),
            }
            for (center_id, school_year), by_pathway in sorted(
                cohorts.items(), key=lambda item: (item[0][1], names.get(item[0][0], ""))
            )
        ],
        pathways=pathway_names(pathways, language),
        done=request.session.pop("done", None),
    )


async def _learners(enrollment: EnrollmentClient, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Learner id → the learner, for those the person may read."""
    found = await asyncio.gather(*(seen_one(enrollment.learner(i)) for i in sorted(ids)))
    return {learner["id"]: learner for learner in found if learner is not None}


async def seen_one(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    """One record the person may read, or ``None`` (out of their scope, or gone)."""
    try:
        found: dict[str, Any] = await call
    except ServiceProblem as refusal:
        if refusal.status in (403, 404):
            return None
        raise
    return found


@router.get("/cohorts/{center_id}")
async def cohort(
    request: Request,
    center_id: CenterId,
    school_year: SchoolYear,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
) -> Response:
    """A cohort: its learners awaiting approval (held ones with why), and the diplomas
    already issued."""
    return await _cohort_page(
        request, pages, person, enrollment, certification, center_id, school_year
    )


async def _cohort_page(
    request: Request,
    pages: Pages,
    person: Person,
    enrollment: EnrollmentClient,
    certification: CertificationClient,
    center_id: str,
    school_year: str,
    *,
    refused: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The cohort page; `refused`: a hold the service refused (the learner's enrollment, the
    service's words, the reason as typed), shown on that learner's card."""
    language = pages.language(request)
    pending, completed, centers, pathways, signatories = await asyncio.gather(
        certification.pending_approvals(center_id),
        enrollment.find_learners(
            center_id=center_id, school_year=school_year, status="completed", limit=200
        ),
        enrollment.centers(),
        enrollment.pathways(),
        seen(certification.signatories()),
    )
    pending = [line for line in pending if line["school_year"] == school_year]
    names = center_names(centers, language)
    if center_id not in names:
        raise ServiceProblem(404)
    enrollments = [
        item["current_enrollment"]["enrollment_id"]
        for item in completed["items"]
        if item["current_enrollment"]["center_id"] == center_id
    ]
    issued = await asyncio.gather(*(certification.certificates_of(e) for e in enrollments))
    certificates = sorted(
        (c for found in issued for c in found), key=lambda c: c["number"], reverse=True
    )
    holders = {line["learner_id"] for line in pending} | {c["learner_id"] for c in certificates}
    learners = await _learners(enrollment, holders)
    region = next((c["region_code"] for c in centers if c["id"] == center_id), "")
    return pages.render(
        request,
        "cohort.html",
        status_code=status_code,
        person=person,
        center_id=center_id,
        center=names[center_id],
        school_year=school_year,
        pending=sorted(pending, key=lambda line: line["completed_on"]),
        held=sum(1 for line in pending if line["held"]),
        certificates=certificates,
        learners=learners,
        pathways=pathway_names(pathways, language),
        signatory=next((s for s in signatories or [] if s["region_code"] == region), None),
        refused=refused or {},
        done=request.session.pop("done", None),
    )


@router.post("/cohorts/{center_id}/approval")
async def approve_cohort(
    request: Request,
    center_id: CenterId,
    certification: Certification,
    form: CheckedForm,
    _person: CurrentPerson,
) -> Response:
    """Approve every pending diploma of the cohort: each is issued at once."""
    school_year = str(form.get("school_year") or "")
    issued = await certification.approve_cohort(center_id, school_year)
    request.session["done"] = {"approved": len(issued)}
    return RedirectResponse(cohort_url(center_id, school_year), status_code=303)


@router.post("/approvals/{enrollment_id}")
async def approve_one(
    request: Request,
    enrollment_id: EnrollmentId,
    certification: Certification,
    form: CheckedForm,
    _person: CurrentPerson,
) -> Response:
    """Approve one learner's diploma, issued at once; back to their cohort."""
    issued = await certification.approve(enrollment_id)
    request.session["done"] = {"approved": 1, "number": issued["number"]}
    school_year = str(form.get("school_year") or "")
    return RedirectResponse(cohort_url(issued["center_id"], school_year), status_code=303)


@router.get("/approvals/{enrollment_id}/preview.pdf")
async def preview(
    enrollment_id: EnrollmentId, certification: Certification, _person: CurrentPerson
) -> Response:
    """The diploma as it would be issued, marked as a preview and without number: what the
    officer is about to approve."""
    pdf = await certification.preview(enrollment_id)
    return Response(
        pdf,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="preview-{enrollment_id}.pdf"'},
    )


@router.post("/approvals/{enrollment_id}/hold")
async def hold(
    request: Request,
    enrollment_id: EnrollmentId,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
    form: CheckedForm,
) -> Response:
    """Hold one learner's diploma with a reason: it stays in the queue, left out of the
    cohort's approval until released. Refused, the cohort page says why on the card."""
    reason = str(form.get("reason") or "")
    center_id, school_year = _cohort_of(form)
    try:
        await certification.hold(enrollment_id, reason)
    except ServiceProblem as refusal:
        if refusal.status == 404:
            raise
        problem, errors = refused_on_form(refusal)
        return await _cohort_page(
            request,
            pages,
            person,
            enrollment,
            certification,
            center_id,
            school_year,
            refused={
                "enrollment_id": enrollment_id,
                "problem": errors.get("reason", problem),
                "reason": reason,
            },
            status_code=422 if errors else 409,
        )
    request.session["done"] = {"held": 1}
    return RedirectResponse(cohort_url(center_id, school_year), status_code=303)


@router.post("/approvals/{enrollment_id}/release")
async def release(
    request: Request,
    enrollment_id: EnrollmentId,
    certification: Certification,
    form: CheckedForm,
    _person: CurrentPerson,
) -> Response:
    """Release a held diploma: it awaits approval again, with its cohort."""
    released = await certification.release(enrollment_id)
    request.session["done"] = {"released": 1}
    school_year = str(form.get("school_year") or "")
    return RedirectResponse(cohort_url(released["center_id"], school_year), status_code=303)


def _cohort_of(form: FormData) -> tuple[str, str]:
    """The cohort a card's form came from (its page is shown again on a refusal)."""
    center_id, school_year = str(form.get("center_id") or ""), str(form.get("school_year") or "")
    if not re.fullmatch(UUID_PATTERN, center_id) or not re.fullmatch(SCHOOL_YEAR, school_year):
        raise ServiceProblem(404)
    return center_id, school_year


@router.get("/cohorts/{center_id}/diplomas.pdf")
async def cohort_diplomas(
    center_id: CenterId,
    school_year: SchoolYear,
    certification: Certification,
    _person: CurrentPerson,
) -> Response:
    """The cohort's active diplomas as one PDF to print, a page each."""
    pdf = await certification.cohort_diplomas(center_id, school_year)
    filename = f"diplomas-{school_year.replace('/', '-')}.pdf"
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )

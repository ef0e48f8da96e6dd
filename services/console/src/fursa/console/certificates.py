"""One certificate as an Entraide Nationale officer handles it: what it says, its lineage (the
certificates of the same enrolment, each replacing a revoked one), its status as the public
sees it (a link to the certification service's verification page), the diploma to print, and
revoking it with a reason (after a confirmation) or re-issuing it after a correction."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.approvals import PDF, seen_one
from fursa.console.clients import Certification, Enrollment
from fursa.console.learners import center_names, pathway_names
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import CertificationClient, EnrollmentClient, ServiceProblem
from fursa.console.signin import CurrentPerson
from fursa.shared.contracts import RevocationReason

router = APIRouter()

Number = Annotated[str, Path(pattern=r"^[A-Z]{2,3}-[0-9]{4}-[0-9]{6,}$")]
REASONS = tuple(RevocationReason)


async def _certificate_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    enrollment: EnrollmentClient,
    certification: CertificationClient,
    number: str,
    *,
    template: str = "certificate.html",
    problem: str = "",
    status_code: int = 200,
) -> Response:
    language = pages.language(request)
    certificate = await certification.certificate(number)
    lineage, learner, centers, pathways = await asyncio.gather(
        certification.certificates_of(certificate["enrollment_id"]),
        seen_one(enrollment.learner(certificate["learner_id"])),
        enrollment.centers(),
        enrollment.pathways(),
    )
    verify_base = request.app.state.settings.verification_base_url.rstrip("/")
    return pages.render(
        request,
        template,
        status_code=status_code,
        person=person,
        certificate=certificate,
        lineage=sorted(lineage, key=lambda c: c["issued_on"]),
        learner=learner,
        center=center_names(centers, language).get(certificate["center_id"], ""),
        pathways=pathway_names(pathways, language),
        verify_url=f"{verify_base}/verify/{number}?lang={language}",
        reasons=REASONS,
        problem=problem,
        done=request.session.pop("done", None),
    )


@router.get("/certificates/{number}")
async def certificate_page(
    request: Request,
    number: Number,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
) -> Response:
    return await _certificate_page(request, pages, person, enrollment, certification, number)


@router.get("/certificates/{number}/diploma.pdf")
async def diploma(number: Number, certification: Certification, _person: CurrentPerson) -> Response:
    """The diploma as the certification service renders it, to read or print."""
    pdf = await certification.diploma(number)
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{number}.pdf"'}
    )


@router.get("/certificates/{number}/revocation")
async def revocation_form(
    request: Request,
    number: Number,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
) -> Response:
    return await _certificate_page(
        request, pages, person, enrollment, certification, number, template="revocation.html"
    )


@router.post("/certificates/{number}/revocation")
async def revoke(
    request: Request,
    number: Number,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
    form: CheckedForm,
) -> Response:
    """Revoke once the officer confirmed it; the reason is the service's code, recorded with
    the officer's name in its audit trail."""
    reason = str(form.get("reason") or "")
    if form.get("confirm") != "yes" or reason not in REASONS:
        message = pages.gettext(
            request, "Choose the reason and tick the box to confirm: nothing was revoked."
        )
        return await _certificate_page(
            request,
            pages,
            person,
            enrollment,
            certification,
            number,
            template="revocation.html",
            problem=message,
            status_code=422,
        )
    try:
        await certification.revoke(number, reason)
    except ServiceProblem as refusal:
        if refusal.status != 409:
            raise
        return await _certificate_page(
            request,
            pages,
            person,
            enrollment,
            certification,
            number,
            template="revocation.html",
            problem=refusal.detail,
            status_code=409,
        )
    request.session["done"] = "revoked"
    return RedirectResponse(f"/certificates/{number}", status_code=303)


@router.post("/certificates/{number}/reissue")
async def reissue(
    request: Request,
    number: Number,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    certification: Certification,
    _form: CheckedForm,
) -> Response:
    """A new certificate, with a new number, in place of a revoked one (after a correction)."""
    try:
        issued = await certification.reissue(number)
    except ServiceProblem as refusal:
        if refusal.status != 409:
            raise
        return await _certificate_page(
            request,
            pages,
            person,
            enrollment,
            certification,
            number,
            problem=refusal.detail,
            status_code=409,
        )
    request.session["done"] = "reissued"
    return RedirectResponse(f"/certificates/{issued['number']}", status_code=303)

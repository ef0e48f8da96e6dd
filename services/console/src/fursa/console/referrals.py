"""Association staff's referrals: the learners partner bodies refer through the association's
agreements, by agreement with their status; recording one as it is received (the partner's
file number only, and what the partner may be told as consented), accepting it, closing it
with a reason code, and recording the consent as it comes to stand later (given, widened,
withdrawn). The enrollment service decides each step; its refusals show on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Enrollment
from fursa.console.enrolment_changes import refused_on_form
from fursa.console.pages import CheckedForm, PagesDep
from fursa.console.services import EnrollmentClient, ServiceProblem
from fursa.console.signin import EnrollingPerson
from fursa.shared.clock import local_today
from fursa.shared.contracts import ReferralClosingReason, ReferralSharing, ReferralStatus

router = APIRouter()

Id = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]

CONSENT_GIVERS = ("guardian", "learner")
RECEIVED_FIELDS = ("agreement_id", "reference", "received_on", "sharing", "consent_given_by")


async def _referrals_page(
    request: Request,
    pages: PagesDep,
    person: EnrollingPerson,
    enrollment: EnrollmentClient,
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    consenting: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The page; ``consenting`` is the consent form a refusal sends back (its referral's id
    and what was chosen), open on its card with the service's words beside its fields."""
    agreements = await enrollment.agreements()
    referrals = {
        agreement["id"]: await enrollment.referrals_of(agreement["id"]) for agreement in agreements
    }
    return pages.render(
        request,
        "referrals.html",
        status_code=status_code,
        person=person,
        agreements=agreements,
        referrals=referrals,
        sharings=list(ReferralSharing),
        consent_givers=CONSENT_GIVERS,
        closing_reasons=list(ReferralClosingReason),
        open_statuses=(ReferralStatus.REFERRED, ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED),
        values=values or {"received_on": local_today().isoformat(), "sharing": "none"},
        problem=problem,
        errors=errors or {},
        consenting=consenting or {},
        done=request.session.pop("done", None),
    )


@router.get("/referrals")
async def referrals(
    request: Request, person: EnrollingPerson, pages: PagesDep, enrollment: Enrollment
) -> Response:
    return await _referrals_page(request, pages, person, enrollment)


def consent_body(form: dict[str, str]) -> dict[str, Any]:
    """What the partner may be told, and who consented to it only if anything is shared."""
    body: dict[str, Any] = {"sharing": form.get("sharing", "none")}
    if body["sharing"] != "none":
        body["consent_given_by"] = form.get("consent_given_by") or None
    return body


def referral_body(form: dict[str, str]) -> dict[str, Any]:
    """The service's body for a referral received, with its consent."""
    received = {
        "reference": form.get("reference", "").strip(),
        "received_on": form.get("received_on", ""),
    }
    return received | consent_body(form)


@router.post("/referrals")
async def receive(
    request: Request,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    values = {name: str(form.get(name) or "") for name in RECEIVED_FIELDS}
    try:
        await enrollment.receive_referral(values["agreement_id"], referral_body(values))
    except ServiceProblem as refusal:
        problem, errors = refused_on_form(refusal)
        return await _referrals_page(
            request,
            pages,
            person,
            enrollment,
            values=values,
            problem=problem,
            errors=errors,
            status_code=422,
        )
    request.session["done"] = "referral_received"
    return RedirectResponse("/referrals", status_code=303)


@router.post("/referrals/{referral_id}/accept")
async def accept(
    request: Request,
    referral_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    _form: CheckedForm,
) -> Response:
    try:
        await enrollment.accept_referral(referral_id)
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        return await _referrals_page(
            request, pages, person, enrollment, problem=problem, status_code=422
        )
    request.session["done"] = "referral_accepted"
    return RedirectResponse("/referrals", status_code=303)


@router.post("/referrals/{referral_id}/close")
async def close(
    request: Request,
    referral_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    try:
        await enrollment.close_referral(referral_id, str(form.get("reason") or ""))
    except ServiceProblem as refusal:
        problem, _errors = refused_on_form(refusal)
        return await _referrals_page(
            request, pages, person, enrollment, problem=problem, status_code=422
        )
    request.session["done"] = "referral_closed"
    return RedirectResponse("/referrals", status_code=303)


@router.post("/referrals/{referral_id}/sharing")
async def record_consent(
    request: Request,
    referral_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    """What the partner may be told from now on, as consented (``none`` withdraws it)."""
    values = {name: str(form.get(name) or "") for name in ("sharing", "consent_given_by")}
    try:
        await enrollment.set_referral_sharing(referral_id, consent_body(values))
    except ServiceProblem as refusal:
        problem, errors = refused_on_form(refusal)
        return await _referrals_page(
            request,
            pages,
            person,
            enrollment,
            problem=problem,
            errors={f"{name}-{referral_id}": message for name, message in errors.items()},
            consenting=values | {"referral_id": referral_id},
            status_code=422,
        )
    request.session["done"] = "referral_consent_recorded"
    return RedirectResponse("/referrals", status_code=303)

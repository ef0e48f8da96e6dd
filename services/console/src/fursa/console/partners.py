"""Administrators' partners: the list, onboarding a partner with its webhook, and a partner's
page (its endpoints, their recent deliveries and failures, a redelivery, a new signing
secret). The notify service registers, scopes and audits all of it; a signing secret is in
one answer only, so the page that receives it shows it once and nothing keeps it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Notify
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import NotifyClient, ServiceProblem
from fursa.console.signin import CurrentPerson

router = APIRouter()

RECENT_DELIVERIES = 20
Id = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]


async def _partners_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    notify: NotifyClient,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return pages.render(
        request,
        "partners.html",
        status_code=status_code,
        person=person,
        partners=await notify.partners(),
        event_types=await notify.partner_event_types(),
        values=values or {"event_types": []},
        errors=errors or {},
    )


@router.get("/partners")
async def partners(
    request: Request, person: CurrentPerson, pages: PagesDep, notify: Notify
) -> Response:
    return await _partners_page(request, pages, person, notify)


@router.post("/partners")
async def onboard(
    request: Request, person: CurrentPerson, pages: PagesDep, notify: Notify, form: CheckedForm
) -> Response:
    """Register the partner and its webhook; the answer's secret is shown on this page only."""
    name = str(form.get("name") or "").strip()
    url = str(form.get("url") or "").strip()
    event_types = [str(code) for code in form.getlist("event_types")]
    try:
        onboarded = await notify.onboard(name, url, event_types)
    except ServiceProblem as refusal:
        if refusal.status not in (409, 422):
            raise
        errors = {
            field.removeprefix("webhook.").split(".")[0]: text
            for field, text in refusal.field_errors().items()
        }
        if not errors:
            errors["name"] = refusal.detail
        values = {"name": name, "url": url, "event_types": event_types}
        return await _partners_page(
            request, pages, person, notify, values=values, errors=errors, status_code=422
        )
    return await _partner_page(
        request, pages, person, notify, onboarded["partner_id"], secret=onboarded["endpoint"]
    )


async def _partner_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    notify: NotifyClient,
    partner_id: str,
    *,
    secret: dict[str, Any] | None = None,
) -> Response:
    partner = await notify.partner(partner_id)
    endpoints = await notify.endpoints(partner_id)
    deliveries = {
        endpoint["endpoint_id"]: await notify.webhook_deliveries(
            partner_id, endpoint["endpoint_id"], RECENT_DELIVERIES
        )
        for endpoint in endpoints
    }
    return pages.render(
        request,
        "partner.html",
        person=person,
        partner=partner,
        endpoints=endpoints,
        deliveries=deliveries,
        secret=secret,
        redelivered=request.session.pop("redelivered", None),
    )


@router.get("/partners/{partner_id}")
async def partner(
    request: Request, partner_id: Id, person: CurrentPerson, pages: PagesDep, notify: Notify
) -> Response:
    return await _partner_page(request, pages, person, notify, partner_id)


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/secret")
async def rotate_secret(
    request: Request,
    partner_id: Id,
    endpoint_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    notify: Notify,
    _form: CheckedForm,
) -> Response:
    """A new signing secret, shown on this page once; the previous one signs beside it for
    the grace period."""
    rotated = await notify.rotate_secret(partner_id, endpoint_id)
    return await _partner_page(request, pages, person, notify, partner_id, secret=rotated)


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request,
    partner_id: Id,
    endpoint_id: Id,
    delivery_id: Id,
    notify: Notify,
    _form: CheckedForm,
) -> Response:
    await notify.redeliver(partner_id, endpoint_id, delivery_id)
    request.session["redelivered"] = delivery_id
    return RedirectResponse(f"/partners/{partner_id}", status_code=303)

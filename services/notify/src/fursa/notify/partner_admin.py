"""Administrators' partner routes: the list of partners and onboarding in one step.

* ``GET /partners`` (admins): every partner with its webhook endpoints — no signing secret.
* ``POST /partners/onboarding`` (admins): a partner and, optionally, its webhook endpoint in one
  transaction — everything is registered or nothing is (``fursa partner add`` uses it, so that a
  refused endpoint leaves no partner behind).

A taken name answers 409 ``partner_name_taken`` here and on ``POST /partners``
(:func:`install` maps :class:`~fursa.notify.partners.PartnerNameTaken` for the whole app).
The per-partner routes are in :mod:`fursa.notify.api`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from fursa.notify import partners
from fursa.notify.api import (
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    SettingsDep,
    UowDep,
    UtcInstant,
)
from fursa.notify.settings import NotifySettings
from fursa.shared.auth import Principal, Role, allow
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem, register_messages
from fursa.shared.runtime import DatabaseDep

register_messages(
    {
        "partner_name_taken": {
            "fr": "Un partenaire nommé « {name} » est déjà enregistré.",
            "ar": "يوجد شريك مسجل مسبقا باسم «{name}».",
        },
    }
)

Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]

router = APIRouter(
    prefix="/partners",
    tags=["partners"],
    dependencies=[Depends(allow(Role.ADMIN))],
    responses={
        401: {"description": "No valid bearer token", "content": {PROBLEM_JSON: {}}},
        403: {"description": "Not an administrator", "content": {PROBLEM_JSON: {}}},
    },
)


class PartnerListed(BaseModel):
    """A partner as administrators see it: its endpoints, never their secrets."""

    partner_id: str
    name: str
    created_at: UtcInstant
    endpoints: list[EndpointPublic]


class OnboardingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    webhook: Annotated[
        EndpointCreate | None,
        Field(description="Also register this webhook endpoint (its secret is shown once)."),
    ] = None


class Onboarded(BaseModel):
    partner_id: str
    name: str
    created_at: UtcInstant
    endpoint: EndpointCreated | None


_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "A partner of that name exists", "content": {PROBLEM_JSON: {}}}
}


@router.get("")
async def list_partners(db: DatabaseDep) -> list[PartnerListed]:
    """Every partner, by name, with its webhook endpoints (admins)."""
    return [
        PartnerListed(
            partner_id=listing.partner.id,
            name=listing.partner.name,
            created_at=listing.partner.created_at,
            endpoints=[EndpointPublic.of(endpoint) for endpoint in listing.endpoints],
        )
        for listing in await partners.list_partners(db)
    ]


@router.post("/onboarding", status_code=201, responses=_TAKEN)
async def onboard_partner(
    uow: UowDep, settings: SettingsDep, admin: Admin, body: OnboardingCreate
) -> Onboarded:
    """Register a partner and, when given, its webhook endpoint, in one transaction (admins):
    a refusal (a taken name: 409; an invalid endpoint: 422 naming the field) registers
    nothing. The answer shows the endpoint's signing secret, once."""
    webhook = None
    if body.webhook is not None:
        _require_https(settings, body.webhook.url)
        webhook = partners.WebhookRequest(body.webhook.url, body.webhook.event_types)
    done = await partners.onboard_partner(uow, name=body.name, webhook=webhook, by=admin)
    endpoint = None
    if done.endpoint is not None:
        endpoint = EndpointCreated(
            **EndpointPublic.of(done.endpoint.endpoint).model_dump(), secret=done.endpoint.secret
        )
    return Onboarded(
        partner_id=done.partner.id,
        name=done.partner.name,
        created_at=done.partner.created_at,
        endpoint=endpoint,
    )


def _require_https(settings: NotifySettings, url: str) -> None:
    # The same rule as POST /partners/{id}/endpoints, located in this body's shape.
    if settings.mode == "production" and not url.startswith("https://"):
        raise Problem.rule("webhook_url_not_https", field="webhook.url")


def install(app: FastAPI) -> None:
    """Answer a taken partner name 409 problem+json wherever it is raised."""

    async def on_taken(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, partners.PartnerNameTaken)
        return Problem.rule("partner_name_taken", status=409, name=exc.name).response(request)

    app.add_exception_handler(partners.PartnerNameTaken, on_taken)

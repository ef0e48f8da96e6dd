"""Signing in and out: OpenID Connect with the programme's identity provider, or, in
development only, a sign-in that lists the seeded people (one per role).

How the console gets a token the services accept: the services already verify the identity
provider's access tokens against its published keys (``FURSA_<SERVICE>_AUTH_OIDC_ISSUER``), so
the console forwards the access token it receives at sign-in, and holds no signing key of its
own. A stolen console can therefore mint nobody's token, the services keep one root of trust,
and their audit names the person, not the console. The provider issues that access token as a
JWT for the audience ``fursa`` with the person's ``role`` and its binding (``association_id``,
``center_id``, ``region_code``, ``province_code``): the claims of today's roles. The console
verifies it exactly as the services do (:class:`fursa.shared.auth.TokenVerifier`) to know whom
it serves. The authorization code flow uses PKCE (S256) and a nonce, through Authlib.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import httpx
from authlib.integrations.starlette_client import (  # type: ignore[import-untyped]
    OAuth,
    OAuthError,
)
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.pages import CheckedForm, Pages, PagesDep, Person
from fursa.console.settings import ConsoleSettings
from fursa.console.territories import province_name, region_name
from fursa.shared.auth import PROGRAMME_STAFF, Role, TokenVerifier, mint_dev_token
from fursa.shared.problems import Problem

router = APIRouter()

PROVIDER = "programme"


class SignInRequired(Exception):  # noqa: N818 - a redirect, not an error
    """The request needs a signed-in person and has none (or their token has expired)."""


def oauth_client(settings: ConsoleSettings) -> OAuth | None:
    """Authlib's client of the identity provider, when one is configured."""
    if not settings.oidc_issuer:
        return None
    oauth = OAuth()
    secret = settings.oidc_client_secret
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
    )
    return oauth


def token_verifier(settings: ConsoleSettings) -> TokenVerifier:
    """Verifies the tokens the console holds, exactly as the services verify them."""
    if settings.oidc_issuer:
        return TokenVerifier.from_oidc_issuer(settings.oidc_issuer)
    return TokenVerifier(dev_secret=settings.auth_dev_key.get_secret_value())


def signed_in(request: Request) -> Person | None:
    """The person of this session, while their token is valid."""
    token = request.session.get("token")
    if not isinstance(token, str):
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(token)
    except Problem:
        request.session.clear()
        return None
    return Person(name=str(request.session.get("name", "")), principal=principal, token=token)


async def current_person(request: Request) -> Person:
    person = signed_in(request)
    if person is None:
        raise SignInRequired
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]


async def enrolling_person(person: CurrentPerson) -> Person:
    """The person, if enrolling learners is their work (association staff, admin): the pages
    of that work are not shown to others, whatever a service would let them read."""
    if not person.enrols:
        raise HTTPException(403)
    return person


EnrollingPerson = Annotated[Person, Depends(enrolling_person)]


def _start_session(request: Request, *, token: str, name: str) -> None:
    # A new session at sign-in (a fresh CSRF token too): nothing from before survives it.
    request.session.clear()
    request.session.update({"token": token, "name": name, "csrf": secrets.token_urlsafe(32)})


@router.get("/sign-in")
async def sign_in_page(request: Request, pages: PagesDep) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse("/", status_code=303)
    people = await development_people(request) if pages.settings.development_sign_in else []
    return pages.render(
        request,
        "sign_in.html",
        provider=request.app.state.oauth is not None,
        people=people,
    )


@router.get("/sign-in/start")
async def start_sign_in(request: Request) -> Response:
    oauth: OAuth | None = request.app.state.oauth
    if oauth is None:
        raise HTTPException(404)
    settings: ConsoleSettings = request.app.state.settings
    redirect_uri = settings.public_base_url.rstrip("/") + "/sign-in/callback"
    client: Any = oauth.create_client(PROVIDER)
    response: Response = await client.authorize_redirect(
        request, redirect_uri, nonce=secrets.token_urlsafe(16)
    )
    return response


@router.get("/sign-in/callback")
async def finish_sign_in(request: Request, pages: PagesDep) -> Response:
    oauth: OAuth | None = request.app.state.oauth
    if oauth is None:
        raise HTTPException(404)
    client: Any = oauth.create_client(PROVIDER)
    try:
        token = await client.authorize_access_token(request)
        principal = request.app.state.token_verifier.verify(token["access_token"])
    except (OAuthError, Problem, KeyError):
        return pages.render(request, "sign_in_failed.html", status_code=401)
    userinfo = token.get("userinfo") or {}
    _start_session(
        request, token=token["access_token"], name=str(userinfo.get("name") or principal.subject)
    )
    return RedirectResponse("/", status_code=303)


async def _seeded_center(request: Request) -> dict[str, Any] | None:
    """The first center the enrollment service knows (its development seed), read with a
    short-lived development administrator token."""
    settings: ConsoleSettings = request.app.state.settings
    admin = mint_dev_token(
        settings.auth_dev_key.get_secret_value(), role=Role.ADMIN, subject="dev-console", ttl_s=60
    )
    try:
        response = await request.app.state.http.get(
            settings.enrollment_url.rstrip("/") + "/centers",
            headers={"Authorization": f"Bearer {admin}"},
        )
    except httpx.HTTPError:
        return None
    centers = response.json() if response.status_code == 200 else []
    return centers[0] if centers else None


async def development_people(request: Request) -> list[dict[str, str]]:
    """The seeded people, one per role, placed at the first seeded center."""
    pages: Pages = request.app.state.pages
    admin = {"role": "admin", "label": pages.gettext(request, "Administrator"), "place": ""}
    center = await _seeded_center(request)
    if center is None:
        return [admin]
    language = pages.language(request)
    arabic = language == "ar"

    def gettext(message: str) -> str:
        return pages.translate(language, message)

    center_name = (center.get("name_ar") if arabic else None) or center["name"]
    return [
        {
            "role": "association_staff",
            "label": pages.gettext(request, "Association staff"),
            "place": center_name,
        },
        {"role": "educator", "label": pages.gettext(request, "Educator"), "place": center_name},
        {
            "role": "entraide_officer",
            "label": pages.gettext(request, "Entraide Nationale officer"),
            "place": region_name(center["region_code"], language, gettext),
        },
        {
            "role": "directorate",
            "label": pages.gettext(request, "Provincial directorate"),
            "place": province_name(center["province_code"], language, gettext),
        },
        admin,
    ]


@router.post("/sign-in/development")
async def development_sign_in(request: Request, form: CheckedForm) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    if not settings.development_sign_in:
        raise HTTPException(404)
    try:
        role = Role(str(form.get("role")))
    except ValueError:
        raise HTTPException(422) from None
    if role not in PROGRAMME_STAFF:
        raise HTTPException(422)
    binding: dict[str, str | None] = {}
    if role is not Role.ADMIN:
        center = await _seeded_center(request)
        if center is None:
            raise HTTPException(503, "no seeded center yet")
        binding = {
            Role.ASSOCIATION_STAFF: {"association_id": center["association_id"]},
            Role.EDUCATOR: {"center_id": center["id"]},
            Role.ENTRAIDE_OFFICER: {"region_code": center["region_code"]},
            Role.DIRECTORATE: {"province_code": center["province_code"]},
        }[role]
    token = mint_dev_token(
        settings.auth_dev_key.get_secret_value(),
        role=role,
        subject=f"dev-{role}",
        ttl_s=settings.session_max_age_s,
        **binding,
    )
    _start_session(request, token=token, name=f"dev-{role}")
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request, _form: CheckedForm) -> Response:
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)

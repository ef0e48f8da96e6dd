"""The staff console: server-rendered pages over the four services' APIs.

No database and no events of its own: every page is one or a few calls to the services with the
signed-in person's token, so their scoping, validation and audit stay the only truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fursa.console import (
    approvals,
    assessments,
    certificates,
    classes,
    corrections,
    dashboard,
    dead_letters,
    duplicates,
    enrolment_changes,
    follow_ups,
    imports,
    learners,
    partners,
    referrals,
    report,
    signatories,
    signin,
)
from fursa.console.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_S, LANGUAGES
from fursa.console.pages import CheckedForm, Pages
from fursa.console.services import ServiceProblem
from fursa.console.sessions import EncryptedSessionMiddleware
from fursa.console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"

# Nothing but the console's own files: no inline script or style, no other origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the console's security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    """Build the console; it reaches the services (and the identity provider) once started."""
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.service_timeout_s) as http:
            app.state.http = http
            app.state.token_verifier = await asyncio.to_thread(signin.token_verifier, settings)
            yield

    app = FastAPI(
        title="Fursa console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.pages = Pages(settings)
    app.state.oauth = signin.oauth_client(settings)
    app.add_middleware(
        EncryptedSessionMiddleware,
        secret=settings.session_key.get_secret_value(),
        max_age=settings.session_max_age_s,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin.router)
    app.include_router(learners.router)
    app.include_router(enrolment_changes.router)
    app.include_router(duplicates.router)
    app.include_router(imports.router)
    app.include_router(classes.router)
    app.include_router(follow_ups.router)
    app.include_router(assessments.router)
    app.include_router(corrections.router)
    app.include_router(approvals.router)
    app.include_router(certificates.router)
    app.include_router(signatories.router)
    # Before the dashboard's exports: /dashboard/report.pdf is no table of theirs.
    app.include_router(report.router)
    app.include_router(dashboard.router)
    app.include_router(partners.router)
    app.include_router(referrals.router)
    app.include_router(dead_letters.router)
    _errors(app)
    _operations(app, settings)

    @app.post("/language")
    async def choose_language(request: Request, form: CheckedForm) -> Response:
        """Switch the person's language; they stay on the page they were reading."""
        language = str(form.get("language"))
        back = urlsplit(str(form.get("back") or "/"))
        # Only a path of the console itself: never an address elsewhere.
        target = back.path if back.path.startswith("/") and not back.netloc else "/"
        if back.query:
            target += "?" + back.query
        response = RedirectResponse(target, status_code=303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=LANGUAGE_COOKIE_MAX_AGE_S,
                secure=True,
                httponly=True,
                samesite="lax",
            )
        return response

    return app


def _errors(app: FastAPI) -> None:
    """Failures become pages in the person's language; an expired sign-in, the sign-in page."""

    @app.exception_handler(signin.SignInRequired)
    async def sign_in_required(request: Request, _exc: Exception) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(ServiceProblem)
    async def service_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceProblem)
        if exc.status == 401:
            request.session.clear()
            return RedirectResponse("/sign-in", status_code=303)
        status = exc.status if exc.status in (403, 404) else 502
        return _error_page(request, status, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _error_page(request, exc.status_code, "")

    @app.exception_handler(httpx.TransportError)
    async def service_unreachable(request: Request, _exc: Exception) -> Response:
        return _error_page(request, 503, "")


def _error_page(request: Request, status: int, detail: str) -> Response:
    pages: Pages = request.app.state.pages
    person = signin.signed_in(request)
    return pages.render(
        request, "error.html", status_code=status, status=status, detail=detail, person=person
    )


def _operations(app: FastAPI, settings: ConsoleSettings) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready once every service the pages call answers its /healthz."""
        http: httpx.AsyncClient = request.app.state.http

        async def alive(url: str) -> bool:
            try:
                return (await http.get(url.rstrip("/") + "/healthz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        names = list(settings.service_urls)
        answers = await asyncio.gather(*(alive(settings.service_urls[name]) for name in names))
        checks = dict(zip(names, answers, strict=True))
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

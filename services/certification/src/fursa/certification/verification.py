"""Public verification, for anyone holding a diploma or its number: an HTML page for people
(Arabic and French, :mod:`verification_page`) and a JSON status for machines, the issuer's
published keys and profile. No token is needed.

By number alone they show only validity, programme and date; the holder's name appears only
with the QR code's unguessable token. Never the birth date or anything of the guardian.
Numbers are read as people type them: letter case and surrounding spaces do not matter.
Requests are limited per client address, the page's (people) apart from the JSON routes'
(machines), so that neither crowds out the other (429 with Retry-After).
"""

from __future__ import annotations

import math
import time
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from pydantic import AfterValidator, BaseModel

from fursa.certification import credentials, domain, service
from fursa.certification import verification_page as people
from fursa.certification.domain import CertificateStatus
from fursa.certification.service import Issuer, Verification
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import CertificateKind, Pathway, RevocationReason
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import MESSAGES, Problem, language_of, register_messages

register_messages(
    {
        "rate_limited": {
            "fr": "Trop de demandes de vérification ; réessayez dans {retry_after} s.",
            "ar": "طلبات تحقق كثيرة جدًا؛ أعد المحاولة بعد {retry_after} ثانية.",
        },
        "token_mismatch": {
            "fr": "Ce jeton n'est pas celui du certificat : le lien est abîmé ou incomplet.",
            "ar": "هذا الرمز ليس رمز الشهادة: الرابط تالف أو ناقص.",
        },
    }
)

TOKEN_PATTERN = r"^[A-Za-z0-9_\-]{16,128}$"  # noqa: S105 - a pattern, not a secret
# A number as a person may type it; read as :func:`domain.typed_number` makes it.
TYPED_NUMBER_PATTERN = r"^\s*[A-Za-z]{2,3}-[0-9]{4}-[0-9]{6,}\s*$"


class VerificationRateLimit:
    """Verification requests allowed per client address (a moving window); ``audience``
    keeps the counts of people's pages and machines' requests apart in a shared store."""

    def __init__(
        self, limit: str, storage: str = "async+memory://", audience: str = "verify"
    ) -> None:
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage))
        self.audience = audience

    async def __call__(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if await self.limiter.hit(self.item, self.audience, client):
            return
        stats = await self.limiter.get_window_stats(self.item, self.audience, client)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise Problem(
            429,
            "rate_limited",
            params={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


async def _people_limited(request: Request) -> None:
    limit: VerificationRateLimit = request.app.state.page_rate_limit
    await limit(request)


async def _machines_limited(request: Request) -> None:
    limit: VerificationRateLimit = request.app.state.api_rate_limit
    await limit(request)


def install(app: FastAPI, settings: CertificationSettings) -> None:
    """The verification's rate limits, its emblem, and its pages for people's errors."""
    storage = settings.verification_rate_limit_storage
    app.state.page_rate_limit = VerificationRateLimit(
        settings.verification_page_rate_limit, storage, audience="verify-page"
    )
    app.state.api_rate_limit = VerificationRateLimit(
        settings.verification_api_rate_limit, storage, audience="verify-api"
    )
    app.state.emblem_file = settings.emblem_file or people.EMBLEM
    people.answer_people_in_html(app)


async def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


Number = Annotated[
    str,
    Path(
        pattern=TYPED_NUMBER_PATTERN,
        description="e.g. `MS-2026-000001`; letter case and surrounding spaces do not matter",
    ),
    AfterValidator(domain.typed_number),
]
Token = Annotated[
    str | None, Query(pattern=TOKEN_PATTERN, description="The QR code's token (shows the name).")
]


class HolderPublic(BaseModel):
    name_ar: str | None
    name_latin: str | None
    center_name: str | None
    region_ar: str
    region_fr: str
    workshops: list[str]


class VerificationPublic(BaseModel):
    """A certificate as anyone may check it."""

    number: str
    valid: bool
    status: CertificateStatus
    kind: CertificateKind
    pathway: Pathway
    programme_ar: str
    programme_fr: str
    issuer: str
    issued_on: date
    revoked_on: date | None
    revocation_reason: RevocationReason | None
    replaced_by: str | None
    holder: HolderPublic | None


def _public(found: Verification) -> VerificationPublic:
    holder = found.holder
    return VerificationPublic(
        number=found.number,
        valid=found.valid,
        status=found.status,
        kind=found.kind,
        pathway=found.pathway,
        programme_ar=domain.PROGRAMME.ar,
        programme_fr=domain.PROGRAMME.fr,
        issuer=credentials.ISSUER_NAME.fr,
        issued_on=found.issued_on,
        revoked_on=found.revoked_on,
        revocation_reason=found.revocation_reason,
        replaced_by=found.replaced_by,
        holder=(
            HolderPublic(
                name_ar=holder.name_ar,
                name_latin=holder.name_latin,
                center_name=holder.center_name,
                region_ar=holder.region.ar,
                region_fr=holder.region.fr,
                workshops=[workshop.fr for workshop in holder.workshops],
            )
            if holder
            else None
        ),
    )


async def _verification(request: Request, number: str, token: str | None) -> Verification | None:
    """The certificate as the public may see it; ``None`` for an unknown number. A token that
    is not the certificate's is a damaged or forged link, not a missing certificate."""
    db = request.app.state.runtime.db
    found = await service.verify(db, number=number, token=token)
    if found is None and token is not None and await service.find_certificate(db, number=number):
        language = language_of(request)
        raise Problem(
            422,
            "token_mismatch",
            errors=[
                {
                    "field": "query.token",
                    "rule": "token_mismatch",
                    "message": MESSAGES["token_mismatch"][language],
                }
            ],
        )
    return found


TOO_MANY = {"description": "Too many requests from this address", "content": {PROBLEM_JSON: {}}}
router = APIRouter(tags=["verification"])
# Machines: JSON and the credential.
verify = APIRouter(
    prefix="/verify",
    tags=["verification"],
    dependencies=[Depends(_machines_limited)],
    responses={429: TOO_MANY},
)
# People: the page and its form.
pages = APIRouter(
    prefix="/verify",
    tags=["verification"],
    dependencies=[Depends(_people_limited)],
    responses={429: {**TOO_MANY, "content": {PROBLEM_JSON: {}, "text/html": {}}}},
)
Language = Annotated[Literal["ar", "fr"] | None, Query()]


@verify.get("/{number}/status")
async def verification_status(
    request: Request, number: Number, token: Token = None
) -> VerificationPublic:
    """A certificate's validity, programme and date (the status its credential names); with
    the QR code's token, also its holder. A token that is not the certificate's is refused
    (422 `token_mismatch`): the link is damaged, which says nothing of the certificate."""
    found = await _verification(request, number, token)
    if found is None:
        raise Problem.not_found()
    return _public(found)


@pages.get(
    "",
    response_class=HTMLResponse,
    responses={
        303: {"description": "To the page of the number typed"},
        422: {
            "description": "A mistyped number: the page says so to a browser",
            "content": {PROBLEM_JSON: {}, "text/html": {}},
        },
    },
)
async def verification_form(
    request: Request,
    number: Annotated[
        str | None, Query(pattern=TYPED_NUMBER_PATTERN, description="A number typed")
    ] = None,
    lang: Language = None,
) -> Response:
    """The form where a person types a certificate's number; sent, it opens that number's
    page."""
    if number is None:
        return people.render(request, state="form", status_code=200)
    query = f"?lang={lang}" if lang else ""
    return RedirectResponse(f"/verify/{domain.typed_number(number)}{query}", status_code=303)


@pages.get(
    "/{number}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "The page saying so", "content": {"text/html": {}}},
        422: {
            "description": "A damaged link or a mistyped number: the page says so to a browser",
            "content": {PROBLEM_JSON: {}, "text/html": {}},
        },
    },
)
async def verification_page(
    request: Request, number: Number, token: Token = None, lang: Language = None
) -> HTMLResponse:
    """The verification page a QR code opens, in Arabic (right to left) or French."""
    try:
        found = await _verification(request, number, token)
    except Problem as problem:
        return people.problem_page(request, problem)
    if found is None:
        return people.render(request, state="unknown", status_code=404, typed=number)
    return people.render(
        request,
        state="valid" if found.valid else "revoked",
        status_code=200,
        found=found,
        token=token,
    )


@router.get(people.EMBLEM_URL, response_class=FileResponse, include_in_schema=False)
async def emblem(request: Request) -> FileResponse:
    """The emblem the page shows: the issuer's own when configured, else a placeholder."""
    return FileResponse(
        request.app.state.emblem_file,
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/.well-known/jwks.json")
async def jwks(issuer: Annotated[Issuer, Depends(_issuer)]) -> dict[str, Any]:
    """The issuer's public Ed25519 keys, current and retired, to verify credentials offline."""
    return issuer.keys.jwks()


@router.get("/issuer")
async def issuer_profile(issuer: Annotated[Issuer, Depends(_issuer)]) -> dict[str, Any]:
    """The issuer's Open Badges profile (the credentials' `issuer.id`)."""
    return credentials.issuer_profile(issuer.public_base_url)


@verify.get("/{number}/credential", response_class=Response)
async def credential(request: Request, number: Number) -> Response:
    """The certificate's signed Open Badges 3.0 credential (`application/vc+jwt`, no
    personal data)."""
    certificate = await service.find_certificate(request.app.state.runtime.db, number=number)
    if certificate is None:
        raise Problem.not_found()
    return Response(certificate.credential, media_type=credentials.MEDIA_TYPE)

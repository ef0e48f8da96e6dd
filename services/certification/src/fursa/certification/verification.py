"""Public verification, for anyone holding a diploma or its number: an HTML page (Arabic and
French) and a JSON status, the issuer's published keys and profile. No token is needed.

By number alone they show only validity, programme and date; the holder's name appears only
with the QR code's unguessable token. Never the birth date or anything of the guardian.
Requests are limited per client address (429 problem+json with Retry-After).
"""

from __future__ import annotations

import math
import time
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from pydantic import BaseModel

from fursa.certification import credentials, domain, service
from fursa.certification.api import NUMBER_PATTERN
from fursa.certification.diploma import long_date
from fursa.certification.domain import CertificateStatus
from fursa.certification.service import Issuer, Verification
from fursa.certification.templating import templates
from fursa.shared.contracts import CertificateKind, Pathway, RevocationReason
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem, language_of, register_messages

register_messages(
    {
        "rate_limited": {
            "fr": "Trop de demandes de vérification ; réessayez dans {retry_after} s.",
            "ar": "طلبات تحقق كثيرة جدًا؛ أعد المحاولة بعد {retry_after} ثانية.",
        }
    }
)

TOKEN_PATTERN = r"^[A-Za-z0-9_\-]{16,128}$"  # noqa: S105 - a pattern, not a secret


class VerificationRateLimit:
    """Verification requests allowed per client address (a moving window)."""

    def __init__(self, limit: str, storage: str = "async+memory://") -> None:
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage))

    async def __call__(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if await self.limiter.hit(self.item, "verify", client):
            return
        stats = await self.limiter.get_window_stats(self.item, "verify", client)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise Problem(
            429,
            "rate_limited",
            params={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


async def _rate_limited(request: Request) -> None:
    limit: VerificationRateLimit = request.app.state.verification_rate_limit
    await limit(request)


def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


Number = Annotated[str, Path(pattern=NUMBER_PATTERN, description="e.g. `MS-2026-000001`")]
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


router = APIRouter(tags=["verification"])
verify = APIRouter(
    prefix="/verify",
    tags=["verification"],
    dependencies=[Depends(_rate_limited)],
    responses={
        429: {"description": "Too many requests from this address", "content": {PROBLEM_JSON: {}}}
    },
)


@verify.get("/{number}/status")
async def verification_status(
    request: Request, number: Number, token: Token = None
) -> VerificationPublic:
    """A certificate's validity, programme and date (the status its credential names); with
    the QR code's token, also its holder."""
    found = await service.verify(request.app.state.runtime.db, number=number, token=token)
    if found is None:
        raise Problem.not_found()
    return _public(found)


@verify.get(
    "/{number}",
    response_class=HTMLResponse,
    responses={404: {"description": "The page saying so", "content": {"text/html": {}}}},
)
async def verification_page(
    request: Request,
    number: Number,
    token: Token = None,
    lang: Annotated[Literal["ar", "fr"] | None, Query()] = None,
) -> HTMLResponse:
    """The verification page a QR code opens, in Arabic (right to left) or French."""
    language = lang or language_of(request)
    found = await service.verify(request.app.state.runtime.db, number=number, token=token)
    html = templates.get_template("verify.html").render(
        lang=language,
        number=number,
        found=found,
        token=token,
        programme=domain.PROGRAMME,
        kinds=domain.KINDS,
        pathways=domain.PATHWAYS,
        issuer=credentials.ISSUER_NAME,
        long_date=long_date,
    )
    return HTMLResponse(
        html, status_code=200 if found else 404, headers={"Content-Language": language}
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
    """The certificate's signed Open Badges credential (VC-JWT, no personal data)."""
    certificate = await service.find_certificate(request.app.state.runtime.db, number=number)
    if certificate is None:
        raise Problem.not_found()
    return Response(certificate.credential, media_type="application/jwt")

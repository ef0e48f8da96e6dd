"""What a verifier fetches to check a credential without us: the issuer's DID document, the
revocation status lists and the achievements the credentials name. Public, no token, and
not rate limited: each is small, and the status lists answer a revalidation with 304.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response

from fursa.certification import credentials, did, domain, service
from fursa.certification.service import Issuer
from fursa.shared.contracts import CertificateKind, Pathway
from fursa.shared.problems import Problem

# How long a verifier may use a status list without asking again: a revocation reaches
# every verifier within this time.
STATUS_LIST_MAX_AGE_S = 300
DID_MEDIA_TYPE = "application/did+json"

router = APIRouter(tags=["verification"])


def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


@router.get("/.well-known/did.json", response_class=Response)
@router.get("/did.json", response_class=Response, include_in_schema=False)
async def did_document(request: Request) -> Response:
    """The issuer's `did:web` DID document: the same Ed25519 keys as the JWK Set (current and
    retired), each a verification method that may assert credentials. `/did.json` serves it
    where the public address has a path (did:web resolves such a DID there)."""
    issuer = _issuer(request)
    document = did.did_document(
        issuer.public_base_url,
        public_keys=issuer.keys.jwks()["keys"],
        also_known_as=credentials.issuer_id(issuer.public_base_url),
    )
    return _json(document, media_type=DID_MEDIA_TYPE)


@router.get(
    "/status-lists/revocation/{number}",
    response_class=Response,
    responses={
        200: {"content": {credentials.MEDIA_TYPE: {}}},
        304: {"description": "The list has not changed since the tag given"},
    },
)
async def revocation_status_list(
    request: Request,
    number: Annotated[int, Path(ge=0, le=1_000_000)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A revocation status list: a signed `BitstringStatusListCredential` (VC-JOSE-COSE,
    `application/vc+jwt`) whose bit at a credential's `statusListIndex` is 1 once revoked."""
    published = await service.revocation_status_list(
        request.app.state.runtime.db,
        number=number,
        issuer=_issuer(request),
        known_etag=if_none_match,
    )
    if published is None:
        raise Problem.not_found()
    headers = {
        "ETag": published.etag,
        "Cache-Control": f"public, max-age={STATUS_LIST_MAX_AGE_S}",
    }
    if if_none_match == published.etag:
        return Response(status_code=304, headers=headers)
    return Response(published.credential, media_type=credentials.MEDIA_TYPE, headers=headers)


@router.get("/achievements/{kind}/{pathway}")
async def achievement(request: Request, kind: CertificateKind, pathway: Pathway) -> Any:
    """What a diploma or attestation of a pathway attests (the credentials'
    `achievement.id`)."""
    if domain.kind_for(pathway) != kind:
        raise Problem.not_found()
    base = _issuer(request).public_base_url
    return {"@context": credentials.CONTEXTS, **credentials.achievement(base, kind, pathway)}


def _json(document: dict[str, Any], *, media_type: str) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), media_type=media_type)

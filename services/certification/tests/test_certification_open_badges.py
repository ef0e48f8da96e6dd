"""The credentials as an outside verifier meets them, with nothing of ours on the verifying side.

- Signatures: jwcrypto (not joserfc, which signs), with the key found by resolving the JOSE
  `kid` as a did:web DID URL over HTTP, as the did:web method specification says.
- Revocation: a Bitstring Status List reader written here from W3C VC Bitstring Status List
  v1.0 (multibase `u` = base64url without padding, GZIP, bit 0 = the first byte's most
  significant bit).
- Shape: the 1EdTech Open Badges 3.0 AchievementCredential JSON Schema, vendored beside these
  tests (see schemas/SOURCE.md), with `jsonschema`.

Every URL a credential names is fetched from the running service. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from jwcrypto import jwk, jws
from nats.js import JetStreamContext
from pydantic import SecretStr

from fursa.certification import service
from fursa.certification.app import create_app
from fursa.certification.credentials import CredentialFacts, IssuerKeys, sign_credential
from fursa.certification.models import Certificate
from fursa.certification.settings import CertificationSettings
from fursa.certification.status_list import status_entry
from fursa.shared.contracts import CertificateKind, Pathway
from fursa.shared.testing.builders import learner_enrolled, uuid_of

PUBLIC_BASE_URL = "https://verify.fursa.test"
SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text()
)
MIN_LIST_BITS = 131_072  # the specification's minimum: 16 KiB
SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


class NotVerifiedError(Exception):
    """The verifier refuses the credential (the reason is the message)."""


# ---- the outside verifier ----------------------------------------------------------------


def did_web_document_url(did: str) -> str:
    """did:web → the HTTPS address of its DID document (did:web method specification)."""
    _, method, *parts = did.split(":")
    assert method == "web"
    host, path = unquote(parts[0]), [unquote(part) for part in parts[1:]]
    return (
        f"https://{host}/{'/'.join(path)}/did.json"
        if path
        else (f"https://{host}/.well-known/did.json")
    )


async def resolve_key(http: httpx.AsyncClient, kid: str) -> jwk.JWK:
    """Dereference a DID URL to the public key of the verification method it names."""
    did, _, _fragment = kid.partition("#")
    document = (await http.get(did_web_document_url(did))).json()
    assert document["id"] == did
    methods = {method["id"]: method for method in document["verificationMethod"]}
    if kid not in methods or kid not in document["assertionMethod"]:
        raise NotVerifiedError(f"{kid} is not one of the issuer's assertion keys")
    key_material = methods[kid]["publicKeyJwk"]
    assert "d" not in key_material
    return jwk.JWK(**key_material)


async def verified_payload(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Check a compact JWS's signature with the key its header names; return the payload."""
    signed = jws.JWS()
    signed.deserialize(token)
    header = signed.jose_header
    assert isinstance(header, dict)
    key = await resolve_key(http, header["kid"])
    try:
        signed.verify(key, alg=header["alg"])
    except jws.InvalidJWSSignature as exc:
        raise NotVerifiedError("bad signature") from exc
    payload: dict[str, Any] = json.loads(signed.payload)
    return payload


def bit_at(encoded_list: str, index: int) -> int:
    """The status bit at `index` of a BitstringStatusList's `encodedList`."""
    assert encoded_list.startswith("u"), "multibase base64url (no padding)"
    text = encoded_list[1:]
    bitstring = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    assert len(bitstring) * 8 >= MIN_LIST_BITS
    return (bitstring[index // 8] >> (7 - index % 8)) & 1


async def verify_open_badge(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """An Open Badges 3.0 JWT credential (OB 3.0 §8.2) checked end to end: signature, the
    registered claims against the credential, and its revocation status list."""
    credential = await verified_payload(http, token)
    if credential["iss"] != credential["issuer"]["id"]:
        raise NotVerifiedError("iss is not the issuer")
    if credential["jti"] != credential["id"]:
        raise NotVerifiedError("jti is not the credential's id")
    if credential["sub"] != credential["credentialSubject"]["id"]:
        raise NotVerifiedError("sub is not the subject")
    if credential["nbf"] != int(datetime.fromisoformat(credential["validFrom"]).timestamp()):
        raise NotVerifiedError("nbf is not validFrom")
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    status_list = await verified_payload(http, (await http.get(entry["statusListCredential"])).text)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["id"] == entry["statusListCredential"]
    assert status_list["issuer"] == credential["issuer"]["id"]
    subject = status_list["credentialSubject"]
    assert subject["statusPurpose"] == "revocation"
    if bit_at(subject["encodedList"], int(entry["statusListIndex"])):
        raise NotVerifiedError("revoked")
    return credential


# ---- the service ---------------------------------------------------------------------------


@pytest.fixture
async def verifier(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the running service at its public address, without a token."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
        yield http


async def certify(app: FastAPI, n: int) -> Certificate:
    runtime = app.state.runtime
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=learner_enrolled(n))
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=uuid_of("enrollment", n),
            pathway=Pathway.VOCATIONAL_TRAINING if n % 2 else Pathway.SCHOOL_REINTEGRATION,
            issuer=app.state.issuer,
            issued_on=date(2026, 6, 30),
        )
    assert certificate is not None
    return certificate


async def credential_of(http: httpx.AsyncClient, number: str) -> str:
    response = await http.get(f"/verify/{number}/credential")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    return response.text


def urls_in(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set().union(*(urls_in(value) for value in document.values()))
    if isinstance(document, list):
        return set().union(*(urls_in(value) for value in document))
    if isinstance(document, str) and document.startswith(("http://", "https://")):
        return {document}
    return set()


# ---- tests ---------------------------------------------------------------------------------


async def test_issued_credentials_pass_the_1edtech_open_badges_schema(
    app: FastAPI, verifier: httpx.AsyncClient
) -> None:
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def rfc3339(value: object) -> bool:
        # RFC 3339 wants the offset (the jsonschema package checks date-time only with an
        # extra dependency).
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=checker)
    for n in (1, 2):  # a diploma and an attestation
        certificate = await certify(app, n)
        credential = await verify_open_badge(
            verifier, await credential_of(verifier, certificate.number)
        )
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(credential)
        ]
        assert errors == []
        assert credential["@context"] == [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ]
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert "issuanceDate" not in credential  # Data Model 2.0: validFrom
        assert credential["credentialSchema"][0]["id"] == SCHEMA_URL
    # The same credential a verifier received before is refused by the schema once broken.
    credential.pop("validFrom")
    assert not validator.is_valid(credential)


async def test_every_url_in_a_credential_resolves(
    app: FastAPI, verifier: httpx.AsyncClient
) -> None:
    certificate = await certify(app, 1)
    token = await credential_of(verifier, certificate.number)
    credential = await verified_payload(verifier, token)
    ours = {url for url in urls_in(credential) if url.startswith(PUBLIC_BASE_URL)}
    # The contexts and the 1EdTech schema are the standards' own addresses.
    theirs = urls_in(credential) - ours
    assert theirs == {
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        SCHEMA_URL,
    }
    achievement = credential["credentialSubject"]["achievement"]
    assert {
        achievement["id"],
        credential["issuer"]["id"],
        credential["credentialStatus"]["statusListCredential"],
        credential["evidence"][0]["id"],
    } <= ours
    for url in sorted(ours):
        response = await verifier.get(url)
        assert response.status_code == 200, url
    # The achievement and the issuer answer with what the credential says of them.
    assert (await verifier.get(achievement["id"])).json()["name"] == achievement["name"]
    profile = (await verifier.get(credential["issuer"]["id"])).json()
    assert profile["id"] == credential["issuer"]["id"]
    assert profile["type"] == ["Profile"]
    # The key: the header's kid is a DID URL that resolves, and the DID document names
    # the issuer's profile back.
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    assert kid.startswith("did:web:verify.fursa.test#")
    did_document = (await verifier.get("/.well-known/did.json")).json()
    assert did_document["alsoKnownAs"] == [credential["issuer"]["id"]]
    assert {
        "identifier": did_document["id"],
        "identifierType": "identifier",
        "type": "IdentifierEntry",
    } in profile["otherIdentifier"]
    # An achievement no certificate can have is not there.
    assert (await verifier.get("/achievements/diploma/school_reintegration")).status_code == 404


async def test_the_did_document_publishes_the_jwks_keys(
    app: FastAPI, verifier: httpx.AsyncClient
) -> None:
    jwks = (await verifier.get("/.well-known/jwks.json")).json()
    response = await verifier.get("/.well-known/did.json")
    assert response.headers["content-type"] == "application/did+json"
    document = response.json()
    assert document["id"] == "did:web:verify.fursa.test"
    published = {
        method["id"].split("#")[1]: method["publicKeyJwk"]
        for method in document["verificationMethod"]
    }
    assert published == {key["kid"]: key for key in jwks["keys"]}
    for method in document["verificationMethod"]:
        assert method["type"] == "JsonWebKey2020"
        assert method["controller"] == document["id"]
        assert "d" not in method["publicKeyJwk"]


async def test_revocation_sets_the_certificates_bit_in_the_signed_status_list(
    app: FastAPI, verifier: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    kept, revoked = await certify(app, 1), await certify(app, 3)
    kept_token = await credential_of(verifier, kept.number)
    revoked_token = await credential_of(verifier, revoked.number)
    entry = (await verified_payload(verifier, revoked_token))["credentialStatus"]
    list_url = entry["statusListCredential"]
    before = await verifier.get(list_url)
    assert before.headers["content-type"] == "application/vc+jwt"
    assert "max-age" in before.headers["cache-control"]
    etag = before.headers["etag"]
    unchanged = await verifier.get(list_url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert await verify_open_badge(verifier, revoked_token)

    response = await client.post(
        f"/certificates/{revoked.number}/revocation", json={"reason": "issued_in_error"}
    )
    assert response.status_code == 200

    after = await verifier.get(list_url, headers={"If-None-Match": etag})
    assert after.status_code == 200  # the list changed: a new version, a new tag
    assert after.headers["etag"] != etag
    status_list = await verified_payload(verifier, after.text)
    encoded = status_list["credentialSubject"]["encodedList"]
    assert bit_at(encoded, int(entry["statusListIndex"])) == 1
    kept_index = int(
        (await verified_payload(verifier, kept_token))["credentialStatus"]["statusListIndex"]
    )
    assert bit_at(encoded, kept_index) == 0
    # Only the revoked certificate's bit is set in the whole list.
    text = encoded[1:]
    bitstring = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    assert len(bitstring) * 8 == MIN_LIST_BITS
    assert sum(bin(byte).count("1") for byte in bitstring) == 1

    with pytest.raises(NotVerifiedError, match="revoked"):
        await verify_open_badge(verifier, revoked_token)
    assert await verify_open_badge(verifier, kept_token)
    # The per-certificate status route says so too.
    status = (await verifier.get(f"/verify/{revoked.number}/status")).json()
    assert status["valid"] is False


async def test_a_tampered_credential_is_rejected(app: FastAPI, verifier: httpx.AsyncClient) -> None:
    certificate = await certify(app, 1)
    header, payload, signature = (await credential_of(verifier, certificate.number)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["achievement"]["achievementType"] = "DoctoralDegree"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(NotVerifiedError, match="bad signature"):
        await verify_open_badge(verifier, f"{header}.{forged}.{signature}")


async def test_a_credential_signed_with_a_foreign_key_is_rejected(
    app: FastAPI, verifier: httpx.AsyncClient
) -> None:
    certificate = await certify(app, 1)
    genuine = await verified_payload(verifier, await credential_of(verifier, certificate.number))
    facts = CredentialFacts(
        certificate_id=uuid_of("certificate", 99),
        number="MS-2026-000099",
        learner_id=uuid_of("learner", 99),
        kind=CertificateKind.DIPLOMA,
        pathway=Pathway.VOCATIONAL_TRAINING,
        issued_at=datetime.fromisoformat(genuine["validFrom"]),
        public_base_url=PUBLIC_BASE_URL,
        status_index=int(genuine["credentialStatus"]["statusListIndex"]),
    )
    forger = IssuerKeys.generate()
    forged = sign_credential(forger, facts)
    # The forger's key is not the issuer's: its kid names no key of the DID document.
    with pytest.raises(NotVerifiedError, match="not one of the issuer's assertion keys"):
        await verify_open_badge(verifier, forged)
    # Nor does claiming the issuer's own key id help: the signature does not match it.
    _header, payload, signature = forged.split(".")
    issuer_kid = f"did:web:verify.fursa.test#{app.state.issuer.keys.current_key_id}"
    lying_header = (
        base64.urlsafe_b64encode(
            json.dumps({"alg": "Ed25519", "typ": "JWT", "kid": issuer_kid}).encode()
        )
        .decode()
        .rstrip("=")
    )
    with pytest.raises(NotVerifiedError, match="bad signature"):
        await verify_open_badge(verifier, f"{lying_header}.{payload}.{signature}")


async def test_credentials_signed_before_a_key_rotation_still_verify(
    settings: CertificationSettings, js: JetStreamContext
) -> None:
    old_keys = IssuerKeys.generate()
    first = settings.model_copy(update={"signing_keys": SecretStr(old_keys.private_jwk_set())})
    before = await _issue_and_download(first, 1)

    # Rotation: the new key first (it signs), the old one kept after it by its public part.
    retired = json.loads(old_keys.private_jwk_set())["keys"][0]
    retired.pop("d")
    new_key = json.loads(IssuerKeys.generate().private_jwk_set())["keys"][0]
    rotated = settings.model_copy(
        update={"signing_keys": SecretStr(json.dumps({"keys": [new_key, retired]}))}
    )
    after = await _issue_and_download(rotated, 3)

    app = create_app(rotated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
            old_credential = await verify_open_badge(http, before)
            new_credential = await verify_open_badge(http, after)
            document = (await http.get("/.well-known/did.json")).json()
    assert old_credential["id"] != new_credential["id"]
    kids = [
        json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))["kid"] for t in (before, after)
    ]
    assert kids[0] != kids[1]
    assert [method["id"] for method in document["verificationMethod"]] == [kids[1], kids[0]]


async def _issue_and_download(settings: CertificationSettings, n: int) -> str:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        certificate = await certify(app, n)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
            return await credential_of(http, certificate.number)


def test_a_status_list_spans_131072_certificates_then_the_next_one_opens() -> None:
    last_of_first = status_entry(PUBLIC_BASE_URL, MIN_LIST_BITS - 1)
    first_of_second = status_entry(PUBLIC_BASE_URL, MIN_LIST_BITS)
    assert last_of_first["statusListIndex"] == str(MIN_LIST_BITS - 1)
    assert last_of_first["statusListCredential"].endswith("/status-lists/revocation/0")
    assert first_of_second["statusListIndex"] == "0"
    assert first_of_second["statusListCredential"].endswith("/status-lists/revocation/1")
    assert urlsplit(first_of_second["id"]).fragment == "0"

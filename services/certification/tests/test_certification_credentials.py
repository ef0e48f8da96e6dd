"""The signed credential checked by a verifier that shares no code with the issuer: the JWS is
taken apart by hand and its Ed25519 signature verified with PyNaCl (libsodium) against the key
published in the JWK Set, whereas the issuer signs with joserfc (pyca/cryptography). Key
rotation, key configuration and the development key."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nacl.exceptions
import nacl.signing
import pytest
from fastapi import FastAPI

from fursa.certification import service
from fursa.certification.credentials import (
    CredentialFacts,
    IssuerKeys,
    SigningKeyError,
    sign_credential,
)
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import CertificateKind, Pathway
from fursa.shared.testing.builders import learner_enrolled, uuid_of


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_independently(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Check a compact JWS against a JWK Set with libsodium only; return its payload."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64url(header_b64))
    assert header["alg"] == "Ed25519"
    # The kid is the key's DID URL; its fragment is the key's id in the JWK Set.
    [jwk] = [key for key in jwks["keys"] if key["kid"] == header["kid"].rpartition("#")[2]]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    assert "d" not in jwk  # never the private part
    key = nacl.signing.VerifyKey(b64url(jwk["x"]))
    key.verify(f"{header_b64}.{payload_b64}".encode(), b64url(signature_b64))
    payload: dict[str, Any] = json.loads(b64url(payload_b64))
    return payload


def facts(n: int) -> CredentialFacts:
    return CredentialFacts(
        certificate_id=uuid_of("certificate", n),
        number=f"MS-2026-{n:06d}",
        learner_id=uuid_of("learner", n),
        kind=CertificateKind.DIPLOMA,
        pathway=Pathway.VOCATIONAL_TRAINING,
        issued_at=datetime(2026, 6, 30, 9, tzinfo=UTC),
        public_base_url="https://verify.fursa.test",
        status_index=n,
    )


async def test_published_keys_verify_the_credential_of_a_certificate(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    runtime = app.state.runtime
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=learner_enrolled(1))
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=uuid_of("enrollment", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            issuer=app.state.issuer,
        )
    assert certificate is not None

    token = (await anonymous.get(f"/verify/{certificate.number}/credential")).text
    jwks = (await anonymous.get("/.well-known/jwks.json")).json()
    claims = verify_independently(token, jwks)

    credential = claims  # Open Badges 3.0 JWT: the payload is the credential
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == claims["jti"] == f"urn:uuid:{certificate.id}"
    assert credential["issuer"]["id"] == claims["iss"] == "https://verify.fursa.test/issuer"
    assert credential["credentialSubject"]["id"] == f"urn:uuid:{certificate.learner_id}"
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "Diploma"
    status_list = credential["credentialStatus"]["statusListCredential"]
    assert status_list == "https://verify.fursa.test/status-lists/revocation/0"
    # The status list the credential names answers on this service.
    status = await anonymous.get(status_list.removeprefix("https://verify.fursa.test"))
    assert status.status_code == 200
    profile = (await anonymous.get("/issuer")).json()
    assert profile["id"] == claims["iss"]
    # A credential travels: it carries no personal data.
    for text in ("Salma", "Benali", "سلمى", "2011", "Fatima"):
        assert text not in json.dumps(claims, ensure_ascii=False)


def test_a_tampered_credential_fails_independent_verification() -> None:
    keys = IssuerKeys.generate()
    header, payload, signature = sign_credential(keys, facts(1)).split(".")
    claims = json.loads(b64url(payload))
    claims["credentialSubject"]["achievement"]["achievementType"] = "Doctorate"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(nacl.exceptions.BadSignatureError):
        verify_independently(f"{header}.{forged}.{signature}", keys.jwks())


def test_credentials_signed_before_a_key_rotation_still_verify() -> None:
    old = IssuerKeys.generate()
    before = sign_credential(old, facts(1))
    retired = json.loads(old.private_jwk_set())["keys"][0]
    retired.pop("d")  # a retired key may be kept by its public part only
    new = IssuerKeys.generate()
    rotated = IssuerKeys.from_jwk_set(
        json.dumps({"keys": [json.loads(new.private_jwk_set())["keys"][0], retired]})
    )
    after = sign_credential(rotated, facts(2))

    published = rotated.jwks()
    assert len(published["keys"]) == 2
    assert verify_independently(before, published)["id"].endswith(uuid_of("certificate", 1))
    assert verify_independently(after, published)["id"].endswith(uuid_of("certificate", 2))
    kid = json.loads(b64url(after.split(".")[0]))["kid"].rpartition("#")[2]
    assert kid == rotated.current_key_id == new.current_key_id != old.current_key_id


def test_configured_keys_come_from_settings(tmp_path: Path) -> None:
    keys = IssuerKeys.generate()
    settings = CertificationSettings(
        signing_keys=keys.private_jwk_set(), signing_keys_file=tmp_path / "unused.json"
    )
    assert IssuerKeys.for_settings(settings).jwks() == keys.jwks()
    assert not (tmp_path / "unused.json").exists()


def test_development_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "signing-keys.json"
    settings = CertificationSettings(signing_keys_file=path)
    first = IssuerKeys.for_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert IssuerKeys.for_settings(settings).current_key_id == first.current_key_id


def test_production_refuses_to_start_without_signing_keys() -> None:
    with pytest.raises(ValueError, match="FURSA_CERTIFICATION_SIGNING_KEYS"):
        CertificationSettings(mode="production", public_base_url="https://fursa.ma")


@pytest.mark.parametrize(
    "jwk_set",
    [
        '{"keys": []}',
        "not json",
        # A public key only: it cannot sign.
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", '
        '"x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}',
    ],
)
def test_keys_that_cannot_sign_are_refused(jwk_set: str) -> None:
    with pytest.raises(SigningKeyError):
        IssuerKeys.from_jwk_set(jwk_set)

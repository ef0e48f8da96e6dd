"""Signed credentials: each certificate as an Open Badges 3.0 credential (W3C Verifiable
Credential shape) in a VC-JWT signed with the issuer's Ed25519 key.

The JWS algorithm is `Ed25519` (RFC 9864's fully specified name for EdDSA over Ed25519). The
issuer's public keys are published as a JWK Set; every key ever used stays in it, so a
credential signed before a key rotation still verifies. A credential carries no personal data
(the holder is a pseudonymous `urn:uuid:`), so an erasure leaves it valid and unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

from fursa.certification import domain
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import CertificateKind, Pathway

ALGORITHM = "Ed25519"
CONTEXTS = [
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ISSUER_NAME = domain.Bilingual("التعاون الوطني", "Entraide Nationale")
STATUS_TYPE = "FursaCertificateStatus"
ACHIEVEMENT_TYPES = {CertificateKind.DIPLOMA: "Diploma", CertificateKind.ATTESTATION: "Certificate"}


class SigningKeyError(ValueError):
    """The configured keys cannot sign: none given, not Ed25519, or the first is public only."""


class IssuerKeys:
    """The issuer's Ed25519 keys: the first signs; all are published."""

    def __init__(self, keys: list[OKPKey]) -> None:
        if not keys:
            raise SigningKeyError("no signing key configured")
        for key in keys:
            if key.as_dict(private=False).get("crv") != "Ed25519":
                raise SigningKeyError("issuer keys must be Ed25519 (OKP) keys")
        if not keys[0].is_private:
            raise SigningKeyError("the first key signs: it needs its private part")
        self._keys = {self.key_id(key): key for key in keys}
        self.current_key_id = self.key_id(keys[0])

    @staticmethod
    def key_id(key: OKPKey) -> str:
        """A key's id: its RFC 7638 thumbprint, unless the JWK names one."""
        return key.kid or key.thumbprint()

    @classmethod
    def from_jwk_set(cls, text: str) -> IssuerKeys:
        """Keys from a JWK Set's JSON (`{"keys": [...]}`)."""
        try:
            entries = json.loads(text)["keys"]
            return cls([OKPKey.import_key(entry) for entry in entries])
        except (ValueError, KeyError, TypeError) as exc:
            raise SigningKeyError(f"unreadable JWK Set: {type(exc).__name__}") from exc

    @classmethod
    def generate(cls) -> IssuerKeys:
        return cls([OKPKey.generate_key("Ed25519", private=True)])

    @classmethod
    def for_settings(cls, settings: CertificationSettings) -> IssuerKeys:
        """The configured keys; in development, a generated key kept in a file under var/."""
        if settings.signing_keys is not None:
            return cls.from_jwk_set(settings.signing_keys.get_secret_value())
        if settings.mode != "development":
            raise SigningKeyError(f"set {settings.env_name('signing_keys')}")
        path = settings.signing_keys_file
        if path.exists():
            return cls.from_jwk_set(path.read_text())
        keys = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(keys.private_jwk_set())
        path.chmod(0o600)
        return keys

    def private_jwk_set(self) -> str:
        """The keys with their private parts, as a JWK Set (to keep the development key)."""
        return json.dumps({"keys": [key.as_dict(private=True) for key in self._keys.values()]})

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set anyone may use to verify the issuer's credentials."""
        return {
            "keys": [
                {**key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
                for kid, key in self._keys.items()
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS (VC-JWT) of ``claims`` with the current key."""
        header = {"alg": ALGORITHM, "typ": "JWT", "kid": self.current_key_id}
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        return jws.serialize_compact(
            header, payload, self._keys[self.current_key_id], algorithms=[ALGORITHM]
        )


@dataclass(frozen=True)
class CredentialFacts:
    """What a certificate's credential states (no personal data)."""

    certificate_id: str
    number: str
    learner_id: str
    kind: CertificateKind
    pathway: Pathway
    issued_at: datetime
    public_base_url: str


def issuer_id(public_base_url: str) -> str:
    """The issuer's profile address (the credential's `issuer.id` and the JWT's `iss`)."""
    return f"{public_base_url.rstrip('/')}/issuer"


def issuer_profile(public_base_url: str) -> dict[str, Any]:
    """The issuer's Open Badges Profile."""
    return {
        "@context": CONTEXTS,
        "id": issuer_id(public_base_url),
        "type": ["Profile"],
        "name": ISSUER_NAME.fr,
        "description": f"{ISSUER_NAME.ar} — {domain.PROGRAMME.ar}",
        "url": public_base_url,
    }


def open_badge_credential(facts: CredentialFacts) -> dict[str, Any]:
    """The Open Badges 3.0 credential of a certificate (VC Data Model 1.1 shape)."""
    base = facts.public_base_url.rstrip("/")
    kind, pathway = domain.KINDS[facts.kind], domain.PATHWAYS[facts.pathway]
    return {
        "@context": CONTEXTS,
        "id": f"urn:uuid:{facts.certificate_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{kind.fr} — {pathway.fr}",
        "issuer": {
            "id": issuer_id(base),
            "type": ["Profile"],
            "name": ISSUER_NAME.fr,
        },
        "issuanceDate": facts.issued_at.isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "id": f"urn:uuid:{facts.learner_id}",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"{base}/achievements/{facts.kind.value}/{facts.pathway.value}",
                "type": ["Achievement"],
                "achievementType": ACHIEVEMENT_TYPES[facts.kind],
                "name": f"{kind.fr} — {pathway.fr}",
                "description": f"{domain.PROGRAMME.fr} / {domain.PROGRAMME.ar}",
                "criteria": {"narrative": f"{pathway.fr} / {pathway.ar}"},
            },
        },
        "credentialStatus": {
            "id": domain.status_url(base, facts.number),
            "type": STATUS_TYPE,
        },
        "evidence": [
            {
                "id": domain.verification_url(base, facts.number),
                "type": ["Evidence"],
                "name": facts.number,
            }
        ],
    }


def sign_credential(keys: IssuerKeys, facts: CredentialFacts) -> str:
    """The VC-JWT of a certificate: the credential in `vc`, with the JWT's registered claims."""
    credential = open_badge_credential(facts)
    issued = int(facts.issued_at.timestamp())
    return keys.sign(
        {
            "iss": credential["issuer"]["id"],
            "jti": credential["id"],
            "sub": credential["credentialSubject"]["id"],
            "nbf": issued,
            "iat": issued,
            "vc": credential,
        }
    )

"""Signed credentials: each certificate as an Open Badges 3.0 credential on the W3C Verifiable
Credentials Data Model 2.0, secured as Open Badges 3.0 specifies for JWTs (its section 8.2,
itself a profile of W3C VC-JOSE-COSE): the JWT's payload is the credential itself, with the
registered claims `iss`, `jti`, `sub` and `nbf` copied from it; the JOSE header names the key
by its DID URL (`kid` = `did:web:…#<key id>`, see `did`).

The JWS algorithm is `Ed25519` (RFC 9864's fully specified name for EdDSA over Ed25519). The
issuer's public keys are published as a JWK Set and as a DID document; every key ever used
stays in both, so a credential signed before a key rotation still verifies. A credential
carries no personal data (the holder is a pseudonymous `urn:uuid:`), so an erasure leaves it
valid and unchanged. Revocation is published as a Bitstring Status List (`status_list`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

from fursa.certification import did, domain, status_list
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import CertificateKind, Pathway

ALGORITHM = "Ed25519"
# How a signed credential is served (W3C VC-JOSE-COSE's media type).
MEDIA_TYPE = "application/vc+jwt"
CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# The 1EdTech JSON Schema every Open Badges 3.0 credential must satisfy.
CREDENTIAL_SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
ISSUER_NAME = domain.Bilingual("التعاون الوطني", "Entraide Nationale")
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

    def sign(self, claims: dict[str, Any], *, public_base_url: str) -> str:
        """A compact JWS of ``claims`` with the current key, named by its DID URL."""
        header = {
            "alg": ALGORITHM,
            "typ": "JWT",
            "kid": did.verification_method_id(public_base_url, self.current_key_id),
        }
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
    # The certificate's bit in the revocation status lists.
    status_index: int


def timestamp(instant: datetime) -> str:
    """An instant as a credential states it: UTC, to the second (the JWT's `nbf` has no
    fractions, and Open Badges wants the two equal)."""
    return instant.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_id(public_base_url: str) -> str:
    """The issuer's profile address (the credential's `issuer.id` and the JWT's `iss`)."""
    return f"{public_base_url.rstrip('/')}/issuer"


def issuer_profile(public_base_url: str) -> dict[str, Any]:
    """The issuer's Open Badges Profile; it names the issuer's DID, whose document names
    this profile back (`alsoKnownAs`)."""
    return {
        "@context": CONTEXTS,
        "id": issuer_id(public_base_url),
        "type": ["Profile"],
        "name": ISSUER_NAME.fr,
        "description": f"{ISSUER_NAME.ar} — {domain.PROGRAMME.ar}",
        "url": public_base_url,
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": did.did_web(public_base_url),
                "identifierType": "identifier",
            }
        ],
    }


def achievement_id(public_base_url: str, kind: CertificateKind, pathway: Pathway) -> str:
    return f"{public_base_url.rstrip('/')}/achievements/{kind.value}/{pathway.value}"


def achievement(public_base_url: str, kind: CertificateKind, pathway: Pathway) -> dict[str, Any]:
    """What a diploma or attestation of a pathway attests (an Open Badges Achievement)."""
    kind_name, pathway_name = domain.KINDS[kind], domain.PATHWAYS[pathway]
    return {
        "id": achievement_id(public_base_url, kind, pathway),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[kind],
        "name": f"{kind_name.fr} — {pathway_name.fr}",
        "description": f"{domain.PROGRAMME.fr} / {domain.PROGRAMME.ar}",
        "criteria": {"narrative": f"{pathway_name.fr} / {pathway_name.ar}"},
    }


def open_badge_credential(facts: CredentialFacts) -> dict[str, Any]:
    """The Open Badges 3.0 credential of a certificate (VC Data Model 2.0)."""
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
        "validFrom": timestamp(facts.issued_at),
        "credentialSubject": {
            "id": f"urn:uuid:{facts.learner_id}",
            "type": ["AchievementSubject"],
            "achievement": achievement(base, facts.kind, facts.pathway),
        },
        "credentialSchema": [CREDENTIAL_SCHEMA],
        "credentialStatus": status_list.status_entry(base, facts.status_index),
        "evidence": [
            {
                "id": domain.verification_url(base, facts.number),
                "type": ["Evidence"],
                "name": facts.number,
            }
        ],
    }


def _secured(keys: IssuerKeys, credential: dict[str, Any], *, public_base_url: str) -> str:
    """A credential as a JWT (Open Badges 3.0, section 8.2): the credential is the payload,
    and the registered claims repeat its issuer, id, subject and start of validity."""
    claims: dict[str, Any] = {
        "iss": credential["issuer"]["id"]
        if isinstance(credential["issuer"], dict)
        else credential["issuer"],
        "jti": credential["id"],
        "nbf": int(datetime.fromisoformat(credential["validFrom"]).timestamp()),
    }
    subject = credential["credentialSubject"].get("id")
    if subject is not None:
        claims["sub"] = subject
    return keys.sign({**credential, **claims}, public_base_url=public_base_url)


def sign_credential(keys: IssuerKeys, facts: CredentialFacts) -> str:
    """The signed Open Badges credential of a certificate (a JWT, `application/vc+jwt`)."""
    return _secured(keys, open_badge_credential(facts), public_base_url=facts.public_base_url)


def sign_status_list(
    keys: IssuerKeys,
    *,
    public_base_url: str,
    list_number: int,
    revoked_bits: list[int],
    valid_from: datetime,
) -> str:
    """A revocation list's signed `BitstringStatusListCredential`, secured like the
    certificates' credentials."""
    credential = status_list.status_list_credential(
        public_base_url=public_base_url,
        issuer=issuer_id(public_base_url),
        list_number=list_number,
        revoked_bits=revoked_bits,
        valid_from=timestamp(valid_from),
    )
    return _secured(keys, credential, public_base_url=public_base_url)

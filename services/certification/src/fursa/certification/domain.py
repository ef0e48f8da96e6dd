"""Certification rules in plain code: who earns what, how certificates are numbered, when an
officer must approve, when a certificate may be revoked or re-issued, and the programme's words
a diploma prints in Arabic and French."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from fursa.shared.contracts import CertificateKind, Pathway, TrainingResult
from fursa.shared.territories import REGIONS as REGION_NAMES


@dataclass(frozen=True)
class Bilingual:
    """One text in the diploma's two languages."""

    ar: str
    fr: str


# The abbreviation that starts the numbers of each region's certificates, by the region's
# official code; its name, printed on diplomas, is the programme's (fursa.shared.territories).
REGION_PREFIXES: dict[str, str] = {
    "01": "TTA",
    "02": "OR",
    "03": "FM",
    "04": "RSK",
    "05": "BMK",
    "06": "CS",
    "07": "MS",
    "08": "DT",
    "09": "SM",
    "10": "GON",
    "11": "LSH",
    "12": "DOD",
}
REGIONS: dict[str, tuple[str, Bilingual]] = {
    code: (REGION_PREFIXES[code], Bilingual(name.ar, name.fr))
    for code, name in REGION_NAMES.items()
}

PROGRAMME = Bilingual(
    "مدرسة الفرصة الثانية – الجيل الجديد", "École de la Deuxième Chance – Nouvelle Génération"
)

KINDS: dict[CertificateKind, Bilingual] = {
    CertificateKind.DIPLOMA: Bilingual("دبلوم التخرج", "Diplôme de fin de formation"),
    CertificateKind.ATTESTATION: Bilingual("شهادة إتمام التكوين", "Attestation de réussite"),
}

PATHWAYS: dict[Pathway, Bilingual] = {
    Pathway.SCHOOL_REINTEGRATION: Bilingual("الإدماج المدرسي", "Réintégration scolaire"),
    Pathway.VOCATIONAL_TRAINING: Bilingual("التكوين المهني", "Formation professionnelle"),
    Pathway.SOCIO_PROFESSIONAL_INSERTION: Bilingual(
        "الإدماج السوسيو-مهني", "Insertion socio-professionnelle"
    ),
}

# The workshops of the programme's centers; a workshop not listed prints as its code.
WORKSHOPS: dict[str, Bilingual] = {
    "tailoring": Bilingual("الخياطة", "Couture"),
    "cooking": Bilingual("الطبخ", "Cuisine"),
    "pastry": Bilingual("الحلويات", "Pâtisserie"),
    "electricity": Bilingual("الكهرباء", "Électricité"),
    "hairdressing": Bilingual("الحلاقة والتجميل", "Coiffure et esthétique"),
    "computing": Bilingual("المعلوميات", "Informatique"),
    "plumbing": Bilingual("الترصيص", "Plomberie"),
    "carpentry": Bilingual("النجارة", "Menuiserie"),
}

SERIAL_DIGITS = 6
# 32 random bytes: the QR code's token, the only way to a certificate holder's name.
TOKEN_BYTES = 32


class CertificateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class IssuancePolicy(StrEnum):
    """How a passed training becomes a certificate, set per pathway."""

    AUTOMATIC = "automatic"  # issued as soon as the completion arrives
    APPROVAL = "approval"  # pending until an Entraide Nationale officer approves it


class CompletionState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    ISSUED = "issued"


class UnknownRegionError(ValueError):
    """A region code that is not one of Morocco's twelve regions: no number can be formed."""


class CertificationRuleError(Exception):
    """An officer's request that the certification rules refuse; ``code`` names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def earns_certificate(result: TrainingResult) -> bool:
    """Only a passed training earns a certificate."""
    return result == TrainingResult.PASSED


def kind_for(pathway: Pathway) -> CertificateKind:
    """Vocational training leads to the graduation diploma; other pathways to an attestation."""
    if pathway == Pathway.VOCATIONAL_TRAINING:
        return CertificateKind.DIPLOMA
    return CertificateKind.ATTESTATION


def default_policy(pathway: Pathway) -> IssuancePolicy:
    """How a pathway is certified unless configured otherwise: Entraide Nationale's graduation
    diploma waits for one of its officers; an attestation of completion is issued at once.
    Automatic issuance of diplomas is an explicit setting, never something one falls into."""
    if kind_for(pathway) == CertificateKind.DIPLOMA:
        return IssuancePolicy.APPROVAL
    return IssuancePolicy.AUTOMATIC


def state_after_completion(policy: IssuancePolicy) -> CompletionState:
    """Where a passed training stands once recorded: issued at once, or awaiting an officer."""
    if policy == IssuancePolicy.APPROVAL:
        return CompletionState.AWAITING_APPROVAL
    return CompletionState.ISSUED


def ensure_revocable(status: CertificateStatus) -> None:
    """Only an active certificate can be revoked (revoking twice is refused, not repeated)."""
    if status != CertificateStatus.ACTIVE:
        raise CertificationRuleError("certificate_already_revoked")


def ensure_reissuable(status: CertificateStatus, *, enrollment_has_active: bool) -> None:
    """A re-issue replaces a revoked certificate, and only while nothing else replaced it."""
    if status != CertificateStatus.REVOKED:
        raise CertificationRuleError("certificate_not_revoked")
    if enrollment_has_active:
        raise CertificationRuleError("certificate_already_replaced")


def region_prefix(region_code: str) -> str:
    """The abbreviation that starts the numbers of a region's certificates (`07` → `MS`)."""
    try:
        return REGION_PREFIXES[region_code]
    except KeyError:
        raise UnknownRegionError(f"unknown region code {region_code!r}") from None


def region_name(region_code: str) -> Bilingual:
    """The region's name in Arabic and French."""
    try:
        return REGIONS[region_code][1]
    except KeyError:
        raise UnknownRegionError(f"unknown region code {region_code!r}") from None


def workshop_name(code: str) -> Bilingual:
    """A workshop's name in Arabic and French (its code when the programme does not list it)."""
    return WORKSHOPS.get(code, Bilingual(code, code))


def certificate_number(*, region_code: str, year: int, serial: int) -> str:
    """The human-readable number `<REGION>-<YEAR>-<serial, 6 digits>`, e.g. `MS-2026-000001`.

    Serials count from 1 per region and calendar year of issue, without gaps.
    """
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{region_prefix(region_code)}-{year:04d}-{serial:0{SERIAL_DIGITS}d}"


def typed_number(text: str) -> str:
    """A certificate number as a person reads or types it: surrounding spaces and letter case
    do not matter (`ms-2026-000001 ` is `MS-2026-000001`)."""
    return text.strip().upper()


def new_verification_token() -> str:
    """An unguessable token for a certificate's QR code (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def verification_url(public_base_url: str, number: str) -> str:
    """The public page where anyone can check a certificate by its number (no name shown)."""
    return f"{public_base_url.rstrip('/')}/verify/{number}"


def holder_verification_url(public_base_url: str, number: str, token: str) -> str:
    """The QR code's target: the verification page that also shows the holder's name."""
    return f"{verification_url(public_base_url, number)}?token={token}"

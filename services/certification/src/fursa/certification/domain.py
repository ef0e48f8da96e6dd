"""Certification rules in plain code: who earns what, and how certificates are numbered."""

from __future__ import annotations

from enum import StrEnum

from fursa.shared.contracts import CertificateKind, Pathway, TrainingResult

# Abbreviations of Morocco's twelve regions (2015 division), by official region code.
REGION_PREFIXES: dict[str, str] = {
    "01": "TTA",  # Tanger-Tétouan-Al Hoceïma
    "02": "OR",  # L'Oriental
    "03": "FM",  # Fès-Meknès
    "04": "RSK",  # Rabat-Salé-Kénitra
    "05": "BMK",  # Béni Mellal-Khénifra
    "06": "CS",  # Casablanca-Settat
    "07": "MS",  # Marrakech-Safi
    "08": "DT",  # Drâa-Tafilalet
    "09": "SM",  # Souss-Massa
    "10": "GON",  # Guelmim-Oued Noun
    "11": "LSH",  # Laâyoune-Sakia El Hamra
    "12": "DOD",  # Dakhla-Oued Ed-Dahab
}

SERIAL_DIGITS = 6


class CertificateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class UnknownRegionError(ValueError):
    """A region code that is not one of Morocco's twelve regions: no number can be formed."""


def earns_certificate(result: TrainingResult) -> bool:
    """Only a passed training earns a certificate."""
    return result == TrainingResult.PASSED


def kind_for(pathway: Pathway) -> CertificateKind:
    """Vocational training leads to the graduation diploma; other pathways to an attestation."""
    if pathway == Pathway.VOCATIONAL_TRAINING:
        return CertificateKind.DIPLOMA
    return CertificateKind.ATTESTATION


def region_prefix(region_code: str) -> str:
    """The abbreviation that starts the numbers of a region's certificates (`07` → `MS`)."""
    try:
        return REGION_PREFIXES[region_code]
    except KeyError:
        raise UnknownRegionError(f"unknown region code {region_code!r}") from None


def certificate_number(*, region_code: str, year: int, serial: int) -> str:
    """The human-readable number `<REGION>-<YEAR>-<serial, 6 digits>`, e.g. `MS-2026-000001`.

    Serials count from 1 per region and calendar year of issue, without gaps.
    """
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{region_prefix(region_code)}-{year:04d}-{serial:0{SERIAL_DIGITS}d}"


def verification_url(public_base_url: str, number: str) -> str:
    """The public page where anyone can check a certificate (the QR code's target)."""
    return f"{public_base_url.rstrip('/')}/verify/{number}"

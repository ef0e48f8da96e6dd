"""Unit tests of the certification rules and settings: no database, no broker."""

from __future__ import annotations

import pytest

from fursa.certification import domain
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import CertificateKind, Pathway, TrainingResult


def test_number_is_region_year_and_six_digit_serial() -> None:
    assert domain.certificate_number(region_code="07", year=2026, serial=1) == "MS-2026-000001"
    assert domain.certificate_number(region_code="04", year=2027, serial=123) == "RSK-2027-000123"


def test_serial_beyond_six_digits_keeps_all_its_digits() -> None:
    assert domain.certificate_number(region_code="06", year=2026, serial=1_234_567) == (
        "CS-2026-1234567"
    )


def test_serials_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        domain.certificate_number(region_code="07", year=2026, serial=0)


@pytest.mark.parametrize(
    ("region_code", "prefix"),
    [
        ("01", "TTA"),
        ("02", "OR"),
        ("03", "FM"),
        ("04", "RSK"),
        ("05", "BMK"),
        ("06", "CS"),
        ("07", "MS"),
        ("08", "DT"),
        ("09", "SM"),
        ("10", "GON"),
        ("11", "LSH"),
        ("12", "DOD"),
    ],
)
def test_each_of_the_twelve_regions_has_its_prefix(region_code: str, prefix: str) -> None:
    assert domain.region_prefix(region_code) == prefix


@pytest.mark.parametrize("region_code", ["13", "7", "00", "071"])
def test_unknown_region_cannot_be_numbered(region_code: str) -> None:
    with pytest.raises(domain.UnknownRegionError):
        domain.certificate_number(region_code=region_code, year=2026, serial=1)


def test_vocational_training_earns_the_graduation_diploma() -> None:
    assert domain.kind_for(Pathway.VOCATIONAL_TRAINING) is CertificateKind.DIPLOMA


@pytest.mark.parametrize(
    "pathway", [Pathway.SCHOOL_REINTEGRATION, Pathway.SOCIO_PROFESSIONAL_INSERTION]
)
def test_other_pathways_earn_an_attestation(pathway: Pathway) -> None:
    assert domain.kind_for(pathway) is CertificateKind.ATTESTATION


def test_only_a_passed_training_earns_a_certificate() -> None:
    assert domain.earns_certificate(TrainingResult.PASSED)
    assert not domain.earns_certificate(TrainingResult.FAILED)


def test_verification_url_joins_the_public_address_and_the_number() -> None:
    expected = "https://fursa.ma/verify/MS-2026-000001"
    assert domain.verification_url("https://fursa.ma", "MS-2026-000001") == expected
    assert domain.verification_url("https://fursa.ma/", "MS-2026-000001") == expected


def test_production_refuses_a_verification_address_that_is_not_https() -> None:
    with pytest.raises(ValueError, match="FURSA_CERTIFICATION_PUBLIC_BASE_URL"):
        CertificationSettings(mode="production")

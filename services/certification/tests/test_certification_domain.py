"""Unit tests of the certification rules and settings: no database, no broker."""

from __future__ import annotations

from datetime import date

import pytest

from fursa.certification import domain
from fursa.certification.diploma import long_date
from fursa.certification.domain import (
    CertificateStatus,
    CertificationRuleError,
    CompletionState,
    IssuancePolicy,
)
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


def test_approval_policy_keeps_a_passed_training_waiting_for_an_officer() -> None:
    assert domain.state_after_completion(IssuancePolicy.APPROVAL) is (
        CompletionState.AWAITING_APPROVAL
    )
    assert domain.state_after_completion(IssuancePolicy.AUTOMATIC) is CompletionState.ISSUED


def test_diplomas_await_an_officer_and_attestations_issue_at_once_by_default() -> None:
    settings = CertificationSettings()
    assert settings.policy_for(Pathway.VOCATIONAL_TRAINING) is IssuancePolicy.APPROVAL
    assert settings.policy_for(Pathway.SCHOOL_REINTEGRATION) is IssuancePolicy.AUTOMATIC
    assert settings.policy_for(Pathway.SOCIO_PROFESSIONAL_INSERTION) is IssuancePolicy.AUTOMATIC


def test_automatic_issuance_of_diplomas_is_an_explicit_setting() -> None:
    settings = CertificationSettings(
        issuance_policy={Pathway.VOCATIONAL_TRAINING: IssuancePolicy.AUTOMATIC}
    )
    assert settings.policy_for(Pathway.VOCATIONAL_TRAINING) is IssuancePolicy.AUTOMATIC
    assert settings.policy_for(Pathway.SCHOOL_REINTEGRATION) is IssuancePolicy.AUTOMATIC


def test_policy_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FURSA_CERTIFICATION_ISSUANCE_POLICY", '{"socio_professional_insertion": "approval"}'
    )
    settings = CertificationSettings()
    assert settings.policy_for(Pathway.SOCIO_PROFESSIONAL_INSERTION) is IssuancePolicy.APPROVAL


def test_only_an_active_certificate_can_be_revoked() -> None:
    domain.ensure_revocable(CertificateStatus.ACTIVE)
    with pytest.raises(CertificationRuleError) as refused:
        domain.ensure_revocable(CertificateStatus.REVOKED)
    assert refused.value.code == "certificate_already_revoked"


@pytest.mark.parametrize(
    ("status", "has_active", "code"),
    [
        (CertificateStatus.ACTIVE, True, "certificate_not_revoked"),
        (CertificateStatus.REVOKED, True, "certificate_already_replaced"),
    ],
)
def test_reissue_needs_a_revoked_certificate_not_yet_replaced(
    status: CertificateStatus, has_active: bool, code: str
) -> None:
    with pytest.raises(CertificationRuleError) as refused:
        domain.ensure_reissuable(status, enrollment_has_active=has_active)
    assert refused.value.code == code
    domain.ensure_reissuable(CertificateStatus.REVOKED, enrollment_has_active=False)


def test_every_region_has_its_name_in_both_languages() -> None:
    assert domain.region_name("07") == domain.Bilingual("مراكش آسفي", "Marrakech-Safi")
    assert all(name.ar and name.fr for _prefix, name in domain.REGIONS.values())
    with pytest.raises(domain.UnknownRegionError):
        domain.region_name("13")


def test_a_workshop_the_programme_does_not_list_prints_as_its_code() -> None:
    assert domain.workshop_name("tailoring") == domain.Bilingual("الخياطة", "Couture")
    assert domain.workshop_name("pottery") == domain.Bilingual("pottery", "pottery")


def test_dates_are_spelled_out_in_moroccan_arabic_and_french() -> None:
    assert long_date(date(2026, 8, 3)) == domain.Bilingual("3 غشت 2026", "3 août 2026")


def test_the_qr_code_leads_to_the_page_with_the_token() -> None:
    token = domain.new_verification_token()
    assert len(token) >= 43
    assert token != domain.new_verification_token()
    assert domain.holder_verification_url("https://fursa.ma/", "MS-2026-000001", token) == (
        f"https://fursa.ma/verify/MS-2026-000001?token={token}"
    )

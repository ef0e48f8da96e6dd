"""Events published by the certification service."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from fursa.shared.contracts.common import Pathway, Uuid
from fursa.shared.contracts.registry import EventData, register


class CertificateKind(StrEnum):
    """A graduation diploma, or an attestation (e.g. of attendance)."""

    DIPLOMA = "diploma"
    ATTESTATION = "attestation"


@register("fursa.certification.certificate-issued.v1", producer="certification", stable=True)
class CertificateIssued(EventData):
    """A certificate was issued; a re-issue names the certificate it `replaces`."""

    certificate_id: Uuid
    certificate_number: Annotated[
        str,
        Field(
            pattern=r"^[A-Z]{2,3}-[0-9]{4}-[0-9]{6,}$",
            description="Region, year of issue, number: MS-2025-000123.",
        ),
    ]
    enrollment_id: Uuid
    learner_id: Uuid
    kind: CertificateKind
    pathway: Pathway
    issued_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    replaces: Annotated[Uuid | None, Field(description="certificate_id re-issued by this.")] = None
    verification_url: Annotated[
        str,
        Field(
            max_length=2048,
            pattern=r"^https?://\S+$",
            description="Public verification page (the QR code's target).",
        ),
    ]


class RevocationReason(StrEnum):
    """Why a certificate was revoked (a code, so the partner feed can carry it)."""

    ISSUED_IN_ERROR = "issued_in_error"
    DATA_CORRECTION = "data_correction"
    FRAUD = "fraud"
    OTHER = "other"


@register("fursa.certification.certificate-revoked.v1", producer="certification", stable=True)
class CertificateRevoked(EventData):
    """A certificate was revoked by an Entraide Nationale officer; verification shows it."""

    certificate_id: Uuid
    certificate_number: Annotated[str, Field(pattern=r"^[A-Z]{2,3}-[0-9]{4}-[0-9]{6,}$")]
    enrollment_id: Uuid
    learner_id: Uuid
    reason: RevocationReason
    revoked_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]

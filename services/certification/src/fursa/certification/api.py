"""HTTP routes of the certification service: thin translations to the service layer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from fursa.certification import service
from fursa.certification.domain import CertificateStatus
from fursa.certification.models import Certificate
from fursa.shared.contracts import CertificateKind, Pathway
from fursa.shared.db import Database
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem


def _database(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


DatabaseDep = Annotated[Database, Depends(_database)]


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    enrollment_id: str
    learner_id: str
    kind: CertificateKind
    pathway: Pathway
    region_code: str
    issued_on: date
    status: CertificateStatus
    replaces: str | None


class CertificateSummaryPublic(BaseModel):
    issued: int
    active: int


def _public(certificate: Certificate) -> CertificatePublic:
    return CertificatePublic.model_validate(certificate)


router = APIRouter(prefix="/certificates", tags=["certificates"])


@router.get("")
async def list_certificates(
    db: DatabaseDep, enrollment_id: Annotated[str, Query(max_length=36)]
) -> list[CertificatePublic]:
    """The certificates of one enrollment, active and revoked."""
    certificates = await service.certificates_of_enrollment(db, enrollment_id=enrollment_id)
    return [_public(certificate) for certificate in certificates]


# Declared before `/{number}`, which would otherwise take "summary" for a number.
@router.get("/summary")
async def summary(db: DatabaseDep) -> CertificateSummaryPublic:
    """Certificates issued so far, and how many are active (not revoked)."""
    counts = await service.certificate_summary(db)
    return CertificateSummaryPublic(issued=counts.issued, active=counts.active)


@router.get(
    "/{number}",
    responses={404: {"description": "No such certificate", "content": {PROBLEM_JSON: {}}}},
)
async def get_certificate(db: DatabaseDep, number: str) -> CertificatePublic:
    """One certificate by its human-readable number, e.g. `MS-2026-000001`."""
    certificate = await service.find_certificate(db, number=number)
    if certificate is None:
        raise Problem(404, "not_found", detail=f"no certificate has the number {number}")
    return _public(certificate)

"""HTTP routes of the certification service: thin translations to the service layer.

Every route needs a bearer token of the programme's staff (partners are refused with 403) and
shows only the certificates issued within the caller's association, center or territory: any
other certificate is answered exactly as if it did not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from fursa.certification import service
from fursa.certification.domain import CertificateStatus
from fursa.certification.models import Certificate
from fursa.shared.auth import PROGRAMME_STAFF, Principal, allow
from fursa.shared.contracts import CertificateKind, Pathway
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem
from fursa.shared.runtime import DatabaseDep

# Who may use these internal routes at all; each one then scopes what it shows.
_staff = allow(*PROGRAMME_STAFF)
Viewer = Annotated[Principal, Depends(_staff)]


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    enrollment_id: str
    learner_id: str
    kind: CertificateKind
    pathway: Pathway
    association_id: str
    center_id: str
    region_code: str
    province_code: str
    issued_on: date
    status: CertificateStatus
    replaces: str | None


class CertificateSummaryPublic(BaseModel):
    issued: int
    active: int


def _public(certificate: Certificate) -> CertificatePublic:
    return CertificatePublic.model_validate(certificate)


router = APIRouter(
    prefix="/certificates",
    tags=["certificates"],
    # On the router too, so that a route added later cannot forget it (resolved once).
    dependencies=[Depends(_staff)],
    responses={
        401: {"description": "No valid bearer token", "content": {PROBLEM_JSON: {}}},
        403: {"description": "A role these routes do not serve", "content": {PROBLEM_JSON: {}}},
    },
)


@router.get("")
async def list_certificates(
    db: DatabaseDep, viewer: Viewer, enrollment_id: Annotated[str, Query(max_length=36)]
) -> list[CertificatePublic]:
    """The certificates of one enrollment, active and revoked, that the caller may see
    (none for an enrollment outside the caller's scope)."""
    certificates = await service.certificates_of_enrollment(
        db, enrollment_id=enrollment_id, viewer=viewer
    )
    return [_public(certificate) for certificate in certificates]


# Declared before `/{number}`, which would otherwise take "summary" for a number.
@router.get("/summary")
async def summary(db: DatabaseDep, viewer: Viewer) -> CertificateSummaryPublic:
    """Certificates issued so far within the caller's scope, and how many are active (not
    revoked)."""
    counts = await service.certificate_summary(db, viewer=viewer)
    return CertificateSummaryPublic(issued=counts.issued, active=counts.active)


@router.get(
    "/{number}",
    responses={404: {"description": "No such certificate", "content": {PROBLEM_JSON: {}}}},
)
async def get_certificate(db: DatabaseDep, viewer: Viewer, number: str) -> CertificatePublic:
    """One certificate by its human-readable number, e.g. `MS-2026-000001`.

    A certificate outside the caller's scope is answered with the same 404 as a number that
    was never given, so numbers cannot be probed.
    """
    certificate = await service.find_certificate(db, number=number)
    if certificate is None:
        raise Problem.not_found()
    viewer.ensure_sees(**certificate.placement())
    return _public(certificate)

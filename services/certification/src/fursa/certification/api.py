"""HTTP routes of the certification service for the programme's staff: thin translations to
the service layer.

Every route needs a bearer token of the programme's staff (partners are refused with 403) and
shows only the certificates issued within the caller's association, center or territory: any
other certificate is answered exactly as if it did not exist. Approving, revoking and
re-issuing are Entraide Nationale officers' acts (administrators may stand in).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fursa.certification import diplomas, service, signatories
from fursa.certification.domain import Bilingual, CertificateStatus, CertificationRuleError
from fursa.certification.models import Certificate, Signatory
from fursa.certification.service import Issuer, NotFoundError
from fursa.certification.signatories import RegionNotFound
from fursa.shared.auth import Principal, Role, Staff, allow, programme_staff
from fursa.shared.contracts import CertificateKind, Pathway, RevocationReason
from fursa.shared.contracts.common import UUID_PATTERN, SchoolYear
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem, register_messages
from fursa.shared.runtime import DatabaseDep

NUMBER_PATTERN = r"^[A-Z]{2,3}-[0-9]{4}-[0-9]{6,}$"
PDF = "application/pdf"

register_messages(
    {
        "certificate_already_revoked": {
            "fr": "Ce certificat est déjà révoqué.",
            "ar": "هذه الشهادة ملغاة سلفًا.",
        },
        "certificate_not_revoked": {
            "fr": "Seul un certificat révoqué peut être réémis.",
            "ar": "لا يمكن إعادة إصدار إلا شهادة ملغاة.",
        },
        "certificate_already_replaced": {
            "fr": "Un certificat actif remplace déjà celui-ci.",
            "ar": "توجد شهادة سارية تعوض هذه الشهادة.",
        },
        "certificate_revoked": {
            "fr": "Un certificat révoqué ne s'imprime pas.",
            "ar": "لا تطبع شهادة ملغاة.",
        },
        "approval_held": {
            "fr": "Ce diplôme est suspendu : levez la suspension avant de l'approuver.",
            "ar": "هذه الشهادة معلقة: ارفعوا التعليق قبل المصادقة عليها.",
        },
        "approval_already_held": {
            "fr": "Ce diplôme est déjà suspendu.",
            "ar": "هذه الشهادة معلقة سلفًا.",
        },
        "approval_not_held": {
            "fr": "Ce diplôme n'est pas suspendu.",
            "ar": "هذه الشهادة غير معلقة.",
        },
        "personal_data_erased": {
            "fr": "Les données personnelles du titulaire ont été effacées.",
            "ar": "تم محو المعطيات الشخصية لصاحب الشهادة.",
        },
    }
)

# Who may use these internal routes at all: the programme's staff (Staff) to read, these
# officers to decide; each route then scopes what it shows.
Officer = Annotated[Principal, Depends(allow(Role.ENTRAIDE_OFFICER, Role.ADMIN))]

CertificateNumber = Annotated[
    str, Path(pattern=NUMBER_PATTERN, description="e.g. `MS-2026-000001`")
]
EnrollmentId = Annotated[str, Path(pattern=UUID_PATTERN)]
CenterId = Annotated[str, Path(pattern=UUID_PATTERN)]


async def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


IssuerDep = Annotated[Issuer, Depends(_issuer)]


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
    revoked_on: date | None
    revocation_reason: RevocationReason | None


class CertificateSummaryPublic(BaseModel):
    issued: int
    active: int


class RevocationRequest(BaseModel):
    """Why the certificate is revoked: a code, never free text (it could carry personal data)."""

    model_config = ConfigDict(extra="forbid")

    reason: RevocationReason


class CohortApproval(BaseModel):
    """A center's cohort to approve at once (one school year, or every pending one)."""

    model_config = ConfigDict(extra="forbid")

    center_id: Annotated[str, Field(pattern=UUID_PATTERN)]
    school_year: SchoolYear | None = None


class PendingApprovalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enrollment_id: str
    learner_id: str
    center_id: str
    school_year: str
    pathway: Pathway
    completed_on: date
    held: bool
    held_on: date | None
    held_by: str | None
    hold_reason: str | None


class HoldRequest(BaseModel):
    """Why an officer holds a learner's diploma (e.g. a name to check with the center)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=3, max_length=500),
        Field(examples=["Nom à vérifier avec le centre (acte de naissance)"]),
    ]


def _public(certificate: Certificate) -> CertificatePublic:
    return CertificatePublic.model_validate(certificate)


@contextmanager
def _as_problems() -> Iterator[None]:
    """The service layer's refusals as problem+json (404 outside scope, 409 for a rule)."""
    try:
        yield
    except NotFoundError as exc:
        raise Problem.not_found() from exc
    except CertificationRuleError as exc:
        raise Problem.rule(exc.code, status=409) from exc


_errors = {
    401: {"description": "No valid bearer token", "content": {PROBLEM_JSON: {}}},
    403: {"description": "A role these routes do not serve", "content": {PROBLEM_JSON: {}}},
    404: {"description": "Nothing of that id within the caller's scope"},
    422: {"description": "A field at fault", "content": {PROBLEM_JSON: {}}},
}

router = APIRouter(
    prefix="/certificates",
    tags=["certificates"],
    # On the router too, so that a route added later cannot forget it (resolved once).
    dependencies=[Depends(programme_staff)],
    responses=_errors,  # type: ignore[arg-type]
)


@router.get("")
async def list_certificates(
    db: DatabaseDep, viewer: Staff, enrollment_id: Annotated[str, Query(pattern=UUID_PATTERN)]
) -> list[CertificatePublic]:
    """The certificates of one enrollment, active and revoked, that the caller may see
    (none for an enrollment outside the caller's scope)."""
    certificates = await service.certificates_of_enrollment(
        db, enrollment_id=enrollment_id, viewer=viewer
    )
    return [_public(certificate) for certificate in certificates]


# Declared before `/{number}`, which would otherwise take "summary" for a number.
@router.get("/summary")
async def summary(
    db: DatabaseDep, viewer: Staff, school_year: Annotated[SchoolYear | None, Query()] = None
) -> CertificateSummaryPublic:
    """Certificates issued so far within the caller's scope, and how many are active (not
    revoked); with ``school_year``, those of that year's cohort (the school year their holders
    were enrolled for)."""
    counts = await service.certificate_summary(db, viewer=viewer, school_year=school_year)
    return CertificateSummaryPublic(issued=counts.issued, active=counts.active)


@router.get("/{number}")
async def get_certificate(
    db: DatabaseDep, viewer: Staff, number: CertificateNumber
) -> CertificatePublic:
    """One certificate by its human-readable number, e.g. `MS-2026-000001`.

    A certificate outside the caller's scope is answered with the same 404 as a number that
    was never given, so numbers cannot be probed.
    """
    certificate = await service.find_certificate(db, number=number)
    if certificate is None:
        raise Problem.not_found()
    viewer.ensure_sees(**certificate.placement())
    return _public(certificate)


@router.get("/{number}/diploma.pdf", response_class=Response)
async def diploma(
    db: DatabaseDep, viewer: Staff, issuer: IssuerDep, number: CertificateNumber
) -> Response:
    """The bilingual diploma to print (rendered on first demand, then cached)."""
    with _as_problems():
        pdf = await diplomas.diploma_pdf(
            db, number=number, viewer=viewer, public_base_url=issuer.public_base_url
        )
    return Response(
        pdf,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@router.post("/{number}/revocation")
async def revoke(
    request: Request, officer: Officer, number: CertificateNumber, body: RevocationRequest
) -> CertificatePublic:
    """Revoke a certificate with a reason code; the public page shows it at once."""
    with _as_problems():
        certificate = await service.revoke(
            request.app.state.runtime.uow, number=number, reason=body.reason, officer=officer
        )
    return _public(certificate)


@router.post("/{number}/reissue", status_code=201)
async def reissue(
    request: Request, officer: Officer, issuer: IssuerDep, number: CertificateNumber
) -> CertificatePublic:
    """Issue a new certificate, with a new number, in place of a revoked one."""
    with _as_problems():
        certificate = await service.reissue(
            request.app.state.runtime.uow, number=number, officer=officer, issuer=issuer
        )
    return _public(certificate)


approvals = APIRouter(prefix="/approvals", tags=["approvals"], responses=_errors)  # type: ignore[arg-type]


@approvals.get("")
async def pending_approvals(
    db: DatabaseDep,
    officer: Officer,
    center_id: Annotated[str | None, Query(pattern=UUID_PATTERN)] = None,
) -> list[PendingApprovalPublic]:
    """Passed trainings whose certificate awaits approval, within the officer's region."""
    pending = await service.pending_approvals(db, viewer=officer, center_id=center_id)
    return [PendingApprovalPublic.model_validate(row) for row in pending]


@approvals.post("/cohort")
async def approve_cohort(
    request: Request, officer: Officer, issuer: IssuerDep, body: CohortApproval
) -> list[CertificatePublic]:
    """Approve a center's whole cohort at once: every pending certificate is issued, except
    the held ones."""
    certificates = await service.approve_cohort(
        request.app.state.runtime.uow,
        center_id=body.center_id,
        school_year=body.school_year,
        officer=officer,
        issuer=issuer,
    )
    return [_public(certificate) for certificate in certificates]


@approvals.get("/{enrollment_id}/preview.pdf", response_class=Response)
async def preview(
    db: DatabaseDep, officer: Officer, issuer: IssuerDep, enrollment_id: EnrollmentId
) -> Response:
    """The diploma as it would be issued today, marked as a preview, without number or QR
    code: what the officer approves."""
    with _as_problems():
        pdf = await diplomas.preview_pdf(
            db, enrollment_id=enrollment_id, viewer=officer, issuer=issuer
        )
    return Response(
        pdf,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="preview-{enrollment_id}.pdf"'},
    )


@approvals.post("/{enrollment_id}/hold")
async def hold(
    request: Request, officer: Officer, enrollment_id: EnrollmentId, body: HoldRequest
) -> PendingApprovalPublic:
    """Hold one learner's pending certificate, with a reason: it stays in the queue, and is
    approved neither with its cohort nor alone until released."""
    with _as_problems():
        held = await service.hold(
            request.app.state.runtime.uow,
            enrollment_id=enrollment_id,
            reason=body.reason,
            officer=officer,
        )
    return PendingApprovalPublic.model_validate(held)


@approvals.delete("/{enrollment_id}/hold")
async def release(
    request: Request, officer: Officer, enrollment_id: EnrollmentId
) -> PendingApprovalPublic:
    """Release a held certificate: it awaits approval again."""
    with _as_problems():
        released = await service.release(
            request.app.state.runtime.uow, enrollment_id=enrollment_id, officer=officer
        )
    return PendingApprovalPublic.model_validate(released)


@approvals.post("/{enrollment_id}", status_code=201)
async def approve(
    request: Request, officer: Officer, issuer: IssuerDep, enrollment_id: EnrollmentId
) -> CertificatePublic:
    """Approve one learner's pending certificate, which is issued at once (a held one is
    refused with 409 until released)."""
    with _as_problems():
        certificate = await service.approve(
            request.app.state.runtime.uow,
            enrollment_id=enrollment_id,
            officer=officer,
            issuer=issuer,
        )
    return _public(certificate)


cohorts = APIRouter(prefix="/cohorts", tags=["certificates"], responses=_errors)  # type: ignore[arg-type]


@cohorts.get("/{center_id}/diplomas.pdf", response_class=Response)
async def cohort_diplomas(
    db: DatabaseDep,
    viewer: Staff,
    issuer: IssuerDep,
    center_id: CenterId,
    school_year: Annotated[str | None, Query(pattern=r"^[0-9]{4}/[0-9]{4}$")] = None,
) -> Response:
    """A center's active diplomas as one printable PDF (a page each), e.g. for a ceremony;
    a last page lists the cohort's certificates left out (revoked, or erased) and why."""
    with _as_problems():
        pdf = await diplomas.cohort_pdf(
            db,
            center_id=center_id,
            school_year=school_year,
            viewer=viewer,
            public_base_url=issuer.public_base_url,
        )
    return Response(pdf, media_type=PDF)


# Holding an Arabic letter catches the French text typed into the Arabic field.
ArabicText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"[\u0621-\u064a]")]
FrenchText = Annotated[str, Field(min_length=1, max_length=200)]
RegionCode = Annotated[str, Path(pattern=r"^(0[1-9]|1[0-2])$", description="e.g. `07`")]


class SignatoryIn(BaseModel):
    """Who signs a region's diplomas, as printed: the name, and the title without the region
    (the diploma prints the region under it)."""

    model_config = ConfigDict(extra="forbid")

    name_ar: Annotated[ArabicText, Field(examples=["محمد العلوي"])]
    name_fr: Annotated[FrenchText, Field(examples=["Mohamed Alaoui"])]
    title_ar: Annotated[ArabicText, Field(examples=["المنسق الجهوي للتعاون الوطني"])]
    title_fr: Annotated[
        FrenchText, Field(examples=["Coordinateur régional de l'Entraide Nationale"])
    ]


class SignatoryPublic(SignatoryIn):
    model_config = ConfigDict(from_attributes=True)

    region_code: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, signatory: Signatory) -> SignatoryPublic:
        return cls.model_validate(signatory)


signatory_routes = APIRouter(prefix="/signatories", tags=["signatories"], responses=_errors)  # type: ignore[arg-type]


@signatory_routes.get("")
async def list_signatories(db: DatabaseDep, officer: Officer) -> list[SignatoryPublic]:
    """Who signs the diplomas of the regions the officer may see."""
    return [SignatoryPublic.of(s) for s in await signatories.signatories(db, viewer=officer)]


@signatory_routes.put("/{region_code}")
async def set_signatory(
    request: Request, officer: Officer, region_code: RegionCode, body: SignatoryIn
) -> SignatoryPublic:
    """Set who signs the region's diplomas: printed on every certificate issued from now on
    (those already issued keep theirs). An officer sets their own region's."""
    try:
        signatory = await signatories.set_signatory(
            request.app.state.runtime.uow,
            region_code=region_code,
            name=Bilingual(body.name_ar, body.name_fr),
            title=Bilingual(body.title_ar, body.title_fr),
            by=officer,
        )
    except RegionNotFound:
        raise Problem.not_found() from None
    return SignatoryPublic.of(signatory)

"""The enrollment HTTP API: request and response shapes, and thin routes over the service.

Every route needs a bearer token and answers within the caller's scope: a center or an
enrollment outside it answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from fursa.enrollment.domain import EnrollmentStatus
from fursa.enrollment.models import Center, Enrollment
from fursa.enrollment.service import CenterNotFound, EnrollmentNotFound, EnrollmentService
from fursa.shared import problems
from fursa.shared.auth import CurrentPrincipal, Principal, Role, allow
from fursa.shared.contracts import Consent, Guardian, LearnerPII, Pathway, Sex
from fursa.shared.contracts.common import SchoolYear, Uuid
from fursa.shared.contracts.enrollment import ArabicName, LatinName
from fursa.shared.problems import Problem

# The enrollment service's rules, by code, in the programme's two languages.
problems.register_messages(
    {
        "unknown_center": {
            "fr": "Centre inconnu : {center_id}.",
            "ar": "مركز غير معروف: {center_id}.",
        },
    }
)

# Who may enroll a learner: the association that runs the center, or an administrator.
Enroller = Annotated[Principal, Depends(allow(Role.ASSOCIATION_STAFF, Role.ADMIN))]

MassarCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][0-9]{9}$",
        description="The learner's Massar code (a letter and nine digits), if they have one.",
    ),
]

Id = Annotated[str, Path(max_length=64)]


class LearnerIn(BaseModel):
    """The learner's identity; the field rules are those of the event contract."""

    model_config = ConfigDict(extra="forbid")

    first_name_ar: ArabicName
    last_name_ar: ArabicName
    first_name_latin: LatinName
    last_name_latin: LatinName
    birth_date: date
    sex: Sex
    massar_code: MassarCode | None = None


class GuardianIn(Guardian):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(Consent):
    model_config = ConfigDict(extra="forbid")


class EnrollmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner: LearnerIn
    guardian: GuardianIn
    consent: ConsentIn
    center_id: Uuid
    pathway: Pathway
    school_year: SchoolYear

    def pii(self) -> LearnerPII:
        """The learner's personal data as the learner-enrolled event carries it."""
        return LearnerPII.model_validate(
            {
                **self.learner.model_dump(exclude={"massar_code"}),
                "guardian": self.guardian.model_dump(),
                "consent": self.consent.model_dump(),
            }
        )


class EnrollmentPublic(BaseModel):
    """An enrollment, without the learner's or the guardian's personal data."""

    enrollment_id: str
    learner_id: str
    association_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: EnrollmentStatus
    enrolled_on: date
    completed_on: date | None

    @classmethod
    def of(cls, enrollment: Enrollment) -> EnrollmentPublic:
        return cls(
            enrollment_id=enrollment.id,
            learner_id=enrollment.learner_id,
            association_id=enrollment.association_id,
            center_id=enrollment.center_id,
            pathway=enrollment.pathway,
            school_year=enrollment.school_year,
            status=enrollment.status,
            enrolled_on=enrollment.enrolled_on,
            completed_on=enrollment.completed_on,
        )


class EnrollmentSummary(BaseModel):
    enrolled: int
    completed: int
    total: int


class CenterPublic(BaseModel):
    id: str
    name: str
    commune: str
    province_code: str
    region_code: str
    association_id: str

    @classmethod
    def of(cls, center: Center) -> CenterPublic:
        return cls.model_validate(center, from_attributes=True)


def _service(request: Request) -> EnrollmentService:
    service: EnrollmentService = request.app.state.enrollments
    return service


Service = Annotated[EnrollmentService, Depends(_service)]

router = APIRouter(tags=["enrollment"])


@router.get("/centers")
async def list_centers(principal: CurrentPrincipal, service: Service) -> list[CenterPublic]:
    """The centers the caller may see."""
    return [CenterPublic.of(center) for center in await service.centers(scope=principal)]


@router.post("/enrollments", status_code=status.HTTP_201_CREATED)
async def enroll(
    body: EnrollmentRequest, principal: Enroller, service: Service, response: Response
) -> EnrollmentPublic:
    """Enroll a learner in a center the caller may see (404 ``unknown_center`` otherwise)."""
    try:
        enrollment = await service.enroll(
            scope=principal,
            learner=body.pii(),
            massar_code=body.learner.massar_code,
            center_id=body.center_id,
            pathway=body.pathway,
            school_year=body.school_year,
        )
    except CenterNotFound:
        raise Problem.rule("unknown_center", status=404, center_id=body.center_id) from None
    response.headers["Location"] = f"/enrollments/{enrollment.id}"
    return EnrollmentPublic.of(enrollment)


# Declared before /enrollments/{enrollment_id}, which would otherwise match "summary".
@router.get("/enrollments/summary")
async def enrollment_summary(principal: CurrentPrincipal, service: Service) -> EnrollmentSummary:
    """How many of the enrollments the caller may see are active, and how many completed."""
    summary = await service.summary(scope=principal)
    return EnrollmentSummary(
        enrolled=summary.enrolled, completed=summary.completed, total=summary.total
    )


@router.get("/enrollments/{enrollment_id}")
async def get_enrollment(
    enrollment_id: Id, principal: CurrentPrincipal, service: Service
) -> EnrollmentPublic:
    """One enrollment the caller may see (404 otherwise)."""
    try:
        return EnrollmentPublic.of(await service.get(enrollment_id, scope=principal))
    except EnrollmentNotFound:
        raise Problem.not_found() from None

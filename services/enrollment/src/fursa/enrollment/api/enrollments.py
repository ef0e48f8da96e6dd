"""Enrolling learners and following their enrollments: waiting list, transfers, withdrawal,
and where each learner went on leaving."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from fursa.enrollment.api.common import (
    ConsentIn,
    Enrollments,
    GuardianIn,
    Id,
    LearnerContactIn,
    LearnerIn,
    Writer,
    applicant_of,
    refused,
)
from fursa.enrollment.domain import EnrollmentStatus, Refused
from fursa.enrollment.exits import OutcomeCorrection, record_exit_outcome
from fursa.enrollment.models import Enrollment, Transfer
from fursa.enrollment.service import (
    CenterNotFound,
    EnrollmentNotFound,
    EnrollmentView,
    Placement,
)
from fursa.shared.auth import Staff
from fursa.shared.contracts import ExitOutcome, Pathway, WithdrawalReason
from fursa.shared.contracts.common import SchoolYear, Uuid
from fursa.shared.db import INT64_MAX
from fursa.shared.problems import Problem

router = APIRouter(tags=["enrollments"])


class EnrollmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner: LearnerIn
    guardian: GuardianIn | None = None
    contact: LearnerContactIn | None = None
    consent: ConsentIn
    center_id: Uuid
    pathway: Pathway
    school_year: SchoolYear
    referral_id: Uuid | None = None


class TransferPublic(BaseModel):
    from_center_id: str
    to_center_id: str
    transferred_on: date

    @classmethod
    def of(cls, transfer: Transfer) -> TransferPublic:
        return cls.model_validate(transfer, from_attributes=True)


class PossibleDuplicatePublic(BaseModel):
    """An earlier learner this one may be: a warning, queued for staff to review."""

    learner_id: str
    score: float


class EnrollmentPublic(BaseModel):
    """An enrollment, without the learner's or the guardian's personal data."""

    enrollment_id: str
    learner_id: str
    association_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: EnrollmentStatus
    waitlist_position: int | None = None
    waitlisted_on: date | None
    enrolled_on: date | None
    completed_on: date | None
    withdrawn_on: date | None
    withdrawal_reason: WithdrawalReason | None
    exit_outcome: ExitOutcome | None = None
    referral_id: str | None
    transfers: list[TransferPublic] = []
    possible_duplicates: list[PossibleDuplicatePublic] = []

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
            waitlisted_on=enrollment.waitlisted_on,
            enrolled_on=enrollment.enrolled_on,
            completed_on=enrollment.completed_on,
            withdrawn_on=enrollment.withdrawn_on,
            withdrawal_reason=enrollment.withdrawal_reason,
            exit_outcome=enrollment.exit_outcome,
            referral_id=enrollment.referral_id,
        )

    @classmethod
    def of_view(cls, view: EnrollmentView) -> EnrollmentPublic:
        public = cls.of(view.enrollment)
        public.waitlist_position = view.position
        public.transfers = [TransferPublic.of(transfer) for transfer in view.transfers]
        public.possible_duplicates = [
            PossibleDuplicatePublic(learner_id=found.learner_id, score=found.score)
            for found in view.possible_duplicates
        ]
        return public


class EnrollmentSummary(BaseModel):
    waitlisted: int
    enrolled: int
    withdrawn: int
    completed: int
    total: int


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_center_id: Uuid


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: WithdrawalReason
    exit_outcome: Annotated[
        ExitOutcome | None,
        Field(
            description="Where the learner went, when known (`returned_to_school` and "
            "`vocational_training` imply it; another outcome contradicts them)."
        ),
    ] = None


class ExitOutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exit_outcome: ExitOutcome
    reason: Annotated[
        OutcomeCorrection | None,
        Field(description="Why an outcome already recorded is replaced (required then)."),
    ] = None


@router.post("/enrollments", status_code=status.HTTP_201_CREATED)
async def enroll(
    body: EnrollmentRequest, principal: Writer, service: Enrollments, response: Response
) -> EnrollmentPublic:
    """Enroll a learner in a center the caller may see (404 ``unknown_center`` otherwise).

    A full pathway puts the learner on its waiting list (status ``waitlisted``, with the
    position). A refusal names its rule: eligibility (``age_below_minimum``,
    ``must_be_out_of_school``…), ``duplicate_enrollment``, ``unknown_school_year``…
    """
    try:
        view = await service.enroll(
            scope=principal,
            applicant=applicant_of(body.learner, body.guardian, body.consent, body.contact),
            placement=Placement(
                center_id=body.center_id,
                pathway=body.pathway,
                school_year=body.school_year,
                referral_id=body.referral_id,
            ),
        )
    except CenterNotFound:
        raise Problem.rule("unknown_center", status=404, center_id=body.center_id) from None
    except Refused as exc:
        raise refused(exc) from None
    response.headers["Location"] = f"/enrollments/{view.enrollment.id}"
    return EnrollmentPublic.of_view(view)


@router.get("/enrollments")
async def list_enrollments(
    principal: Staff,
    service: Enrollments,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
    learner_id: Annotated[str | None, Query(max_length=64)] = None,
    status: EnrollmentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> list[EnrollmentPublic]:
    """The enrollments the caller may see, oldest first."""
    found = await service.list(
        scope=principal,
        center_id=center_id,
        learner_id=learner_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [EnrollmentPublic.of(enrollment) for enrollment in found]


# Declared before /enrollments/{enrollment_id}, which would otherwise match "summary".
@router.get("/enrollments/summary")
async def enrollment_summary(principal: Staff, service: Enrollments) -> EnrollmentSummary:
    """How many of the enrollments the caller may see are in each state."""
    summary = await service.summary(scope=principal)
    return EnrollmentSummary(
        waitlisted=summary.waitlisted,
        enrolled=summary.enrolled,
        withdrawn=summary.withdrawn,
        completed=summary.completed,
        total=summary.total,
    )


@router.get("/enrollments/{enrollment_id}")
async def get_enrollment(
    enrollment_id: Id, principal: Staff, service: Enrollments
) -> EnrollmentPublic:
    """One enrollment the caller may see, with its transfers (404 otherwise)."""
    try:
        return EnrollmentPublic.of_view(await service.get(enrollment_id, scope=principal))
    except EnrollmentNotFound:
        raise Problem.not_found() from None


@router.post("/enrollments/{enrollment_id}/transfer")
async def transfer(
    enrollment_id: Id, body: TransferRequest, principal: Writer, service: Enrollments
) -> EnrollmentPublic:
    """Move an enrollment to another center (history kept); publishes learner-transferred.

    The place it leaves goes to the next learner on that center's waiting list.
    """
    try:
        view = await service.transfer(
            enrollment_id, to_center_id=body.to_center_id, scope=principal
        )
    except EnrollmentNotFound:
        raise Problem.not_found() from None
    except CenterNotFound:
        raise Problem.rule("unknown_center", status=404, center_id=body.to_center_id) from None
    except Refused as exc:
        raise refused(exc) from None
    return EnrollmentPublic.of_view(view)


@router.post("/enrollments/{enrollment_id}/withdrawal")
async def withdraw(
    enrollment_id: Id, body: WithdrawalRequest, principal: Writer, service: Enrollments
) -> EnrollmentPublic:
    """The learner left (or leaves the waiting list): publishes learner-withdrawn, with
    where the learner went when known (``exit_outcome``).

    A freed place goes to the next learner on the waiting list.
    """
    try:
        view = await service.withdraw(
            enrollment_id, reason=body.reason, exit_outcome=body.exit_outcome, scope=principal
        )
    except EnrollmentNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return EnrollmentPublic.of_view(view)


@router.put("/enrollments/{enrollment_id}/exit-outcome")
async def put_exit_outcome(
    enrollment_id: Id, body: ExitOutcomeRequest, principal: Writer, service: Enrollments
) -> EnrollmentPublic:
    """Where the learner of a closed enrollment (completed or withdrawn) went: recorded, or
    corrected with a ``reason``; publishes exit-outcome-recorded and is kept in the audit
    trail. 409 ``enrollment_still_open`` while the learner has not left."""
    try:
        await record_exit_outcome(
            service.uow,
            enrollment_id,
            outcome=body.exit_outcome,
            correction=body.reason,
            scope=principal,
        )
        view = await service.get(enrollment_id, scope=principal)
    except EnrollmentNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return EnrollmentPublic.of_view(view)

"""Referrals over HTTP: the association's staff receive, accept and close them and record
what the referring partner may be told; the partner's system lists its own referrals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from fursa.enrollment.api.common import Enrollments, Id, Writer, refused
from fursa.enrollment.domain import Refused
from fursa.enrollment.models import Referral
from fursa.enrollment.referral_desk import NotFound, PartnerReferral, ReferralDesk
from fursa.enrollment.referrals import ConsentGiver
from fursa.shared import problems
from fursa.shared.auth import Principal, Role, Staff, allow
from fursa.shared.contracts import (
    Pathway,
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
)
from fursa.shared.contracts.enrollment import PartnerReference
from fursa.shared.problems import Problem

problems.register_messages(
    {
        "referral_status_refused": {
            "fr": "L'orientation est « {current} » : elle ne peut pas passer à « {to} ».",
            "ar": "حالة الإحالة «{current}»: لا يمكن أن تنتقل إلى «{to}».",
        },
        "referral_consent_missing": {
            "fr": "Partager avec le partenaire demande de dire qui y a consenti ({field}).",
            "ar": "المشاركة مع الشريك تتطلب تحديد من وافق عليها ({field}).",
        },
    }
)

router = APIRouter(tags=["referrals"])

Partner = Annotated[Principal, Depends(allow(Role.PARTNER))]


async def referral_desk(service: Enrollments) -> ReferralDesk:
    return ReferralDesk(service.uow)


Desk = Annotated[ReferralDesk, Depends(referral_desk)]

SharingField = Annotated[
    ReferralSharing,
    Field(
        description="What the referring partner may be told, as consented: `none`, `status`, "
        "or `status_and_placement` (the status and the enrolment's center and pathway). "
        "Never names, never health details."
    ),
]
GivenByField = Annotated[
    ConsentGiver | None,
    Field(
        validate_default=True,
        description="Who consented to it: the `guardian`, or the `learner` from 18; "
        "required unless `sharing` is `none`.",
    ),
]


def _given_by_needed(given_by: ConsentGiver | None, info: ValidationInfo) -> ConsentGiver | None:
    sharing = info.data.get("sharing")
    if sharing not in (None, ReferralSharing.NONE) and given_by is None:
        raise ValueError("who consented is required when anything is shared with the partner")
    return given_by


class ReferralIn(BaseModel):
    """A learner referred through the agreement, known by the partner's file number only
    (never a name, never a health detail), and what the partner may be told of it."""

    model_config = ConfigDict(extra="forbid")

    reference: PartnerReference
    received_on: date
    sharing: SharingField = ReferralSharing.NONE
    consent_given_by: GivenByField = None

    _check_given_by = field_validator("consent_given_by")(_given_by_needed)


class SharingIn(BaseModel):
    """The consent to what the partner is told, as it now stands (``none`` withdraws it)."""

    model_config = ConfigDict(extra="forbid")

    sharing: SharingField
    consent_given_by: GivenByField = None

    _check_given_by = field_validator("consent_given_by")(_given_by_needed)


class ClosingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        ReferralClosingReason,
        Field(description="Why it is closed: a code (free text could carry health details)."),
    ]


class ReferralPublic(BaseModel):
    id: str
    agreement_id: str
    association_id: str
    reference: str
    received_on: date
    enrollment_id: str | None
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None
    status_changed_on: date
    sharing: ReferralSharing
    consent_given_by: ConsentGiver | None
    consent_recorded_on: date | None

    @classmethod
    def of(cls, referral: Referral) -> ReferralPublic:
        return cls.model_validate(referral, from_attributes=True)


class PartnerReferralPublic(BaseModel):
    """One of the partner's referrals, as far as its consent lets the partner know it."""

    referral_id: str
    agreement_id: str
    reference: Annotated[str | None, Field(description="Absent once the learner was erased.")]
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None
    changed_on: date
    center_id: Annotated[str | None, Field(description="With `status_and_placement`.")]
    pathway: Annotated[Pathway | None, Field(description="With `status_and_placement`.")]

    @classmethod
    def of(cls, referral: PartnerReferral) -> PartnerReferralPublic:
        return cls.model_validate(referral, from_attributes=True)


@router.post("/agreements/{agreement_id}/referrals", status_code=status.HTTP_201_CREATED)
async def receive_referral(
    agreement_id: Id, body: ReferralIn, principal: Writer, desk: Desk
) -> ReferralPublic:
    """Record a learner referred through the agreement; enroll them with its ``referral_id``."""
    try:
        referral = await desk.receive(
            agreement_id,
            reference=body.reference,
            received_on=body.received_on,
            sharing=body.sharing,
            consent_given_by=body.consent_given_by,
            by=principal,
        )
    except NotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return ReferralPublic.of(referral)


@router.get("/agreements/{agreement_id}/referrals")
async def list_referrals(agreement_id: Id, principal: Staff, desk: Desk) -> list[ReferralPublic]:
    """The referrals received through the agreement."""
    try:
        found = await desk.of_agreement(agreement_id, scope=principal)
    except NotFound:
        raise Problem.not_found() from None
    return [ReferralPublic.of(referral) for referral in found]


@router.post("/referrals/{referral_id}/accept")
async def accept_referral(referral_id: Id, principal: Writer, desk: Desk) -> ReferralPublic:
    """The association takes the referral on; its partner is told, as far as consented."""
    try:
        return ReferralPublic.of(await desk.accept(referral_id, by=principal))
    except NotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None


@router.post("/referrals/{referral_id}/close")
async def close_referral(
    referral_id: Id, body: ClosingIn, principal: Writer, desk: Desk
) -> ReferralPublic:
    """Close the referral with a reason code; its partner is told, as far as consented."""
    try:
        return ReferralPublic.of(await desk.close(referral_id, reason=body.reason, by=principal))
    except NotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None


@router.put("/referrals/{referral_id}/sharing")
async def set_referral_sharing(
    referral_id: Id, body: SharingIn, principal: Writer, desk: Desk
) -> ReferralPublic:
    """Record what the partner may be told from now on (``none`` withdraws the consent)."""
    try:
        referral = await desk.set_sharing(
            referral_id,
            sharing=body.sharing,
            consent_given_by=body.consent_given_by,
            by=principal,
        )
    except NotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return ReferralPublic.of(referral)


@router.get("/partner/referrals")
async def partner_referrals(principal: Partner, desk: Desk) -> list[PartnerReferralPublic]:
    """For a partner's system: the statuses of its own referrals (made through agreements
    naming it) that their consent lets it know; never another partner's."""
    return [PartnerReferralPublic.of(found) for found in await desk.of_partner(partner=principal)]

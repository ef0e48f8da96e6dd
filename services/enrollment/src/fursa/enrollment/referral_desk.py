"""Referrals at the association's desk, and as their referring partner follows them.

An association's staff receive a referral through one of their agreements (with the consent
saying what the partner may be told), accept it, enrol the learner with its ``referral_id``
(the enrolment moves it to *enrolled*) or close it with a reason. Each change the partner may
hear of publishes referral-status-changed, which notify tells that partner only. A partner's
system lists the statuses of its own referrals, and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import col, select

from fursa.enrollment import audit, referrals
from fursa.enrollment.models import Enrollment, Learner, PartnershipAgreement, Referral
from fursa.enrollment.referrals import ConsentGiver
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today
from fursa.shared.contracts import (
    Pathway,
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
    ReferralStatusChanged,
)
from fursa.shared.messaging.outbox import Transaction, UnitOfWork


class NotFound(LookupError):  # noqa: N818 - reads as what happened
    """A referral or agreement that does not exist, or lies outside the caller's scope."""


@dataclass(frozen=True)
class PartnerReferral:
    """What the referring partner may know of one of its referrals."""

    referral_id: str
    agreement_id: str
    reference: str | None
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None
    changed_on: date
    center_id: str | None
    pathway: Pathway | None


@dataclass(frozen=True)
class _Known:
    """A referral as its partner may know it now, and to whom it is told."""

    partner_id: str | None
    sharing: ReferralSharing
    center_id: str | None
    pathway: Pathway | None


# A referral with its agreement's partner and, once enrolled, its enrolment's place and the
# learner's consent to the use of their data.
_KNOWN = (
    sa.select(
        Referral,
        col(PartnershipAgreement.partner_id),
        col(Enrollment.center_id),
        col(Enrollment.pathway),
        col(Learner.consent_data_use),
    )
    .join(PartnershipAgreement, col(PartnershipAgreement.id) == col(Referral.agreement_id))
    .outerjoin(Enrollment, col(Enrollment.id) == col(Referral.enrollment_id))
    .outerjoin(Learner, col(Learner.id) == col(Enrollment.learner_id))
)


def _known(
    referral: Referral,
    partner_id: str | None,
    center_id: str | None,
    pathway: Pathway | None,
    data_use: bool | None,
) -> _Known:
    sharing = referrals.partner_may_know(referral.sharing, learner_data_use=data_use)
    placed = referrals.shows_placement(sharing)
    return _Known(partner_id, sharing, center_id if placed else None, pathway if placed else None)


def _as_partner_knows(referral: Referral, known: _Known) -> PartnerReferral:
    return PartnerReferral(
        referral_id=referral.id,
        agreement_id=referral.agreement_id,
        reference=referral.reference or None,  # emptied by the learner's erasure
        status=referral.status,
        closing_reason=referral.closing_reason,
        changed_on=referral.status_changed_on,
        center_id=known.center_id,
        pathway=known.pathway,
    )


async def tell_partner(tx: Transaction, referral: Referral) -> None:
    """Publish the referral's new status for its referring partner, as far as the consents
    allow (nothing without a partner named on the agreement, or with nothing to share)."""
    row = (await tx.session.execute(_KNOWN.where(col(Referral.id) == referral.id))).one()
    known = _known(*row)
    if known.partner_id is None or known.sharing is ReferralSharing.NONE:
        return
    seen = _as_partner_knows(referral, known)
    await tx.emit(
        ReferralStatusChanged(
            referral_id=referral.id,
            agreement_id=referral.agreement_id,
            association_id=referral.association_id,
            partner_id=known.partner_id,
            reference=seen.reference,
            status=seen.status,
            closing_reason=seen.closing_reason,
            changed_on=seen.changed_on,
            sharing=known.sharing,
            center_id=seen.center_id,
            pathway=seen.pathway,
        ),
        subject=referral.id,
        sequence=referral.version,
    )


async def referral_enrolled(tx: Transaction, referral: Referral, enrollment_id: str) -> None:
    """An enrolment was opened through ``referral`` (inside the enrolment's transaction)."""
    referrals.enrol(referral, on=local_today())
    referral.enrollment_id = enrollment_id
    tx.session.add(referral)
    await tx.session.flush()
    await tell_partner(tx, referral)


class ReferralDesk:
    """Receives, accepts and closes referrals within the caller's scope, and shows partners
    their own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def receive(
        self,
        agreement_id: str,
        *,
        reference: str,
        received_on: date,
        sharing: ReferralSharing,
        consent_given_by: ConsentGiver | None,
        by: Principal,
    ) -> Referral:
        """Record a learner referred through an agreement (the partner's file reference) and
        what the partner may be told of it. Raises :class:`NotFound` outside ``by``'s scope."""
        referrals.check_consent(sharing, consent_given_by)
        async with self.uow.begin() as tx:
            agreement = await tx.session.get(PartnershipAgreement, agreement_id)
            if agreement is None or not by.sees(association_id=agreement.association_id):
                raise NotFound(agreement_id)
            referral = Referral(
                id=str(uuid.uuid4()),
                agreement_id=agreement.id,
                association_id=agreement.association_id,
                reference=reference,
                received_on=received_on,
                status_changed_on=received_on,
                sharing=sharing,
                consent_given_by=consent_given_by,
                consent_recorded_on=local_today(),
                consent_recorded_by=by.subject,
            )
            tx.session.add(referral)
            await tx.session.flush()
            audit.record(
                tx.session,
                by,
                "referral.received",
                entity="referral",
                entity_id=referral.id,
                details={"agreement_id": agreement.id, "sharing": sharing.value},
            )
            await tell_partner(tx, referral)
        return referral

    async def of_agreement(self, agreement_id: str, *, scope: Principal) -> Sequence[Referral]:
        """The referrals received through an agreement ``scope`` may see."""
        async with self.uow.read() as session:
            agreement = await session.get(PartnershipAgreement, agreement_id)
            if agreement is None or not scope.sees(association_id=agreement.association_id):
                raise NotFound(agreement_id)
            return (
                await session.exec(
                    select(Referral)
                    .where(col(Referral.agreement_id) == agreement_id)
                    .order_by(col(Referral.received_on), col(Referral.id))
                )
            ).all()

    async def _for_change(self, tx: Transaction, referral_id: str, by: Principal) -> Referral:
        referral = await tx.session.get(Referral, referral_id, with_for_update=True)
        if referral is None or not by.sees(association_id=referral.association_id):
            raise NotFound(referral_id)
        return referral

    async def accept(self, referral_id: str, *, by: Principal) -> Referral:
        """The association takes the referral on; its partner is told."""
        async with self.uow.begin() as tx:
            referral = await self._for_change(tx, referral_id, by)
            referrals.accept(referral, on=local_today())
            tx.session.add(referral)
            await tx.session.flush()
            audit.record(
                tx.session, by, "referral.accepted", entity="referral", entity_id=referral.id
            )
            await tell_partner(tx, referral)
        return referral

    async def close(
        self, referral_id: str, *, reason: ReferralClosingReason, by: Principal
    ) -> Referral:
        """Close the referral with a reason code; its partner is told."""
        async with self.uow.begin() as tx:
            referral = await self._for_change(tx, referral_id, by)
            referrals.close(referral, reason=reason, on=local_today())
            tx.session.add(referral)
            await tx.session.flush()
            audit.record(
                tx.session,
                by,
                "referral.closed",
                entity="referral",
                entity_id=referral.id,
                reason=reason.value,
            )
            await tell_partner(tx, referral)
        return referral

    async def set_sharing(
        self,
        referral_id: str,
        *,
        sharing: ReferralSharing,
        consent_given_by: ConsentGiver | None,
        by: Principal,
    ) -> Referral:
        """Record the consent as it now stands (given later, or withdrawn: ``none``). The
        partner hears nothing of the change itself, only of later statuses it may know."""
        referrals.check_consent(sharing, consent_given_by)
        async with self.uow.begin() as tx:
            referral = await self._for_change(tx, referral_id, by)
            before = referral.sharing
            referral.sharing = sharing
            referral.consent_given_by = consent_given_by
            referral.consent_recorded_on = local_today()
            referral.consent_recorded_by = by.subject
            tx.session.add(referral)
            audit.record(
                tx.session,
                by,
                "referral.sharing_set",
                entity="referral",
                entity_id=referral.id,
                details={"from": before.value, "to": sharing.value},
            )
        return referral

    async def of_partner(self, *, partner: Principal) -> list[PartnerReferral]:
        """The referrals made by ``partner``'s system (through the agreements that name it)
        that it may know of, as it may know them; another partner's are never among them."""
        if partner.partner_id is None:
            return []
        query = _KNOWN.where(
            col(PartnershipAgreement.partner_id) == partner.partner_id,
            col(Referral.sharing) != ReferralSharing.NONE,
        ).order_by(col(Referral.received_on), col(Referral.id))
        async with self.uow.read() as session:
            rows = (await session.execute(query)).all()
        known = [(row[0], _known(*row)) for row in rows]
        return [
            _as_partner_knows(referral, seen)
            for referral, seen in known
            if seen.sharing is not ReferralSharing.NONE
        ]

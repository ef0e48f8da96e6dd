"""Referral rules in plain Python: no web framework, no database, no broker.

A partner body refers a learner through its agreement with an association. The referral is
*referred* when the association receives it, *accepted* once the association takes it on,
*enrolled* when an enrolment is opened through it (a place or the waiting list: this happens
by itself at enrolment), and *closed* with a reason code, from any of those. A closed referral
stays closed.

What the referring partner may be told of its referral is consented when the referral is
received (:class:`~fursa.shared.contracts.ReferralSharing`): nothing, the status, or the
status and the enrolment's center and pathway. Never a name, never a health detail: the
referral holds only the partner's own file number, and its reasons are codes. Once an
enrolment exists, the learner's own consent counts too: without ``data_use`` (no use of their
data beyond their own enrolment), the partner is told nothing more.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Protocol

from fursa.enrollment.domain import Refused
from fursa.shared.contracts import (
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
)


class ConsentGiver(StrEnum):
    """Who consented to what the referring partner is told: the guardian, or the learner
    from 18."""

    GUARDIAN = "guardian"
    LEARNER = "learner"


class ReferralRecord(Protocol):
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None
    status_changed_on: date
    version: int


class ReferralStatusRefused(Refused):
    """A referral cannot go from its status to the one asked (e.g. a closed one reopened)."""

    rule = "referral_status_refused"
    conflict = True


class ReferralConsentMissing(Refused):
    """Sharing anything with the partner needs whoever consented to it."""

    rule = "referral_consent_missing"


_NEXT: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.REFERRED: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED, ReferralStatus.CLOSED}
    ),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.ENROLLED, ReferralStatus.CLOSED}),
    ReferralStatus.ENROLLED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.CLOSED: frozenset(),
}


def _move(referral: ReferralRecord, to: ReferralStatus, on: date) -> None:
    if to not in _NEXT[referral.status]:
        raise ReferralStatusRefused(current=referral.status.value, to=to.value)
    referral.status = to
    referral.status_changed_on = on
    referral.version += 1


def accept(referral: ReferralRecord, *, on: date) -> None:
    """The association takes the referral on (from *referred* only)."""
    _move(referral, ReferralStatus.ACCEPTED, on)


def enrol(referral: ReferralRecord, *, on: date) -> None:
    """An enrolment was opened through the referral (from *referred* or *accepted*)."""
    _move(referral, ReferralStatus.ENROLLED, on)


def close(referral: ReferralRecord, *, reason: ReferralClosingReason, on: date) -> None:
    """Close the referral with a reason code, from any status but *closed*."""
    _move(referral, ReferralStatus.CLOSED, on)
    referral.closing_reason = reason


def check_consent(sharing: ReferralSharing, given_by: ConsentGiver | None) -> None:
    """Anything shared with the partner needs who consented to it; sharing nothing needs no
    one."""
    if sharing is not ReferralSharing.NONE and given_by is None:
        raise ReferralConsentMissing(field="consent_given_by")


def partner_may_know(sharing: ReferralSharing, *, learner_data_use: bool | None) -> ReferralSharing:
    """What the referring partner may be told now: the referral's consented sharing, or
    nothing once the enrolled learner's own consent no longer allows their data to serve
    beyond their enrolment (``learner_data_use`` is ``None`` before any enrolment)."""
    if learner_data_use is False:
        return ReferralSharing.NONE
    return sharing


def shows_placement(sharing: ReferralSharing) -> bool:
    """Whether the partner may know the enrolment's center and pathway."""
    return sharing is ReferralSharing.STATUS_AND_PLACEMENT

"""Referrals through partnership agreements: their status (referred, accepted, enrolled,
closed with a reason), the consent that says what the referring partner may be told, the
events that tell it, and the partner's own list — never another partner's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from fursa.enrollment import referrals
from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.referrals import (
    ConsentGiver,
    ReferralConsentMissing,
    ReferralStatusRefused,
)
from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import (
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
    ReferralStatusChanged,
)

Desk = Any
Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]

PARTNER_1 = "0193a3c4-0000-7000-8000-00000000aa01"
PARTNER_2 = "0193a3c4-0000-7000-8000-00000000aa02"
DAY = date(2025, 9, 15)


def partner(partner_id: str) -> dict[str, str]:
    return dev_authorization("partner", partner_id=partner_id)


# ---- the rules, without a database ----------------------------------------------------------


@dataclass
class Paper:
    status: ReferralStatus = ReferralStatus.REFERRED
    closing_reason: ReferralClosingReason | None = None
    status_changed_on: date = DAY
    version: int = 1


def test_a_referral_goes_from_referred_to_accepted_to_enrolled_to_closed() -> None:
    paper = Paper()

    referrals.accept(paper, on=date(2025, 9, 16))
    referrals.enrol(paper, on=date(2025, 9, 20))
    referrals.close(paper, reason=ReferralClosingReason.COMPLETED_PROGRAMME, on=date(2026, 6, 30))

    assert paper == Paper(
        ReferralStatus.CLOSED,
        ReferralClosingReason.COMPLETED_PROGRAMME,
        date(2026, 6, 30),
        version=4,
    )


def test_a_referral_may_be_enrolled_or_closed_without_being_accepted_first() -> None:
    enrolled, declined = Paper(), Paper()

    referrals.enrol(enrolled, on=DAY)
    referrals.close(declined, reason=ReferralClosingReason.DECLINED, on=DAY)

    assert enrolled.status is ReferralStatus.ENROLLED
    assert (declined.status, declined.closing_reason) == (
        ReferralStatus.CLOSED,
        ReferralClosingReason.DECLINED,
    )


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (ReferralStatus.ACCEPTED, referrals.accept),
        (ReferralStatus.ENROLLED, referrals.accept),
        (ReferralStatus.ENROLLED, referrals.enrol),
        (ReferralStatus.CLOSED, referrals.accept),
        (ReferralStatus.CLOSED, referrals.enrol),
    ],
)
def test_a_referral_never_goes_back(status: ReferralStatus, move: Any) -> None:
    paper = Paper(status)

    with pytest.raises(ReferralStatusRefused):
        move(paper, on=DAY)

    assert (paper.status, paper.version) == (status, 1)


def test_a_closed_referral_is_not_closed_again() -> None:
    paper = Paper(ReferralStatus.CLOSED, ReferralClosingReason.NO_PLACE)

    with pytest.raises(ReferralStatusRefused):
        referrals.close(paper, reason=ReferralClosingReason.OTHER, on=DAY)

    assert paper.closing_reason is ReferralClosingReason.NO_PLACE


def test_sharing_anything_needs_who_consented() -> None:
    referrals.check_consent(ReferralSharing.NONE, None)
    referrals.check_consent(ReferralSharing.STATUS, ConsentGiver.GUARDIAN)
    with pytest.raises(ReferralConsentMissing):
        referrals.check_consent(ReferralSharing.STATUS_AND_PLACEMENT, None)


def test_the_learners_withdrawn_data_use_silences_the_referral() -> None:
    placed = ReferralSharing.STATUS_AND_PLACEMENT

    assert referrals.partner_may_know(placed, learner_data_use=None) is placed
    assert referrals.partner_may_know(placed, learner_data_use=True) is placed
    assert referrals.partner_may_know(placed, learner_data_use=False) is ReferralSharing.NONE


# ---- over HTTP, on both databases -----------------------------------------------------------


async def agreement(desk: Desk, partner_id: str | None = PARTNER_1) -> dict[str, Any]:
    response = await desk.client.post(
        "/agreements",
        json={
            "association_id": DEMO_ASSOCIATION_ID,
            "partner_name": "Association de réduction des risques",
            "partner_id": partner_id,
            "purpose": "Orientation d'enfants suivis",
            "starts_on": "2025-01-01",
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def refer(
    desk: Desk,
    agreement_id: str,
    reference: str = "ADD-2025/117",
    **consent: str,
) -> dict[str, Any]:
    response = await desk.client.post(
        f"/agreements/{agreement_id}/referrals",
        json={"reference": reference, "received_on": "2025-09-15", **consent},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


PLACEMENT = {"sharing": "status_and_placement", "consent_given_by": "guardian"}
STATUS_ONLY = {"sharing": "status", "consent_given_by": "guardian"}


async def told(desk: Desk) -> list[ReferralStatusChanged]:
    found = []
    for event in await desk.published("referral-status-changed"):
        assert isinstance(event.data, ReferralStatusChanged)
        found.append(event.data)
    return found


async def test_a_referral_is_followed_from_referred_to_closed_and_its_partner_told_each_step(
    desk: Desk, enrollment_body: Body, caller: Caller
) -> None:
    deal = await agreement(desk)
    sent = await refer(desk, deal["id"], **PLACEMENT)

    accepted = await desk.client.post(f"/referrals/{sent['id']}/accept", headers=caller("staff_a"))
    enrolled = await desk.enroll({**enrollment_body(), "referral_id": sent["id"]})
    closed = await desk.client.post(
        f"/referrals/{sent['id']}/close",
        json={"reason": "completed_programme"},
        headers=caller("staff_a"),
    )

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert closed.json()["status"] == "closed"
    assert closed.json()["closing_reason"] == "completed_programme"
    assert closed.json()["enrollment_id"] == enrolled["enrollment_id"]
    events = await told(desk)
    assert [(e.status, e.closing_reason) for e in events] == [
        (ReferralStatus.REFERRED, None),
        (ReferralStatus.ACCEPTED, None),
        (ReferralStatus.ENROLLED, None),
        (ReferralStatus.CLOSED, ReferralClosingReason.COMPLETED_PROGRAMME),
    ]
    assert {(e.partner_id, e.referral_id, e.reference) for e in events} == {
        (PARTNER_1, sent["id"], "ADD-2025/117")
    }
    assert [(e.center_id, e.pathway) for e in events[2:]] == [
        (DEMO_CENTER_ID, "vocational_training")
    ] * 2
    published = await desk.published("referral-status-changed")
    assert [event.sequence for event in published] == [1, 2, 3, 4]
    assert all(event.subject == sent["id"] for event in published)
    # No personal data: no pii block, no learner id, no name anywhere in the event.
    for event in published:
        assert set(event.data.model_dump()) == set(ReferralStatusChanged.model_fields)
        assert "Benali" not in event.model_dump_json()


async def test_status_only_consent_never_tells_the_partner_where_the_learner_went(
    desk: Desk, enrollment_body: Body
) -> None:
    deal = await agreement(desk)
    sent = await refer(desk, deal["id"], **STATUS_ONLY)

    await desk.enroll({**enrollment_body(), "referral_id": sent["id"]})

    events = await told(desk)
    assert [e.status for e in events] == [ReferralStatus.REFERRED, ReferralStatus.ENROLLED]
    assert {(e.center_id, e.pathway) for e in events} == {(None, None)}
    [seen] = (await desk.client.get("/partner/referrals", headers=partner(PARTNER_1))).json()
    assert (seen["status"], seen["center_id"], seen["pathway"]) == ("enrolled", None, None)


async def test_without_consent_or_without_a_named_partner_nobody_is_told(
    desk: Desk, enrollment_body: Body, caller: Caller
) -> None:
    silent = await refer(desk, (await agreement(desk))["id"])
    unnamed = await refer(desk, (await agreement(desk, partner_id=None))["id"], **PLACEMENT)

    await desk.enroll({**enrollment_body(), "referral_id": silent["id"]})
    await desk.client.post(f"/referrals/{unnamed['id']}/accept", headers=caller("staff_a"))

    assert silent["sharing"] == "none"
    assert await told(desk) == []
    assert (await desk.client.get("/partner/referrals", headers=partner(PARTNER_1))).json() == []


async def test_a_partner_follows_its_own_referrals_and_never_another_partners(
    desk: Desk, caller: Caller
) -> None:
    mine = await refer(desk, (await agreement(desk, PARTNER_1))["id"], "P1-001", **PLACEMENT)
    theirs_deal = await agreement(desk, PARTNER_2)
    theirs = await refer(desk, theirs_deal["id"], "P2-001", **PLACEMENT)
    await desk.client.post(f"/referrals/{theirs['id']}/accept", headers=caller("staff_a"))

    seen_by_1 = await desk.client.get("/partner/referrals", headers=partner(PARTNER_1))
    seen_by_2 = await desk.client.get("/partner/referrals", headers=partner(PARTNER_2))
    by_staff = await desk.client.get("/partner/referrals", headers=caller("staff_a"))
    by_partner = [
        await desk.client.get(
            f"/agreements/{theirs_deal['id']}/referrals", headers=partner(PARTNER_1)
        ),
        await desk.client.post(f"/referrals/{theirs['id']}/accept", headers=partner(PARTNER_2)),
        await desk.client.post(
            f"/referrals/{mine['id']}/close", json={"reason": "other"}, headers=partner(PARTNER_1)
        ),
    ]

    assert seen_by_1.status_code == 200, seen_by_1.text
    assert [(r["referral_id"], r["reference"], r["status"]) for r in seen_by_1.json()] == [
        (mine["id"], "P1-001", "referred")
    ]
    assert [(r["referral_id"], r["reference"], r["status"]) for r in seen_by_2.json()] == [
        (theirs["id"], "P2-001", "accepted")
    ]
    assert by_staff.status_code == 403
    assert [response.status_code for response in by_partner] == [403, 403, 403]


async def test_only_the_agreements_association_accepts_or_closes_its_referrals(
    desk: Desk, caller: Caller, centers: dict[str, str]
) -> None:
    sent = await refer(desk, (await agreement(desk))["id"], **PLACEMENT)

    accept = await desk.client.post(f"/referrals/{sent['id']}/accept", headers=caller("staff_b"))
    close = await desk.client.post(
        f"/referrals/{sent['id']}/close", json={"reason": "other"}, headers=caller("staff_b")
    )
    educator = await desk.client.post(
        f"/referrals/{sent['id']}/accept", headers=caller("educator_a1")
    )

    assert (accept.status_code, close.status_code, educator.status_code) == (404, 404, 403)
    assert [e.status for e in await told(desk)] == [ReferralStatus.REFERRED]


async def test_a_referral_closes_only_with_a_reason_code_and_stays_closed(
    desk: Desk, enrollment_body: Body, caller: Caller
) -> None:
    sent = await refer(desk, (await agreement(desk))["id"], **PLACEMENT)
    staff = caller("staff_a")

    no_reason = await desk.client.post(f"/referrals/{sent['id']}/close", json={}, headers=staff)
    free_text = await desk.client.post(
        f"/referrals/{sent['id']}/close", json={"reason": "suivi médical"}, headers=staff
    )
    closed = await desk.client.post(
        f"/referrals/{sent['id']}/close", json={"reason": "unreachable"}, headers=staff
    )
    reopened = await desk.client.post(f"/referrals/{sent['id']}/accept", headers=staff)
    enrolled = await desk.client.post(
        "/enrollments", json={**enrollment_body(), "referral_id": sent["id"]}
    )

    assert [error["field"] for error in no_reason.json()["errors"]] == ["reason"]
    assert [error["field"] for error in free_text.json()["errors"]] == ["reason"]
    assert closed.json()["closing_reason"] == "unreachable"
    assert reopened.status_code == 409
    assert reopened.json()["code"] == "referral_status_refused"
    assert reopened.json()["params"] == {"current": "closed", "to": "accepted"}
    assert enrolled.status_code == 409
    assert enrolled.json()["code"] == "referral_status_refused"
    assert (await desk.client.get("/learners", headers=staff)).json()["total"] == 0


async def test_sharing_needs_who_consented_and_a_reference_that_is_no_name(
    desk: Desk,
) -> None:
    deal = await agreement(desk)
    url = f"/agreements/{deal['id']}/referrals"

    nobody = await desk.client.post(
        url, json={"reference": "R-1", "received_on": "2025-09-15", "sharing": "status"}
    )
    a_name = await desk.client.post(
        url, json={"reference": "Salma Benali", "received_on": "2025-09-15"}
    )

    assert nobody.status_code == 422
    assert [error["field"] for error in nobody.json()["errors"]] == ["consent_given_by"]
    assert [error["field"] for error in a_name.json()["errors"]] == ["reference"]


async def test_a_withdrawn_consent_hides_the_referral_from_its_partner(
    desk: Desk, enrollment_body: Body, caller: Caller
) -> None:
    by_guardian = await refer(desk, (await agreement(desk))["id"], "R-1", **PLACEMENT)
    by_learner = await refer(desk, (await agreement(desk))["id"], "R-2", **PLACEMENT)
    enrolled = await desk.enroll({**enrollment_body(), "referral_id": by_learner["id"]})
    staff = caller("staff_a")

    withdrawn = await desk.client.put(
        f"/referrals/{by_guardian['id']}/sharing", json={"sharing": "none"}, headers=staff
    )
    no_data_use = await desk.client.put(
        f"/learners/{enrolled['learner_id']}/consent",
        json={"data_use": False, "notifications": True},
        headers=staff,
    )
    await desk.client.post(
        f"/referrals/{by_learner['id']}/close", json={"reason": "left_programme"}, headers=staff
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["sharing"] == "none"
    assert no_data_use.status_code == 200, no_data_use.text
    assert (await desk.client.get("/partner/referrals", headers=partner(PARTNER_1))).json() == []
    # Told when received and enrolled; not of the closing that came after the withdrawal.
    assert [(e.reference, e.status) for e in await told(desk)] == [
        ("R-1", ReferralStatus.REFERRED),
        ("R-2", ReferralStatus.REFERRED),
        ("R-2", ReferralStatus.ENROLLED),
    ]


async def test_an_agreement_names_its_partner_afterwards(desk: Desk, caller: Caller) -> None:
    deal = await agreement(desk, partner_id=None)
    sent = await refer(desk, deal["id"], **STATUS_ONLY)

    named = await desk.client.put(
        f"/agreements/{deal['id']}/partner",
        json={"partner_id": PARTNER_2},
        headers=caller("staff_a"),
    )
    by_other = await desk.client.put(
        f"/agreements/{deal['id']}/partner",
        json={"partner_id": PARTNER_1},
        headers=caller("staff_b"),
    )
    not_an_id = await desk.client.put(
        f"/agreements/{deal['id']}/partner", json={"partner_id": "acme"}
    )

    assert named.json()["partner_id"] == PARTNER_2
    assert by_other.status_code == 404
    assert [error["field"] for error in not_an_id.json()["errors"]] == ["partner_id"]
    [seen] = (await desk.client.get("/partner/referrals", headers=partner(PARTNER_2))).json()
    assert seen["referral_id"] == sent["id"]

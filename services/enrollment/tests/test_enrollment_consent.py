"""Consent at the enrollment desk: what the guardian agreed to is recorded with the enrolment
and carried in every event's ``pii``; a change is audited and published as learner-updated,
through which every service applies it (see fursa.shared.consent)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
Desk = Any


async def test_sharing_with_partners_is_not_given_unless_the_enrolment_says_so(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())
    sharing = enrollment_body(
        consent={"data_use": True, "notifications": True, "partner_sharing": True}
    )
    shared = await desk.enroll(sharing)

    records = [
        (await desk.client.get(f"/learners/{e['learner_id']}")).json() for e in (created, shared)
    ]
    assert [r["consent"]["partner_sharing"] for r in records] == [False, True]
    first, second = await desk.published("learner-enrolled")
    assert (first.data.pii.consent.partner_sharing, second.data.pii.consent.partner_sharing) == (
        False,
        True,
    )


async def test_a_withdrawn_consent_is_audited_and_published_for_every_service(
    desk: Desk, caller: Caller, enrollment_body: Body
) -> None:
    created = await desk.enroll(
        enrollment_body(consent={"data_use": True, "notifications": True, "partner_sharing": True})
    )

    response = await desk.client.put(
        f"/learners/{created['learner_id']}/consent",
        json={"data_use": True, "notifications": True, "partner_sharing": False},
        headers=caller("staff_a"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["consent"]["partner_sharing"] is False
    [updated] = await desk.published("learner-updated")
    assert updated.data.changed == ["consent.partner_sharing"]
    assert updated.data.pii.consent.partner_sharing is False
    log = (await desk.client.get("/audit", params={"learner_id": created["learner_id"]})).json()
    assert (log[-1]["action"], log[-1]["actor"]) == (
        "learner.consent_recorded",
        "dev-association_staff",
    )
    assert log[-1]["details"] == {
        "data_use": True,
        "notifications": True,
        "partner_sharing": False,
        "changed": ["consent.partner_sharing"],
    }


async def test_a_consent_that_is_not_a_yes_or_no_is_refused_naming_it(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())

    response = await desk.client.put(
        f"/learners/{created['learner_id']}/consent",
        json={"data_use": True, "notifications": True, "partner_sharing": "perhaps"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "partner_sharing" in response.text

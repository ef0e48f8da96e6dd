"""A referral's status reaches its referring partner and no other: by that partner's webhook
only, never on the PARTNER stream that every partner reads; events in over a real nats-server,
out to a real HTTP endpoint, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from nats.js import JetStreamContext

from fursa.notify.partner_feed import referring_partner_form
from fursa.shared.auth import Role
from fursa.shared.contracts import (
    PartnerReferralStatusChanged,
    ReferralStatusChanged,
    new_event,
    parse_event,
)
from fursa.shared.testing.builders import uuid_of
from fursa.shared.testing.kernel import wait_until

Publish = Callable[[Any], Any]
AuthHeaders = Callable[..., dict[str, str]]
TYPE = "fursa.partner.referral-status-changed.v1"


def status_changed(
    partner_id: str, *, referral: int = 1, status: str = "enrolled", version: int = 3
) -> Any:
    return new_event(
        ReferralStatusChanged(
            referral_id=uuid_of("referral", referral),
            agreement_id=uuid_of("agreement", 1),
            association_id=uuid_of("association", 1),
            partner_id=partner_id,
            reference="ADD-2025/117",
            status=status,
            changed_on="2025-10-01",
            sharing="status_and_placement",
            center_id=uuid_of("center", 1),
            pathway="school_reintegration",
        ),
        subject=uuid_of("referral", referral),
        sequence=version,
    )


def test_the_partner_form_keeps_no_routing_or_consent_detail() -> None:
    form = referring_partner_form(status_changed(uuid_of("partner", 1)).data)

    assert isinstance(form.data, PartnerReferralStatusChanged)
    assert form.subject == uuid_of("referral", 1)
    assert set(form.data.model_dump()) == {
        "referral_id",
        "agreement_id",
        "reference",
        "status",
        "closing_reason",
        "changed_on",
        "center_id",
        "pathway",
    }


async def test_a_referrals_status_reaches_only_its_referring_partner_by_webhook(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    publish_event: Publish,
    receiver: Any,
    headers_for: AuthHeaders,
) -> None:
    partners = {}
    for name, path, types in (
        ("referrer", "/referrer", [TYPE]),
        ("bystander", "/bystander", [TYPE, "fursa.partner.learner-enrolled.v1"]),
    ):
        partner = (await client.post("/partners", json={"name": name})).json()
        registered = await client.post(
            f"/partners/{partner['partner_id']}/endpoints",
            json={"url": receiver.url(path), "event_types": types},
            headers=headers_for(Role.PARTNER, partner_id=partner["partner_id"]),
        )
        assert registered.status_code == 201, registered.text
        partners[name] = partner["partner_id"]
    # The referrer's second endpoint, not subscribed to referral statuses, hears nothing.
    await client.post(
        f"/partners/{partners['referrer']}/endpoints",
        json={"url": receiver.url("/other"), "event_types": ["fursa.partner.learner-enrolled.v1"]},
        headers=headers_for(Role.PARTNER, partner_id=partners["referrer"]),
    )
    internal = status_changed(partners["referrer"])

    await publish_event(internal)

    await wait_until(lambda: len(receiver.to("/referrer")) == 1)
    [call] = receiver.to("/referrer")
    told = parse_event(call.body)
    assert told.type == TYPE
    assert (told.subject, told.sequence, told.causationid) == (
        uuid_of("referral", 1),
        3,
        internal.id,
    )
    assert json.loads(call.body)["data"] == {
        "referral_id": uuid_of("referral", 1),
        "agreement_id": uuid_of("agreement", 1),
        "reference": "ADD-2025/117",
        "status": "enrolled",
        "closing_reason": None,
        "changed_on": "2025-10-01",
        "center_id": uuid_of("center", 1),
        "pathway": "school_reintegration",
    }
    assert call.headers["webhook-signature"].startswith("v1,")
    # A later event (the bystander's own) is delivered, so the referral's would have been too.
    await publish_event(
        status_changed(partners["bystander"], referral=2, status="accepted", version=2)
    )
    await wait_until(lambda: len(receiver.to("/bystander")) == 1)
    assert parse_event(receiver.to("/bystander")[0].body).data.status == "accepted"
    assert len(receiver.to("/referrer")) == 1
    assert receiver.to("/other") == []
    assert (await js.stream_info("PARTNER")).state.messages == 0

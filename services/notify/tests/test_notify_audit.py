"""Who onboarded a partner or changed its webhook, set or removed an association's address,
sent a message again, or erased: notify's audit trail, and who reads it. On SQLite and on
PostgreSQL, against the running service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from fursa.notify import service
from fursa.shared.auth import Role
from fursa.shared.clock import utcnow
from fursa.shared.contracts import LearnerErased, new_event
from fursa.shared.testing.builders import (
    ASSOCIATION_A,
    ASSOCIATION_B,
    PLACEMENTS,
    learner_enrolled,
    uuid_of,
)
from fursa.shared.testing.kernel import wait_until

AuthHeaders = Callable[..., dict[str, str]]
FEED = "fursa.partner.certificate-issued.v1"


async def trail(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_partners_onboarding_and_webhook_changes_are_read_by_administrators(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    url = "https://relais.example/hooks?token=s3cr3t"
    onboarded = await client.post(
        "/partners/onboarding",
        json={
            "name": f"Relais {uuid.uuid4().hex[:8]}",
            "webhook": {"url": url, "event_types": [FEED]},
        },
    )
    assert onboarded.status_code == 201, onboarded.text
    partner_id = onboarded.json()["partner_id"]
    endpoint = f"/partners/{partner_id}/endpoints/{onboarded.json()['endpoint']['endpoint_id']}"
    partner = headers_for(Role.PARTNER, partner_id=partner_id)
    assert (await client.post(f"{endpoint}/secret", headers=partner)).status_code == 200
    switched = await client.patch(endpoint, json={"enabled": False}, headers=partner)
    assert switched.status_code == 200, switched.text

    entries = await trail(client, headers_for(Role.ADMIN))

    assert [(e["action"], e["role"]) for e in entries] == [
        ("partner.registered", "admin"),
        ("endpoint.secret_rotated", "partner"),
        ("endpoint.updated", "partner"),
    ]
    assert entries[2]["details"] == {
        "partner_id": partner_id,
        "url_changed": False,
        "event_types": None,
        "enabled": False,
    }
    assert "s3cr3t" not in str(entries)
    assert "whsec_" not in str(entries)
    # A partner belongs to no territory: no officer reads these.
    assert await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="07")) == []
    assert (await client.get("/audit", headers=partner)).status_code == 403


async def test_an_associations_address_changes_are_its_own_to_read(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    staff_a = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_A)
    path = f"/associations/{ASSOCIATION_A}/contact"
    body = {"email": "suivi@association-a.example", "preferred_language": "ar"}
    assert (await client.put(path, json=body, headers=staff_a)).status_code == 200
    assert (await client.delete(path, headers=staff_a)).status_code == 204

    entries = await trail(client, staff_a)

    assert [(e["action"], e["entity_id"], e["association_id"]) for e in entries] == [
        ("association_contact.set", ASSOCIATION_A, ASSOCIATION_A),
        ("association_contact.removed", ASSOCIATION_A, ASSOCIATION_A),
    ]
    assert entries[0]["details"] == {"language": "ar"}
    assert "association-a.example" not in str(entries)
    staff_b = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_B)
    assert await trail(client, staff_b) == []


async def test_a_message_sent_again_and_an_erasure_are_in_the_learners_territory(
    client: httpx.AsyncClient, app: FastAPI, journey: Any, headers_for: AuthHeaders
) -> None:
    runtime = app.state.runtime
    async with runtime.uow.begin() as tx:
        enrolled = learner_enrolled(1).model_copy(update=PLACEMENTS[1])
        await service.keep_contact(tx, enrollment=enrolled, as_of=utcnow())
    issued = journey.issued(1)
    async with runtime.uow.begin(cause=issued) as tx:
        await service.certificate_issued(tx, event=issued)
    staff_a = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_A)

    async def sent() -> bool:
        found = (
            await client.get(
                "/deliveries", params={"learner_id": uuid_of("learner", 1)}, headers=staff_a
            )
        ).json()
        return [d["status"] for d in found] == ["sent"]

    await wait_until(sent)
    [delivery] = (
        await client.get("/deliveries", params={"learner_id": uuid_of("learner", 1)})
    ).json()
    assert (
        await client.post(f"/deliveries/{delivery['id']}/resend", headers=staff_a)
    ).status_code == 202
    erased = LearnerErased(
        learner_id=uuid_of("learner", 1),
        enrollment_ids=[uuid_of("enrollment", 1)],
        erased_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    event = new_event(erased, subject=erased.learner_id, sequence=9)
    async with runtime.uow.begin(cause=event) as tx:
        await service.learner_erased(tx, event=event)

    entries = await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="07"))

    assert [(e["action"], e["actor"], e["learner_id"]) for e in entries] == [
        ("delivery.resent", "dev-association_staff", uuid_of("learner", 1)),
        ("learner.erased", "fursa/notify", uuid_of("learner", 1)),
    ]
    assert entries[0]["entity_id"] == delivery["id"]
    assert await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="04")) == []

"""Who may read deliveries over HTTP: a bearer token of the programme's staff, and only the
deliveries about learners enrolled within the caller's association, center or territory; on
SQLite and on PostgreSQL.

Three learners, each enrolled by a different association, and each guardian told once:

====  ===========  ======  ======  ========
n     association  center  region  province
====  ===========  ======  ======  ========
1     A            1       07      071
2     B            2       07      072
3     C            3       04      041
====  ===========  ======  ======  ========
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fursa.notify import service
from fursa.shared.auth import Role
from fursa.shared.clock import utcnow
from fursa.shared.testing.builders import (
    ASSOCIATION_A,
    ASSOCIATION_B,
    PLACEMENTS,
    learner_enrolled,
    uuid_of,
)
from fursa.shared.testing.kernel import wait_until

AuthHeaders = Callable[..., dict[str, str]]

ROUTES = ["/deliveries?learner_id=" + uuid_of("learner", 1), "/deliveries/summary"]


@pytest.fixture
async def told(client: httpx.AsyncClient, app: FastAPI, journey: Any) -> httpx.AsyncClient:
    """The running service, each of learners 1 to 3's guardians told of a certificate (only:
    their contacts are kept without the enrollment's own message)."""
    runtime = app.state.runtime
    for n, placement in PLACEMENTS.items():
        async with runtime.uow.begin() as tx:
            enrolled = learner_enrolled(n).model_copy(update=placement)
            await service.keep_contact(tx, enrollment=enrolled, as_of=utcnow())
        issued = journey.issued(n)
        async with runtime.uow.begin(cause=issued) as tx:
            await service.certificate_issued(tx, event=issued)
    return client


async def deliveries(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> list[Any]:
    response = await client.get(
        "/deliveries", params={"learner_id": uuid_of("learner", n)}, headers=headers
    )
    assert response.status_code == 200
    found: list[Any] = response.json()
    return found


async def sent(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """How many messages the caller sees, whatever their status (the worker sends them)."""
    response = await client.get("/deliveries/summary", headers=headers)
    assert response.status_code == 200
    return sum(response.json().values())


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_needs_a_bearer_token(anonymous: httpx.AsyncClient, route: str) -> None:
    response = await anonymous.get(route)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


async def test_a_malformed_token_is_refused(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/deliveries/summary", headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("route", ROUTES)
async def test_partners_may_not_read_deliveries(
    told: httpx.AsyncClient, headers_for: AuthHeaders, route: str
) -> None:
    response = await told.get(route, headers=headers_for(Role.PARTNER, partner_id="p-1"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": "partner"}
    staff_of_a = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_A)
    assert (await told.get(route, headers=staff_of_a)).status_code == 200


async def test_another_associations_learner_looks_like_one_never_told(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    staff_of_b = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_B)
    of_a = await told.get(
        "/deliveries", params={"learner_id": uuid_of("learner", 1)}, headers=staff_of_b
    )
    unknown = await told.get(
        "/deliveries", params={"learner_id": uuid_of("learner", 99)}, headers=staff_of_b
    )
    assert of_a.status_code == unknown.status_code == 200
    assert of_a.content == unknown.content == b"[]"

    [own] = await deliveries(told, 2, staff_of_b)
    assert own["template"] == "certificate-issued.ar"
    assert await sent(told, staff_of_b) == 1


async def test_entraide_officer_sees_their_region_only(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    officer_07 = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    assert len(await deliveries(told, 1, officer_07)) == 1
    assert len(await deliveries(told, 2, officer_07)) == 1
    assert await deliveries(told, 3, officer_07) == []
    assert await sent(told, officer_07) == 2


@pytest.mark.parametrize(
    ("role", "binding", "visible"),
    [
        (Role.ADMIN, {}, {1, 2, 3}),
        (Role.ENTRAIDE_OFFICER, {"region_code": "04"}, {3}),
        (Role.DIRECTORATE, {"province_code": "072"}, {2}),
        (Role.DIRECTORATE, {"region_code": "07"}, {1, 2}),
        (Role.ASSOCIATION_STAFF, {"association_id": ASSOCIATION_A}, {1}),
        (Role.ASSOCIATION_STAFF, {"association_id": uuid_of("association", 9)}, set()),
        (Role.EDUCATOR, {"center_id": uuid_of("center", 3)}, {3}),
    ],
)
async def test_each_role_reads_and_counts_the_deliveries_of_its_scope(
    told: httpx.AsyncClient,
    headers_for: AuthHeaders,
    role: Role,
    binding: dict[str, str],
    visible: set[int],
) -> None:
    headers = headers_for(role, **binding)
    for n in PLACEMENTS:
        assert len(await deliveries(told, n, headers)) == (1 if n in visible else 0), n
    assert await sent(told, headers) == len(visible)


# ---- bad input and resending -----------------------------------------------------------------


def problem_fields(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.headers["content-type"] == "application/problem+json"
    return [(error["field"], error["rule"]) for error in response.json()["errors"]]


async def test_a_learner_id_that_is_not_a_uuid_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/deliveries", params={"learner_id": "1 OR 1=1"})
    assert response.status_code == 422
    assert problem_fields(response) == [("query.learner_id", "string_pattern_mismatch")]


async def test_resend_refuses_a_bad_id_an_unknown_one_and_one_outside_scope(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    bad = await told.post("/deliveries/not-an-id/resend")
    assert bad.status_code == 422
    assert problem_fields(bad) == [("path.delivery_id", "string_pattern_mismatch")]
    unknown = await told.post(f"/deliveries/{uuid_of('delivery', 1)}/resend")
    assert unknown.status_code == 404

    [of_learner_1] = await deliveries(told, 1, headers_for(Role.ADMIN))
    staff_of_b = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_B)
    hidden = await told.post(f"/deliveries/{of_learner_1['id']}/resend", headers=staff_of_b)
    assert hidden.status_code == 404


async def test_a_sent_message_can_be_sent_again_by_those_who_see_it(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    staff_of_a = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_A)
    await wait_until(lambda: _statuses(told, staff_of_a, ["sent"]))
    [delivery] = await deliveries(told, 1, staff_of_a)

    again = await told.post(f"/deliveries/{delivery['id']}/resend", headers=staff_of_a)
    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    twice = await told.post(f"/deliveries/{delivery['id']}/resend", headers=staff_of_a)
    assert twice.status_code in (202, 409)  # 409 while the first re-send is still pending
    await wait_until(lambda: _statuses(told, staff_of_a, ["sent"]))


async def _statuses(
    client: httpx.AsyncClient, headers: dict[str, str], expected: list[str]
) -> bool:
    return [d["status"] for d in await deliveries(client, 1, headers)] == expected


async def test_a_pending_message_cannot_be_resent(
    client: httpx.AsyncClient, app: FastAPI, journey: Any
) -> None:
    runtime = app.state.runtime
    runtime.workers[0].stop()  # nothing is sent: the message stays pending
    async with runtime.uow.begin() as tx:
        await service.keep_contact(tx, enrollment=learner_enrolled(1), as_of=utcnow())
    issued = journey.issued(1)
    async with runtime.uow.begin(cause=issued) as tx:
        [pending] = await service.tell(
            tx,
            event=issued,
            learner_id=uuid_of("learner", 1),
            topic=service.Topic.CERTIFICATE_REVOKED,
            values=lambda _language: {"number": "MS-2026-000001"},
        )
    response = await client.post(f"/deliveries/{pending.id}/resend")
    assert response.status_code == 409
    assert response.json()["code"] == "not_resendable"
    assert response.json()["params"] == {"state": "pending"}


# ---- partners ----------------------------------------------------------------------------------

FEED = "fursa.partner.certificate-issued.v1"


async def new_partner(client: httpx.AsyncClient) -> str:
    # Partner names are unique: each test partner has its own.
    name = f"Association Relais {uuid.uuid4().hex[:8]}"
    response = await client.post("/partners", json={"name": name})
    assert response.status_code == 201
    partner_id: str = response.json()["partner_id"]
    return partner_id


async def test_admins_register_partners_and_partners_their_endpoints(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    response = await client.post("/partners", json={"name": "Association Relais"})
    assert response.status_code == 201
    partner = response.json()
    assert partner["name"] == "Association Relais"
    own = headers_for(Role.PARTNER, partner_id=partner["partner_id"])

    created = await client.post(
        f"/partners/{partner['partner_id']}/endpoints",
        json={"url": "https://relais.example/hooks", "event_types": [FEED, FEED]},
        headers=own,
    )
    assert created.status_code == 201
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["event_types"] == [FEED]
    listed = await client.get(f"/partners/{partner['partner_id']}/endpoints", headers=own)
    assert [e["endpoint_id"] for e in listed.json()] == [endpoint["endpoint_id"]]
    assert "secret" not in listed.text

    rotated = await client.post(
        f"/partners/{partner['partner_id']}/endpoints/{endpoint['endpoint_id']}/secret",
        headers=own,
    )
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    shown = await client.get(f"/partners/{partner['partner_id']}", headers=own)
    assert shown.json() == partner


async def test_a_partner_changes_its_endpoint_and_switches_it_off_and_on(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    partner_id = await new_partner(client)
    own = headers_for(Role.PARTNER, partner_id=partner_id)
    created = await client.post(
        f"/partners/{partner_id}/endpoints",
        json={"url": "https://relais.example/hooks", "event_types": [FEED]},
        headers=own,
    )
    path = f"/partners/{partner_id}/endpoints/{created.json()['endpoint_id']}"
    other_type = "fursa.partner.learner-enrolled.v1"

    moved = await client.patch(
        path, json={"url": "https://relais.example/v2", "event_types": [other_type]}, headers=own
    )
    assert moved.status_code == 200
    assert (moved.json()["url"], moved.json()["event_types"]) == (
        "https://relais.example/v2",
        [other_type],
    )
    off = await client.patch(path, json={"enabled": False}, headers=own)
    assert (off.json()["disabled_reason"], off.json()["disabled_at"] is not None) == (
        "switched_off",
        True,
    )
    on = await client.patch(path, json={"enabled": True}, headers=own)
    assert (on.json()["disabled_reason"], on.json()["disabled_at"]) == (None, None)
    [listed] = (await client.get(f"/partners/{partner_id}/endpoints", headers=own)).json()
    assert listed == on.json()

    refused = await client.patch(path, json={"event_types": ["fursa.enrollment.x.v1"]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "event_types.0"
    unknown = await client.patch(path, json={"secret": "mine"})
    assert unknown.status_code == 422
    other = headers_for(Role.PARTNER, partner_id=await new_partner(client))
    assert (await client.patch(path, json={"enabled": True}, headers=other)).status_code == 404


async def test_a_partner_cannot_see_or_touch_another_partner(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    mine, theirs = await new_partner(client), await new_partner(client)
    created = await client.post(
        f"/partners/{theirs}/endpoints",
        json={"url": "https://other.example/hooks", "event_types": [FEED]},
    )
    endpoint_id = created.json()["endpoint_id"]
    as_mine = headers_for(Role.PARTNER, partner_id=mine)

    for method, path in [
        ("GET", f"/partners/{theirs}"),
        ("GET", f"/partners/{theirs}/endpoints"),
        ("POST", f"/partners/{theirs}/endpoints/{endpoint_id}/secret"),
        ("GET", f"/partners/{theirs}/endpoints/{endpoint_id}/deliveries"),
        ("POST", f"/partners/{mine}/endpoints/{endpoint_id}/secret"),  # not my endpoint
        ("GET", f"/partners/{uuid_of('partner', 404)}"),
    ]:
        response = await client.request(method, path, headers=as_mine)
        assert response.status_code == 404, path
    refused = await client.post(
        f"/partners/{theirs}/endpoints",
        json={"url": "https://mine.example/hooks", "event_types": [FEED]},
        headers=as_mine,
    )
    assert refused.status_code == 404
    assert (await client.post("/partners", json={"name": "x"}, headers=as_mine)).status_code == 403


@pytest.mark.parametrize(
    "role_binding",
    [
        (Role.ASSOCIATION_STAFF, {"association_id": ASSOCIATION_A}),
        (Role.EDUCATOR, {"center_id": uuid_of("center", 1)}),
        (Role.ENTRAIDE_OFFICER, {"region_code": "07"}),
    ],
)
async def test_programme_staff_do_not_manage_partners(
    client: httpx.AsyncClient, headers_for: AuthHeaders, role_binding: Any
) -> None:
    role, binding = role_binding
    partner_id = await new_partner(client)
    response = await client.get(f"/partners/{partner_id}", headers=headers_for(role, **binding))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "Relais", "secret": "x"}, [("secret", "extra_forbidden")]),
        ({"name": ""}, [("name", "string_too_short")]),
        ({}, [("name", "missing")]),
        ({"name": 42}, [("name", "string_type")]),
    ],
)
async def test_a_bad_partner_is_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    response = await client.post("/partners", json=body)
    assert response.status_code == 422
    assert problem_fields(response) == errors


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"url": "ftp://x.example/h", "event_types": [FEED]}, [("url", "string_pattern_mismatch")]),
        ({"url": "https://x.example/h", "event_types": []}, [("event_types", "too_short")]),
        (
            {"url": "https://x.example/h", "event_types": ["fursa.enrollment.learner-enrolled.v1"]},
            [("event_types.0", "value_error")],
        ),
        (
            {"url": "https://x.example/h", "event_types": [FEED], "active": True},
            [("active", "extra_forbidden")],
        ),
        ({"event_types": [FEED]}, [("url", "missing")]),
    ],
)
async def test_a_bad_endpoint_is_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    partner_id = await new_partner(client)
    response = await client.post(f"/partners/{partner_id}/endpoints", json=body)
    assert response.status_code == 422
    assert problem_fields(response) == errors


async def test_oversized_and_malformed_bodies_are_refused(client: httpx.AsyncClient) -> None:
    too_big = await client.post("/partners", json={"name": "x" * 2_000_000})
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"
    not_json = await client.post(
        "/partners", content=b"{name:", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert problem_fields(not_json) == [("body", "json_invalid")]


async def test_partner_routes_refuse_ids_that_are_not_uuids(client: httpx.AsyncClient) -> None:
    partner_id = await new_partner(client)
    for path in [
        "/partners/nope",
        "/partners/nope/endpoints",
        f"/partners/{partner_id}/endpoints/nope/deliveries",
    ]:
        response = await client.get(path)
        assert response.status_code == 422, path
    created = await client.post(
        f"/partners/{partner_id}/endpoints",
        json={"url": "https://x.example/h", "event_types": [FEED]},
    )
    redeliver = await client.post(
        f"/partners/{partner_id}/endpoints/{created.json()['endpoint_id']}"
        "/deliveries/nope/redeliver"
    )
    assert redeliver.status_code == 422


async def test_an_unknown_delivery_of_an_endpoint_cannot_be_redelivered(
    client: httpx.AsyncClient,
) -> None:
    partner_id = await new_partner(client)
    created = await client.post(
        f"/partners/{partner_id}/endpoints",
        json={"url": "https://x.example/h", "event_types": [FEED]},
    )
    endpoint_id = created.json()["endpoint_id"]
    response = await client.post(
        f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries/"
        f"{uuid_of('delivery', 1)}/redeliver"
    )
    assert response.status_code == 404


async def test_partner_names_are_unique(client: httpx.AsyncClient) -> None:
    name = f"Relais {uuid.uuid4().hex[:8]}"
    assert (await client.post("/partners", json={"name": name})).status_code == 201
    for path in ("/partners", "/partners/onboarding"):
        taken = await client.post(path, json={"name": name})
        assert taken.status_code == 409
        assert (taken.json()["code"], taken.json()["params"]) == (
            "partner_name_taken",
            {"name": name},
        )
    listed = (await client.get("/partners")).json()
    assert [p["name"] for p in listed].count(name) == 1


async def test_onboarding_registers_a_partner_and_its_endpoint_or_nothing(
    client: httpx.AsyncClient,
) -> None:
    name = f"Relais {uuid.uuid4().hex[:8]}"
    refused = await client.post(
        "/partners/onboarding",
        json={"name": name, "webhook": {"url": "https://r.example/h", "event_types": ["x.y"]}},
    )
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["webhook.event_types.0"]
    assert name not in {p["name"] for p in (await client.get("/partners")).json()}

    done = await client.post(
        "/partners/onboarding",
        json={"name": name, "webhook": {"url": "https://r.example/h", "event_types": [FEED]}},
    )
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["endpoint"]["secret"].startswith("whsec_")
    [listed] = [p for p in (await client.get("/partners")).json() if p["name"] == name]
    assert listed["partner_id"] == body["partner_id"]
    assert [e["endpoint_id"] for e in listed["endpoints"]] == [body["endpoint"]["endpoint_id"]]
    assert "secret" not in json.dumps(listed)


async def test_only_admins_list_and_onboard_partners(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    partner_id = await new_partner(client)
    for headers in (
        headers_for(Role.PARTNER, partner_id=partner_id),
        headers_for(Role.ASSOCIATION_STAFF, association_id=uuid_of("association", 1)),
    ):
        assert (await client.get("/partners", headers=headers)).status_code == 403
        onboarding = await client.post(
            "/partners/onboarding", json={"name": "By Someone"}, headers=headers
        )
        assert onboarding.status_code == 403


async def test_partner_routes_need_a_bearer_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/partners", json={"name": "Relais"})
    assert response.status_code == 401


# ---- the partner catalog ----------------------------------------------------------------------


async def test_the_partner_catalog_is_served_without_a_token(
    anonymous: httpx.AsyncClient,
) -> None:
    document = (await anonymous.get("/partner/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert FEED in addresses
    assert all(address.startswith("fursa.partner.") for address in addresses)
    schema = await anonymous.get(f"/partner/schemas/{FEED}.json")
    assert schema.status_code == 200
    assert schema.json()["examples"][0]["type"] == FEED
    unknown = await anonymous.get("/partner/schemas/fursa.enrollment.learner-enrolled.v1.json")
    assert unknown.status_code == 404

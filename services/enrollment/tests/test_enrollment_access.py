"""Who may call the enrollment API, and what each caller sees.

Every route needs a bearer token; a partner's system is refused every route but the reference
data; enrolling is for association staff and administrators; a center or an enrollment outside
the caller's scope answers 404 exactly like one that does not exist, and lists and summaries
count only what the caller may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.app import create_app
from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.auth import Role, dev_authorization, mint_dev_token
from fursa.shared.problems import FIELD_RULES, MESSAGES
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
PROBLEM_JSON = "application/problem+json"
MISSING = "00000000-0000-4000-8000-000000000000"
ANOTHER_KEY = "another-key-another-key-another-key-another-key"


async def enroll(client: httpx.AsyncClient, body: Body, center_id: str) -> dict[str, Any]:
    """Enroll a learner as an administrator; returns the created enrollment."""
    response = await client.post("/enrollments", json=body(center_id=center_id))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/centers"),
        ("POST", "/enrollments"),
        ("GET", "/enrollments/summary"),
        ("GET", f"/enrollments/{MISSING}"),
    ],
)
async def test_every_route_needs_a_token(
    anonymous: httpx.AsyncClient, enrollment_body: Body, method: str, path: str
) -> None:
    body = enrollment_body() if method == "POST" else None

    response = await anonymous.request(method, path, json=body)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert (problem["code"], problem["status"]) == ("unauthorized", 401)
    assert problem["title"] == MESSAGES["unauthorized"]["ar"]  # no Accept-Language: Arabic


async def test_a_token_signed_with_another_key_is_refused(anonymous: httpx.AsyncClient) -> None:
    forged = mint_dev_token(ANOTHER_KEY, role=Role.ADMIN)

    response = await anonymous.get("/centers", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_operational_routes_need_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200


# --- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("educator_a1", "educator"),
        ("officer_07", "entraide_officer"),
        ("directorate_071", "directorate"),
        ("partner", "partner"),
    ],
)
async def test_only_association_staff_and_admins_enroll(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    caller: Caller,
    enrollment_body: Body,
    name: str,
    role: str,
) -> None:
    response = await client.post("/enrollments", json=enrollment_body(), headers=caller(name))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": role}
    assert await _nothing_written(app, client, js)


async def test_association_staff_enrolls_in_their_own_centers(
    client: httpx.AsyncClient, caller: Caller, enrollment_body: Body, centers: dict[str, str]
) -> None:
    response = await client.post(
        "/enrollments", json=enrollment_body(center_id=centers["A2"]), headers=caller("staff_a")
    )

    assert response.status_code == 201, response.text
    assert response.json()["association_id"] == DEMO_ASSOCIATION_ID


async def test_another_associations_center_is_unknown_like_a_missing_one(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    caller: Caller,
    enrollment_body: Body,
    centers: dict[str, str],
) -> None:
    staff_b = caller("staff_b")

    other = await client.post("/enrollments", json=enrollment_body(), headers=staff_b)
    missing = await client.post(
        "/enrollments", json=enrollment_body(center_id=MISSING), headers=staff_b
    )

    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == "unknown_center"
    # The same answer, but for the id the caller sent.
    assert other.text.replace(DEMO_CENTER_ID, MISSING) == missing.text
    assert await _nothing_written(app, client, js)


@pytest.mark.parametrize(
    "path",
    [
        "/associations",
        "/centers",
        "/agreements",
        "/enrollments",
        "/enrollments/summary",
        f"/centers/{DEMO_CENTER_ID}",
    ],
)
async def test_a_partners_system_is_refused_the_staffs_routes(
    client: httpx.AsyncClient, caller: Caller, path: str
) -> None:
    refused = await client.get(path, headers=caller("partner"))
    served = await client.get(path, headers=caller("educator_a1"))

    # Refused as a role the route does not serve, not answered as if its scope were empty.
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_JSON
    problem = refused.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": "partner"}
    assert served.status_code == 200


@pytest.mark.parametrize("path", ["/school-years", "/pathways"])
async def test_a_partners_system_reads_the_reference_data(
    client: httpx.AsyncClient, caller: Caller, path: str
) -> None:
    response = await client.get(path, headers=caller("partner"))

    assert response.status_code == 200
    assert response.json()


# --- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "visible"),
    [
        ("admin", {"A1", "A2", "B"}),
        ("staff_a", {"A1", "A2"}),
        ("staff_b", {"B"}),
        ("educator_a1", {"A1"}),
        ("officer_07", {"A1", "A2"}),
        ("officer_06", {"B"}),
        ("directorate_071", {"A1"}),
        ("directorate_141", {"B"}),
        ("directorate_r07", {"A1", "A2"}),
    ],
)
async def test_centers_lists_only_the_callers_centers(
    client: httpx.AsyncClient,
    caller: Caller,
    centers: dict[str, str],
    name: str,
    visible: set[str],
) -> None:
    response = await client.get("/centers", headers=caller(name))

    assert response.status_code == 200
    assert {center["id"] for center in response.json()} == {centers[name] for name in visible}


async def test_another_associations_enrollment_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, caller: Caller, enrollment_body: Body, centers: dict[str, str]
) -> None:
    enrollment = await enroll(client, enrollment_body, centers["A1"])
    staff_b = caller("staff_b")

    other = await client.get(f"/enrollments/{enrollment['enrollment_id']}", headers=staff_b)
    missing = await client.get(f"/enrollments/{MISSING}", headers=staff_b)

    assert other.status_code == missing.status_code == 404
    assert other.headers["content-type"] == PROBLEM_JSON
    assert other.json()["code"] == "not_found"
    assert other.content == missing.content


@pytest.mark.parametrize(
    ("name", "sees"),
    [
        ("admin", True),
        ("staff_a", True),
        ("staff_b", False),
        ("educator_a1", True),
        ("educator_a2", False),
        ("officer_07", True),
        ("officer_06", False),
        ("directorate_071", True),
        ("directorate_141", False),
        ("directorate_r07", True),
    ],
)
async def test_an_enrollment_is_read_only_within_the_callers_scope(
    client: httpx.AsyncClient,
    caller: Caller,
    enrollment_body: Body,
    centers: dict[str, str],
    name: str,
    sees: bool,
) -> None:
    enrollment = await enroll(client, enrollment_body, centers["A1"])

    response = await client.get(f"/enrollments/{enrollment['enrollment_id']}", headers=caller(name))

    if sees:
        assert response.status_code == 200
        assert response.json() == enrollment
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_summary_counts_only_the_callers_enrollments(
    client: httpx.AsyncClient, caller: Caller, enrollment_body: Body, centers: dict[str, str]
) -> None:
    for center in ("A1", "A1", "A2", "B"):
        await enroll(client, enrollment_body, centers[center])
    expected = {
        "admin": 4,
        "staff_a": 3,
        "staff_b": 1,
        "educator_a1": 2,
        "educator_a2": 1,
        "officer_07": 3,
        "officer_06": 1,
        "directorate_071": 2,
        "directorate_141": 1,
        "directorate_r07": 3,
    }

    totals = {
        name: (await client.get("/enrollments/summary", headers=caller(name))).json()["total"]
        for name in expected
    }

    assert totals == expected


# --- languages and limits -------------------------------------------------------------------


async def test_arabic_is_answered_to_who_asks_for_it(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    arabic = {"Accept-Language": "ar-MA,fr;q=0.8"}
    body = enrollment_body()
    del body["school_year"]

    invalid = await client.post("/enrollments", json=body, headers=arabic)
    unknown = await client.post(
        "/enrollments", json=enrollment_body(center_id=MISSING), headers=arabic
    )
    missing = await client.get(f"/enrollments/{MISSING}", headers=arabic)

    assert invalid.headers["content-language"] == "ar"
    assert invalid.json()["title"] == MESSAGES["validation"]["ar"]
    assert invalid.json()["errors"] == [
        {"field": "school_year", "rule": "missing", "message": FIELD_RULES["missing"]["ar"]}
    ]
    assert unknown.json()["title"] == f"مركز غير معروف: {MISSING}."
    assert missing.json()["title"] == MESSAGES["not_found"]["ar"]


async def test_arabic_is_the_default_language(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/enrollments/{MISSING}", headers={"Accept-Language": "en"})
    unasked = await client.get(f"/enrollments/{MISSING}")

    assert response.headers["content-language"] == unasked.headers["content-language"] == "ar"
    assert response.json()["title"] == MESSAGES["not_found"]["ar"]


async def test_french_is_answered_to_who_asks_for_it(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/enrollments/{MISSING}", headers={"Accept-Language": "fr-MA"})

    assert response.headers["content-language"] == "fr"
    assert response.json()["title"] == MESSAGES["not_found"]["fr"]


async def test_the_default_language_is_the_services_setting(
    settings: EnrollmentSettings, js: JetStreamContext
) -> None:
    app = create_app(settings.model_copy(update={"default_language": "fr"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service", headers=dev_authorization()
        ) as client:
            missing = await client.get(f"/enrollments/{MISSING}")
            too_big = await client.get("/audit?after_id=9223372036854775808")

    assert missing.headers["content-language"] == "fr"
    assert missing.json()["title"] == MESSAGES["not_found"]["fr"]
    assert too_big.json()["errors"][0]["message"] == FIELD_RULES["less_than_equal"]["fr"]


async def test_a_body_over_the_limit_is_refused_and_writes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: EnrollmentSettings,
    enrollment_body: Body,
) -> None:
    body = enrollment_body()
    body["guardian"]["name"] = "x" * settings.max_body_bytes  # the rest makes it too long

    response = await client.post("/enrollments", json=body)

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["params"] == {"limit": settings.max_body_bytes}
    assert await _nothing_written(app, client, js)


async def _nothing_written(app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext) -> bool:
    """No enrollment stored, and nothing published once the outbox is drained."""
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    summary = (await client.get("/enrollments/summary")).json()
    return summary["total"] == 0 and await stream_count(js, "ENROLLMENT") == 0

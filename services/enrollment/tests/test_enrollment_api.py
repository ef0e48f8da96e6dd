"""Enrolling a learner over HTTP: one transaction writes the enrollment and its event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.shared.contracts import LearnerEnrolled, parse_event
from fursa.shared.problems import FIELD_RULES, MESSAGES
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count, wait_until

Body = Callable[..., dict[str, Any]]
PROBLEM_JSON = "application/problem+json"


async def test_enrolling_a_learner_publishes_learner_enrolled_with_their_pii(
    client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    response = await client.post("/enrollments", json=enrollment_body())

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "enrolled"
    assert created["center_id"] == DEMO_CENTER_ID
    assert created["pathway"] == "vocational_training"
    assert created["school_year"] == "2025/2026"
    assert response.headers["location"] == f"/enrollments/{created['enrollment_id']}"

    await wait_until(lambda: _has_messages(js, "ENROLLMENT", 1))
    message = await js.get_msg("ENROLLMENT", 1)
    assert message.data is not None
    assert message.headers is not None
    event = parse_event(message.data)
    assert message.headers["Nats-Msg-Id"] == event.id
    assert event.type == "fursa.enrollment.learner-enrolled.v1"
    assert event.source == "fursa/enrollment"
    assert event.subject == created["enrollment_id"]
    assert event.sequence == 1
    data = event.data
    assert isinstance(data, LearnerEnrolled)
    assert data.enrollment_id == created["enrollment_id"]
    assert data.learner_id == created["learner_id"]
    assert data.association_id == DEMO_ASSOCIATION_ID
    assert (data.region_code, data.province_code) == ("07", "071")
    assert data.pii.first_name_ar == "سلمى"
    assert data.pii.last_name_latin == "Benali"
    assert data.pii.guardian.phone == "+212612345678"
    assert data.pii.consent.notifications is True


async def test_enrollment_reads_back_without_the_guardians_contact(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    created = (await client.post("/enrollments", json=enrollment_body())).json()

    response = await client.get(f"/enrollments/{created['enrollment_id']}")

    assert response.status_code == 200
    enrollment = response.json()
    assert enrollment["status"] == "enrolled"
    assert enrollment["completed_on"] is None
    assert enrollment["enrolled_on"] == created["enrolled_on"]
    assert "612345678" not in response.text
    assert "Benali" not in response.text


async def test_summary_counts_enrollments(client: httpx.AsyncClient, enrollment_body: Body) -> None:
    for _ in range(3):
        await client.post("/enrollments", json=enrollment_body())

    response = await client.get("/enrollments/summary")

    assert response.json() == {
        "waitlisted": 0,
        "enrolled": 3,
        "withdrawn": 0,
        "completed": 0,
        "total": 3,
    }


async def test_invalid_fields_are_a_problem_naming_each_field(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body["learner"]["birth_date"] = "2011-02-30"
    body["learner"]["first_name_ar"] = "Salma"  # Latin letters where Arabic script is due
    body["guardian"]["phone"] = "0522123456"  # a landline: no SMS reaches it
    body["school_year"] = "2025/2027"

    response = await client.post("/enrollments", json=body, headers={"Accept-Language": "fr"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["type"] == "urn:fursa:problem:validation"
    assert problem["status"] == 422
    assert problem["code"] == "validation"
    assert problem["title"] == MESSAGES["validation"]["fr"]
    errors = {error["field"]: error for error in problem["errors"]}
    assert set(errors) == {
        "learner.birth_date",
        "learner.first_name_ar",
        "guardian.phone",
        "school_year",
    }
    assert errors["guardian.phone"]["rule"] == "value_error"
    assert all(error["message"] for error in problem["errors"])
    assert "0522123456" not in response.text  # input, possibly personal, is never echoed
    assert await _nothing_written(app, client, js)


async def test_unknown_fields_are_refused(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    body = enrollment_body(nationality="MA")
    body["guardian"]["relationship"] = "mother"

    response = await client.post("/enrollments", json=body, headers={"Accept-Language": "fr"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "validation"
    errors = {(error["field"], error["rule"]) for error in problem["errors"]}
    assert errors == {
        ("nationality", "extra_forbidden"),
        ("guardian.relationship", "extra_forbidden"),
    }
    assert {error["message"] for error in problem["errors"]} == {"champ inconnu"}
    assert await _nothing_written(app, client, js)


async def test_body_that_is_not_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/enrollments", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "validation"
    [error] = problem["errors"]
    assert error["rule"] == "json_invalid"
    assert error["message"] == FIELD_RULES["json_invalid"]["ar"]  # Arabic unless asked otherwise


async def test_unknown_center_is_not_found_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"

    response = await client.post(
        "/enrollments",
        json=enrollment_body(center_id=missing),
        headers={"Accept-Language": "fr"},
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "urn:fursa:problem:unknown_center",
        "title": f"Centre inconnu : {missing}.",
        "status": 404,
        "code": "unknown_center",
        "params": {"center_id": missing},
    }
    assert await _nothing_written(app, client, js)


async def test_unknown_enrollment_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/enrollments/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["content-language"] == "ar"  # Arabic unless asked otherwise
    assert response.json() == {
        "type": "urn:fursa:problem:not_found",
        "title": MESSAGES["not_found"]["ar"],
        "status": 404,
        "code": "not_found",
    }


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/audit", "after_id=9589365681295632123500368809735225344", "query.after_id"),
        ("/audit", "after_id=2147483648", "query.after_id"),
        ("/enrollments", "offset=9223372036854775808&limit=10", "query.offset"),
        ("/dead-letters", "limit=9223372036854775808", "query.limit"),
    ],
)
async def test_integers_beyond_64_bits_are_a_problem_naming_the_field(
    client: httpx.AsyncClient, path: str, query: str, field: str
) -> None:
    response = await client.get(f"{path}?{query}")

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        (field, "less_than_equal")
    ]


async def test_a_dead_letter_id_beyond_64_bits_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/dead-letters/9223372036854775808/replay", params={"consumer": "x"}
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "path.dead_letter_id"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/audit", "after_id=2147483647"),  # the audit log's ids are 32-bit on PostgreSQL
        ("/enrollments", "offset=9223372036854775807&limit=10"),
    ],
)
async def test_the_largest_64_bit_integer_is_answered(
    client: httpx.AsyncClient, path: str, query: str
) -> None:
    response = await client.get(f"{path}?{query}")

    assert response.status_code == 200, response.text
    assert response.json() == []


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "not_found"


async def _has_messages(js: JetStreamContext, stream: str, count: int) -> bool:
    return await stream_count(js, stream) >= count


async def _nothing_written(app: FastAPI, client: httpx.AsyncClient, js: JetStreamContext) -> bool:
    """No enrollment stored, and nothing published once the outbox is drained."""
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    summary = (await client.get("/enrollments/summary")).json()
    return summary["total"] == 0 and await stream_count(js, "ENROLLMENT") == 0

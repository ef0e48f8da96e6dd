"""Phones as people type them: stored as Moroccan mobiles in E.164, a landline refused by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

Body = Callable[..., dict[str, Any]]


async def test_a_guardian_phone_typed_the_local_way_is_kept_in_e164(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body["guardian"]["phone"] = "06 61 23 45 67"

    created = await client.post("/enrollments", json=body)

    assert created.status_code == 201, created.text
    learner = await client.get(f"/learners/{created.json()['learner_id']}")
    assert learner.json()["guardian"]["phone"] == "+212661234567"
    corrected = await client.patch(
        f"/learners/{created.json()['learner_id']}",
        json={"guardian": {"phone": "00212 7 12 34 56 78"}},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["guardian"]["phone"] == "+212712345678"


async def test_a_landline_is_refused_naming_the_field(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body["guardian"]["phone"] = "0522 12 34 56"  # Casablanca landline: no SMS reaches it

    refused = await client.post("/enrollments", json=body)

    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["guardian.phone"]

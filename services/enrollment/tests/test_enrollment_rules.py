"""Who the programme takes: eligibility from configuration, one active enrollment per
learner, referrals through partnership agreements — each refusal naming its rule."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count

Body = Callable[..., dict[str, Any]]
Desk = Any
PROBLEM_JSON = "application/problem+json"


def with_learner(body: dict[str, Any], **learner: Any) -> dict[str, Any]:
    body["learner"].update(learner)
    return body


async def nothing_published(app: FastAPI, js: JetStreamContext) -> bool:
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    return await stream_count(js, "ENROLLMENT") == 0


@pytest.mark.parametrize(
    ("learner", "rule", "params"),
    [
        ({"birth_date": "2014-01-01"}, "age_below_minimum", {"age": 11, "min_age": 12}),
        ({"birth_date": "2006-08-31"}, "age_above_maximum", {"age": 19, "max_age": 18}),
        (
            {"year_left_school": 2026},
            "must_be_out_of_school",
            {"year_left_school": 2026, "school_year_starts": 2025},
        ),
        (
            {"year_left_school": None},
            "year_left_school_required",
            {"last_school_level": "primary_5"},
        ),
    ],
)
async def test_an_ineligible_learner_is_refused_naming_the_rule(
    app: FastAPI,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    enrollment_body: Body,
    learner: dict[str, Any],
    rule: str,
    params: dict[str, Any],
) -> None:
    response = await client.post("/enrollments", json=with_learner(enrollment_body(), **learner))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert (problem["code"], problem["type"]) == (rule, f"urn:fursa:problem:{rule}")
    assert problem["params"] == params
    assert await nothing_published(app, js)


async def test_refusals_are_explained_in_arabic_on_request(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    body = with_learner(enrollment_body(), birth_date="2014-01-01")

    response = await client.post("/enrollments", json=body, headers={"Accept-Language": "ar"})

    assert response.json()["title"] == "السن 11 سنة: الحد الأدنى هو 12 سنة."


async def test_a_school_year_not_open_for_enrollment_is_refused(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    response = await client.post("/enrollments", json=enrollment_body(school_year="2030/2031"))

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_school_year"


async def test_age_bounds_come_from_the_school_years_configuration(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    opened = await client.put(
        "/school-years",
        json={
            "code": "2025/2026",
            "starts_on": "2025-09-01",
            "ends_on": "2026-07-31",
            "min_age": 10,
            "max_age": 15,
        },
    )
    young = with_learner(enrollment_body(), birth_date="2014-06-01", year_left_school=2024)

    response = await client.post("/enrollments", json=young)

    assert opened.status_code == 200, opened.text
    assert response.status_code == 201, response.text


async def test_a_learner_with_the_same_massar_code_cannot_enroll_twice(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    first = enrollment_body()
    await desk.enroll(first)
    again = with_learner(
        enrollment_body(),
        first_name_ar="يوسف",
        first_name_latin="Youssef",
        massar_code=first["learner"]["massar_code"],
    )

    response = await desk.client.post("/enrollments", json=again)

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_enrollment"
    assert len(await desk.published()) == 1


async def test_the_same_child_spelt_differently_cannot_enroll_twice(
    desk: Desk, enrollment_body: Body
) -> None:
    first = with_learner(enrollment_body(), massar_code=None)
    await desk.enroll(first)
    variant = enrollment_body()
    variant["learner"].update(
        first_name_ar="سَلْمَى",
        last_name_ar="بن علي",
        first_name_latin="Selma",
        last_name_latin="Ben-Ali",
        massar_code=None,
    )
    variant["guardian"]["phone"] = first["guardian"]["phone"]

    arabic_and_latin = await desk.client.post("/enrollments", json=variant)
    variant["learner"]["first_name_ar"] = "سلوى"  # another Arabic name, same Latin key
    latin_only = await desk.client.post("/enrollments", json=variant)

    assert arabic_and_latin.status_code == 409
    assert latin_only.status_code == 409
    assert latin_only.json()["code"] == "duplicate_enrollment"


async def test_twins_with_the_same_guardian_are_two_learners(
    desk: Desk, enrollment_body: Body
) -> None:
    hassan = with_learner(
        enrollment_body(),
        first_name_ar="حسن",
        first_name_latin="Hassan",
        sex="male",
        massar_code=None,
    )
    houssine = with_learner(
        enrollment_body(),
        first_name_ar="حسين",
        first_name_latin="Houssine",
        sex="male",
        massar_code=None,
    )
    houssine["guardian"]["phone"] = hassan["guardian"]["phone"]

    await desk.enroll(hassan)
    await desk.enroll(houssine)


async def test_after_a_withdrawal_the_learner_may_enroll_again(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    first = await desk.enroll(body)
    await desk.client.post(
        f"/enrollments/{first['enrollment_id']}/withdrawal", json={"reason": "health"}
    )

    again = await desk.enroll(body)

    assert again["status"] == "enrolled"


async def test_concurrent_enrollments_of_one_learner_make_one_enrollment(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()

    responses = await asyncio.gather(
        *(desk.client.post("/enrollments", json=body) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]


async def agreement(client: httpx.AsyncClient, **bounds: Any) -> dict[str, Any]:
    response = await client.post(
        "/agreements",
        json={
            "association_id": DEMO_ASSOCIATION_ID,
            "partner_name": "Association de réduction des risques",
            "purpose": "Orientation d'enfants suivis en addictologie",
            "starts_on": "2025-01-01",
            **bounds,
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def referral(client: httpx.AsyncClient, agreement_id: str) -> dict[str, Any]:
    response = await client.post(
        f"/agreements/{agreement_id}/referrals",
        json={"reference": "ADD-2025/117", "received_on": "2025-09-15"},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_referral_through_an_agreement_applies_its_age_bounds_once(
    desk: Desk, enrollment_body: Body
) -> None:
    deal = await agreement(desk.client, min_age=15, max_age=22)
    sent = await referral(desk.client, deal["id"])
    older = with_learner(enrollment_body(), birth_date="2005-05-05", year_left_school=2020)
    older["contact"] = {"phone": "+212600000117", "preferred_language": "fr"}  # an adult
    younger = with_learner(enrollment_body(), birth_date="2012-05-05")

    enrolled = await desk.enroll({**older, "referral_id": sent["id"]})
    used = await desk.client.post("/enrollments", json={**older, "referral_id": sent["id"]})
    too_young = await desk.client.post(
        "/enrollments",
        json={**younger, "referral_id": (await referral(desk.client, deal["id"]))["id"]},
    )

    assert enrolled["referral_id"] == sent["id"]
    assert used.status_code == 409
    assert used.json()["code"] == "referral_already_used"
    assert too_young.status_code == 422
    assert too_young.json()["params"] == {"age": 13, "min_age": 15}
    listed = (await desk.client.get(f"/agreements/{deal['id']}/referrals")).json()
    assert {r["id"]: r["enrollment_id"] for r in listed}[sent["id"]] == enrolled["enrollment_id"]
    assert len(listed) == 2


async def test_an_agreement_not_yet_in_force_refers_nobody(
    client: httpx.AsyncClient, enrollment_body: Body
) -> None:
    deal = await agreement(client, starts_on="2099-01-01")
    sent = await referral(client, deal["id"])

    response = await client.post(
        "/enrollments", json={**enrollment_body(), "referral_id": sent["id"]}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "agreement_not_in_force"


async def test_another_associations_referral_is_unknown(
    client: httpx.AsyncClient, enrollment_body: Body, centers: dict[str, str]
) -> None:
    deal = await agreement(client)
    sent = await referral(client, deal["id"])

    response = await client.post(
        "/enrollments",
        json={**enrollment_body(center_id=centers["B"]), "referral_id": sent["id"]},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_referral"

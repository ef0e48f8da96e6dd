"""Each center's curriculum per pathway, set through the API by its association's staff (or
an administrator); the deployment's applies where a center set none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fursa.shared.clock import local_today

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Caller = Callable[[str], dict[str, str]]
ELECTRICITY = {"modules": {"literacy": 2}, "workshops": {"electricity": 2}, "workshops_required": 1}


def pathways(curriculum: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["pathway"]: p for p in curriculum["pathways"]}


async def test_a_center_sets_its_curriculum_and_its_trainings_follow_it(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    here, elsewhere = await open_training(1), await open_training(2, place="A2")
    center = here["center_id"]

    put = await client.put(
        f"/centers/{center}/curriculum/vocational_training",
        json=ELECTRICITY,
        headers=caller("staff_a"),
    )

    assert put.status_code == 200, put.text
    assert put.json()["center_curriculum"] is True
    own = pathways((await client.get("/curriculum", params={"center_id": center})).json())
    other = pathways(
        (await client.get("/curriculum", params={"center_id": elsewhere["center_id"]})).json()
    )
    assert [m["module"] for m in own["vocational_training"]["modules"]] == [
        "literacy",
        "electricity",
    ]
    assert own["school_reintegration"]["center_curriculum"] is False
    assert other["vocational_training"]["center_curriculum"] is False
    session = {
        "module": "electricity",
        "held_on": (local_today() - timedelta(days=1)).isoformat(),
        "hours": 2,
    }
    taught = await client.post(
        "/sessions", json=session | {"attendance": [{"training_id": here["id"], "present": True}]}
    )
    not_taught = await client.post(
        "/sessions",
        json=session | {"attendance": [{"training_id": elsewhere["id"], "present": True}]},
    )
    assert taught.status_code == 201, taught.text
    assert [e["rule"] for e in not_taught.json()["errors"]] == ["module_not_in_pathway"]
    progress = (await client.get(f"/trainings/{here['id']}/progress")).json()
    unmet = {u["field"]: u for u in progress["unmet"]}
    assert set(unmet) == {"literacy", "workshops_not_passed", "attendance_below_minimum"}
    # 0.75 of the center's 2 h of literacy and 2 h of electricity, not the default's hours.
    assert unmet["attendance_below_minimum"]["required"] == 3

    reset = await client.delete(
        f"/centers/{center}/curriculum/vocational_training", headers=caller("staff_a")
    )
    assert reset.json()["center_curriculum"] is False
    back = pathways((await client.get("/curriculum", params={"center_id": center})).json())
    assert "electricity" not in {m["module"] for m in back["vocational_training"]["modules"]}


async def test_only_the_centers_association_and_administrators_set_its_curriculum(
    client: httpx.AsyncClient, open_training: OpenTraining, caller: Caller
) -> None:
    training = await open_training(1)
    url = f"/centers/{training['center_id']}/curriculum/vocational_training"

    answers = {
        name: (await client.put(url, json=ELECTRICITY, headers=caller(name))).status_code
        for name in ("educator_a1", "officer_07", "directorate_071", "staff_b", "admin")
    }
    read = await client.get(
        "/curriculum", params={"center_id": training["center_id"]}, headers=caller("staff_b")
    )

    assert answers == {
        "educator_a1": 403,
        "officer_07": 403,
        "directorate_071": 403,
        "staff_b": 404,
        "admin": 200,
    }
    assert read.status_code == 404


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"modules": {"literacy": 2}, "workshops": {"literacy": 2}},
            {("workshops.literacy", "module_and_workshop")},
        ),
        (
            {"modules": {"literacy": 2}, "workshops_required": 1},
            {("workshops_required", "more_than_offered")},
        ),
        ({"modules": {"literacy": 0}}, {("modules.literacy", "greater_than")}),
        ({"modules": {}}, {("modules", "too_short")}),
        ({"modules": {"Literacy!": 2}}, {("modules.Literacy!.[key]", "string_pattern_mismatch")}),
        ({"modules": {"literacy": 2}, "hours": 3}, {("hours", "extra_forbidden")}),
    ],
)
async def test_an_impossible_curriculum_is_refused_naming_each_field(
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    body: dict[str, Any],
    errors: set[tuple[str, str]],
) -> None:
    training = await open_training(1)

    response = await client.put(
        f"/centers/{training['center_id']}/curriculum/school_reintegration", json=body
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == errors

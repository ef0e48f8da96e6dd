"""Waiting lists across centers: the nearest centers of the province with room, a place taken
there at once, and the demand left unmet, by center and commune."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.nearby import Location, distance_km
from fursa.shared.contracts import LearnerEnrolled

Body = Callable[..., dict[str, Any]]
Desk = Any
Caller = Callable[[str], dict[str, str]]

GUELIZ = (31.6346, -8.0103)  # where the demo center stands


async def new_center(
    client: httpx.AsyncClient,
    name: str,
    *,
    commune: str,
    association_id: str = DEMO_ASSOCIATION_ID,
    province_code: str = "071",
    at: tuple[float, float] | None = None,
) -> str:
    body: dict[str, Any] = {
        "name": name,
        "commune": commune,
        "province_code": province_code,
        "region_code": "07",
        "association_id": association_id,
    }
    if at is not None:
        body["latitude"], body["longitude"] = at
    response = await client.post("/centers", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def province(
    client: httpx.AsyncClient, desk: Desk, centers: dict[str, str]
) -> dict[str, str]:
    """Province 071 around the demo center (full: one place), with centers that have room and
    one that has none; association B runs one there too."""
    located = await client.put(
        f"/centers/{DEMO_CENTER_ID}/location",
        json={"latitude": GUELIZ[0], "longitude": GUELIZ[1]},
    )
    assert located.status_code == 200, located.text
    assert (located.json()["latitude"], located.json()["longitude"]) == GUELIZ
    made = {
        "far": await new_center(
            client, "Centre Tamansourt", commune="Tamansourt", at=(31.75, -8.12)
        ),
        "near": await new_center(
            client, "Centre Daoudiate", commune="Daoudiate", at=(31.656, -8.012)
        ),
        "full": await new_center(client, "Centre Sans Place", commune="Gueliz", at=(31.64, -8.01)),
        "unlocated": await new_center(
            client, "Centre Mhamid", commune="Gueliz", association_id=centers["association_B"]
        ),
        "elsewhere": centers["A2"],  # province 073
    }
    await desk.set_capacity(DEMO_CENTER_ID, 1)
    await desk.set_capacity(made["far"], 3)
    await desk.set_capacity(made["near"], 2)
    await desk.set_capacity(made["full"], 0)
    await desk.set_capacity(made["elsewhere"], 5)
    return made


async def test_a_waiting_learner_is_offered_the_nearest_centers_of_its_province_with_room(
    client: httpx.AsyncClient,
    desk: Desk,
    enrollment_body: Body,
    province: dict[str, str],
    caller: Caller,
) -> None:
    await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())
    assert waiting["status"] == "waitlisted"

    response = await client.get(
        f"/enrollments/{waiting['enrollment_id']}/places-nearby", headers=caller("staff_a")
    )

    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["center_id"], found["status"]) == (DEMO_CENTER_ID, "waitlisted")
    offered = [
        (i["center_id"], i["free_places"], i["same_commune"], i["can_place"])
        for i in found["open_intakes"]
    ]
    # Located centers by distance, then the unlocated one of the same commune (association B's:
    # shown, but not for association A's staff to place in); never the full center nor the
    # center of another province.
    assert offered == [
        (province["near"], 2, False, True),
        (province["far"], 3, False, True),
        (province["unlocated"], None, True, False),
    ]
    near, far = found["open_intakes"][0]["distance_km"], found["open_intakes"][1]["distance_km"]
    assert near == round(distance_km(Location(*GUELIZ), Location(31.656, -8.012)), 1)
    assert 2 < near < 3 < 10 < far < 20
    assert found["open_intakes"][2]["distance_km"] is None


async def test_a_place_taken_elsewhere_enrolls_at_once_keeps_the_move_and_moves_the_line_up(
    client: httpx.AsyncClient,
    desk: Desk,
    enrollment_body: Body,
    province: dict[str, str],
    caller: Caller,
) -> None:
    await desk.enroll(enrollment_body())
    first_waiting = await desk.enroll(enrollment_body())
    behind = await desk.enroll(enrollment_body())
    assert behind["waitlist_position"] == 2

    response = await client.post(
        f"/enrollments/{first_waiting['enrollment_id']}/place-elsewhere",
        json={"center_id": province["near"]},
        headers=caller("staff_a"),
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["status"], moved["center_id"], moved["waitlist_position"]) == (
        "enrolled",
        province["near"],
        None,
    )
    assert [(t["from_center_id"], t["to_center_id"]) for t in moved["transfers"]] == [
        (DEMO_CENTER_ID, province["near"])
    ]
    assert (await desk.enrollment(behind["enrollment_id"]))["waitlist_position"] == 1
    enrolled = [
        e.data
        for e in await desk.published("learner-enrolled")
        if e.data.enrollment_id == first_waiting["enrollment_id"]
    ]
    assert len(enrolled) == 1
    assert isinstance(enrolled[0], LearnerEnrolled)
    assert (enrolled[0].center_id, enrolled[0].promoted_from_waitlist) == (province["near"], True)
    places = (await client.get(f"/centers/{province['near']}")).json()["places"]
    assert [(p["places"], p["enrolled"]) for p in places] == [(2, 1)]
    audit = (await client.get("/audit", params={"entity_id": moved["enrollment_id"]})).json()
    assert "enrollment.placed_elsewhere" in {entry["action"] for entry in audit}


async def test_a_place_elsewhere_is_refused_with_the_reason(
    client: httpx.AsyncClient,
    desk: Desk,
    enrollment_body: Body,
    province: dict[str, str],
    caller: Caller,
) -> None:
    holding = await desk.enroll(enrollment_body())
    waiting = await desk.enroll(enrollment_body())

    async def place(enrollment: dict[str, Any], center: str, who: str) -> httpx.Response:
        return await client.post(
            f"/enrollments/{enrollment['enrollment_id']}/place-elsewhere",
            json={"center_id": center},
            headers=caller(who),
        )

    not_waiting = await place(holding, province["near"], "staff_a")
    assert (not_waiting.status_code, not_waiting.json()["code"]) == (409, "not_waiting")
    full = await place(waiting, province["full"], "staff_a")
    assert (full.status_code, full.json()["code"]) == (409, "center_full")
    foreign_center = await place(waiting, province["unlocated"], "staff_a")
    assert (foreign_center.status_code, foreign_center.json()["code"]) == (404, "unknown_center")
    foreign_learner = await client.get(
        f"/enrollments/{waiting['enrollment_id']}/places-nearby", headers=caller("staff_b")
    )
    assert foreign_learner.status_code == 404
    assert (await desk.enrollment(waiting["enrollment_id"]))["status"] == "waitlisted"


async def test_the_directorate_sees_unmet_demand_by_center_and_commune(
    client: httpx.AsyncClient,
    desk: Desk,
    enrollment_body: Body,
    province: dict[str, str],
    caller: Caller,
) -> None:
    for _ in range(7):  # one place: one enrolled, six waiting
        await desk.enroll(enrollment_body())

    response = await client.get(
        "/statistics/demand",
        params={"school_year": "2025/2026"},
        headers=caller("directorate_071"),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    rows = {row["center_id"]: row for row in report["centers"]}
    assert province["elsewhere"] not in rows  # province 073: not this directorate's
    demo = rows[DEMO_CENTER_ID]
    assert (demo["places"], demo["enrolled"], demo["waitlisted"]) == (1, 1, 6)
    assert (rows[province["near"]]["places"], rows[province["near"]]["waitlisted"]) == (2, 0)
    communes = {(c["commune"], c["pathway"]): c for c in report["communes"]}
    gueliz = communes[("Gueliz", "vocational_training")]
    assert (gueliz["free_places"], gueliz["waitlisted"]) == (0, 6)  # the full center: none
    assert communes[("Tamansourt", "vocational_training")]["free_places"] == 3

    published = await client.get(
        "/statistics/demand",
        params={"school_year": "2025/2026", "publication": "true"},
        headers=caller("directorate_071"),
    )
    demo = {row["center_id"]: row for row in published.json()["centers"]}[DEMO_CENTER_ID]
    assert (demo["enrolled"], demo["waitlisted"]) == (None, 6)  # 1 could single a child out


async def test_a_center_is_located_by_both_coordinates_or_neither(
    client: httpx.AsyncClient, centers: dict[str, str]
) -> None:
    response = await client.post(
        "/centers",
        json={
            "name": "Centre Sans Longitude",
            "commune": "Gueliz",
            "province_code": "071",
            "region_code": "07",
            "association_id": DEMO_ASSOCIATION_ID,
            "latitude": 31.6,
        },
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["longitude"]
    out_of_range = await client.put(
        f"/centers/{DEMO_CENTER_ID}/location", json={"latitude": 95, "longitude": -8}
    )
    assert out_of_range.status_code == 422
    assert "latitude" in out_of_range.text

"""Reference data: associations, centers with capacity and workshops, school years,
pathways, partnership agreements — who may set them up, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.shared.contracts import LearnerEnrolled, parse_event
from fursa.shared.testing.kernel import stream_count, wait_until

Caller = Callable[[str], dict[str, str]]
Body = Callable[..., dict[str, Any]]


async def test_administrators_register_associations_and_open_centers(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    association = await client.post("/associations", json={"name": "Association Tanmia"})
    center = await client.post(
        "/centers",
        json={
            "name": "Centre Tanmia Sidi Bernoussi",
            "commune": "Sidi Bernoussi",
            "province_code": "141",
            "region_code": "06",
            "association_id": association.json()["id"],
        },
    )
    by_staff = await client.post("/associations", json={"name": "Mine"}, headers=caller("staff_a"))

    assert association.status_code == center.status_code == 201
    assert center.json()["association_id"] == association.json()["id"]
    assert by_staff.status_code == 403
    listed = (await client.get("/associations", headers=caller("staff_a"))).json()
    assert [a["id"] for a in listed] == [DEMO_ASSOCIATION_ID]


@pytest.mark.parametrize(
    ("name", "seen"),
    [
        ("directorate_071", {"A"}),
        ("directorate_141", {"B"}),
        ("officer_06", {"B"}),
        ("educator_a2", {"A"}),
        ("staff_b", {"B"}),
    ],
)
async def test_the_associations_seen_are_those_running_a_center_in_scope(
    client: httpx.AsyncClient,
    caller: Caller,
    centers: dict[str, str],
    name: str,
    seen: set[str],
) -> None:
    ids = {"A": DEMO_ASSOCIATION_ID, "B": centers["association_B"]}
    (
        await client.post("/associations", json={"name": "Association sans centre"})
    ).raise_for_status()

    listed = (await client.get("/associations", headers=caller(name))).json()

    assert {a["id"] for a in listed} == {ids[each] for each in seen}


async def test_a_center_of_an_unknown_association_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/centers",
        json={
            "name": "Centre X",
            "commune": "X",
            "province_code": "141",
            "region_code": "06",
            "association_id": "00000000-0000-4000-8000-000000000000",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_association"


async def test_staff_set_capacity_and_workshops_of_their_own_centers_only(
    client: httpx.AsyncClient, caller: Caller, centers: dict[str, str]
) -> None:
    capacity = {"pathway": "vocational_training", "school_year": "2025/2026", "places": 25}

    own = await client.put(
        f"/centers/{DEMO_CENTER_ID}/capacity", json=capacity, headers=caller("staff_a")
    )
    workshops = await client.put(
        f"/centers/{DEMO_CENTER_ID}/workshops",
        json={"workshops": ["tailoring", "cooking", "tailoring"]},
        headers=caller("staff_a"),
    )
    other = await client.put(
        f"/centers/{centers['B']}/capacity", json=capacity, headers=caller("staff_a")
    )
    educator = await client.put(
        f"/centers/{DEMO_CENTER_ID}/capacity", json=capacity, headers=caller("educator_a1")
    )

    assert own.status_code == 200
    assert own.json()["places"][0]["places"] == 25
    assert workshops.json()["workshops"] == ["cooking", "tailoring"]
    assert other.status_code == 404
    assert educator.status_code == 403
    seen = await client.get(f"/centers/{DEMO_CENTER_ID}", headers=caller("educator_a1"))
    assert seen.json()["workshops"] == ["cooking", "tailoring"]


async def test_capacity_refuses_negative_places_and_unknown_years(
    client: httpx.AsyncClient,
) -> None:
    url = f"/centers/{DEMO_CENTER_ID}/capacity"

    negative = await client.put(
        url, json={"pathway": "vocational_training", "school_year": "2025/2026", "places": -1}
    )
    unknown_year = await client.put(
        url, json={"pathway": "vocational_training", "school_year": "2031/2032", "places": 5}
    )
    wrong_type = await client.put(
        url, json={"pathway": "vocational_training", "school_year": "2025/2026", "places": "ten"}
    )

    assert negative.status_code == unknown_year.status_code == wrong_type.status_code == 422
    assert negative.json()["errors"][0]["field"] == "places"
    assert unknown_year.json()["code"] == "unknown_school_year"
    assert wrong_type.json()["errors"][0]["rule"] == "int_parsing"


async def test_school_years_refuse_impossible_dates_and_bounds(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    year = {"code": "2027/2028", "starts_on": "2027-09-01", "ends_on": "2028-07-31"}

    opened = await client.put("/school-years", json=year)
    backwards = await client.put("/school-years", json={**year, "ends_on": "2027-01-31"})
    bounds = await client.put("/school-years", json={**year, "min_age": 17, "max_age": 12})
    impossible = await client.put("/school-years", json={**year, "starts_on": "2027-02-30"})
    by_staff = await client.put("/school-years", json=year, headers=caller("staff_a"))

    assert opened.status_code == 200
    assert (opened.json()["min_age"], opened.json()["max_age"]) == (12, 18)
    assert backwards.json()["code"] == "ends_before_it_starts"
    assert bounds.json()["code"] == "min_age_above_max_age"
    assert impossible.json()["errors"][0]["field"] == "starts_on"
    assert by_staff.status_code == 403
    codes = [y["code"] for y in (await client.get("/school-years")).json()]
    assert codes == ["2025/2026", "2026/2027", "2027/2028"]


async def test_pathways_are_named_in_both_languages(client: httpx.AsyncClient) -> None:
    pathways = (await client.get("/pathways")).json()

    assert [p["code"] for p in pathways] == [
        "school_reintegration",
        "vocational_training",
        "socio_professional_insertion",
    ]
    assert pathways[1]["ar"] == "التكوين المهني"


async def test_agreements_belong_to_their_association(
    client: httpx.AsyncClient, caller: Caller, centers: dict[str, str]
) -> None:
    agreement = {
        "association_id": DEMO_ASSOCIATION_ID,
        "partner_name": "Centre d'addictologie de Marrakech",
        "purpose": "Orientation des enfants suivis",
        "starts_on": "2025-01-01",
        "ends_on": "2027-12-31",
    }

    created = await client.post("/agreements", json=agreement, headers=caller("staff_a"))
    for_other = await client.post(
        "/agreements",
        json={**agreement, "association_id": centers["association_B"]},
        headers=caller("staff_a"),
    )
    backwards = await client.post("/agreements", json={**agreement, "ends_on": "2024-01-01"})
    seen_by_b = await client.get(f"/agreements/{created.json()['id']}", headers=caller("staff_b"))

    assert created.status_code == 201
    assert for_other.status_code == 422
    assert backwards.json()["code"] == "ends_before_it_starts"
    assert seen_by_b.status_code == 404
    assert (await client.get("/agreements", headers=caller("staff_b"))).json() == []


async def test_centers_and_associations_are_named_in_arabic_and_french(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    association = await client.post(
        "/associations", json={"name": "Association Tanmia", "name_ar": "جمعية التنمية"}
    )
    association_id = association.json()["id"]
    # A client that knows only `name` still opens a center: the name is the French one.
    center = await client.post(
        "/centers",
        json={
            "name": "Centre Tanmia Sidi Bernoussi",
            "commune": "Sidi Bernoussi",
            "province_code": "141",
            "region_code": "06",
            "association_id": association_id,
        },
    )
    center_id = center.json()["id"]
    named = await client.put(
        f"/centers/{center_id}/names",
        json={"name": "Centre Tanmia Sidi Bernoussi", "name_ar": "مركز التنمية سيدي البرنوصي"},
    )
    swapped = await client.put(
        f"/centers/{center_id}/names", json={"name": "مركز", "name_ar": "Centre Tanmia"}
    )
    by_staff = await client.put(
        f"/associations/{DEMO_ASSOCIATION_ID}/names",
        json={"name": "Association Al-Amal", "name_ar": "جمعية"},
        headers=caller("staff_a"),
    )
    unknown = await client.put(
        "/centers/00000000-0000-4000-8000-000000000000/names", json={"name": "Centre X"}
    )

    assert association.status_code == center.status_code == 201
    assert association.json()["name_ar"] == "جمعية التنمية"
    assert center.json()["name"] == "Centre Tanmia Sidi Bernoussi"
    assert center.json()["name_ar"] is None
    assert named.status_code == 200
    assert named.json()["name_ar"] == "مركز التنمية سيدي البرنوصي"
    assert swapped.status_code == 422
    assert [error["field"] for error in swapped.json()["errors"]] == ["name_ar"]
    assert by_staff.status_code == 403
    assert unknown.status_code == 404
    listed = {c["id"]: c for c in (await client.get("/centers")).json()}
    assert listed[center_id]["name"] == "Centre Tanmia Sidi Bernoussi"
    assert listed[center_id]["name_ar"] == "مركز التنمية سيدي البرنوصي"
    associations = {a["id"]: a for a in (await client.get("/associations")).json()}
    assert associations[association_id]["name_ar"] == "جمعية التنمية"
    assert associations[DEMO_ASSOCIATION_ID]["name_ar"] == "جمعية الأمل"


async def test_learner_enrolled_carries_the_centers_arabic_name_and_the_birth_place(
    client: httpx.AsyncClient, js: JetStreamContext, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body["learner"] |= {"birth_place_ar": "مراكش", "birth_place_fr": "Marrakech"}

    response = await client.post("/enrollments", json=body)

    assert response.status_code == 201, response.text
    await wait_until(lambda: _published(js))
    message = await js.get_msg("ENROLLMENT", 1)
    assert message.data is not None
    data = parse_event(message.data).data
    assert isinstance(data, LearnerEnrolled)
    assert (data.center_name, data.center_name_ar) == ("Centre Al-Nasr", "مركز النصر")
    assert (data.pii.birth_place_ar, data.pii.birth_place_fr) == ("مراكش", "Marrakech")
    learner = await client.get(f"/learners/{data.learner_id}")
    assert learner.json()["birth_place_fr"] == "Marrakech"


async def _published(js: JetStreamContext) -> bool:
    return await stream_count(js, "ENROLLMENT") >= 1

"""Statistics for the directorate: counts by dimension, within the caller's territory, as
JSON or CSV, with small cells suppressed for publication."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
Desk = Any


async def populate(desk: Desk, enrollment_body: Body, centers: dict[str, str]) -> None:
    """Seven girls aged 14 and one boy aged 16 in A1 (one withdrawn), two in B."""
    for _ in range(7):
        await desk.enroll(enrollment_body())
    boy = enrollment_body()
    boy["learner"].update(sex="male", birth_date="2009-05-01", nationality="SN")
    leaving = await desk.enroll(boy)
    await desk.client.post(
        f"/enrollments/{leaving['enrollment_id']}/withdrawal", json={"reason": "work"}
    )
    for _ in range(2):
        await desk.enroll(enrollment_body(center_id=centers["B"]))


async def test_counts_by_center_sex_age_band_and_nationality(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await populate(desk, enrollment_body, centers)

    response = await desk.client.get(
        "/statistics",
        params={"by": ["center", "sex", "age_band", "nationality"]},
    )

    assert response.status_code == 200
    rows = {tuple(row["group"].values()): row for row in response.json()["rows"]}
    assert rows[(DEMO_CENTER_ID, "female", "12_14", "MA")]["enrolled"] == 7
    boy = rows[(DEMO_CENTER_ID, "male", "15_17", "SN")]
    assert (boy["enrolled"], boy["withdrawn"]) == (0, 1)
    assert rows[(centers["B"], "female", "12_14", "MA")]["enrolled"] == 2


async def test_all_six_dimensions_by_default(desk: Desk, enrollment_body: Body) -> None:
    await desk.enroll(enrollment_body())

    body = (await desk.client.get("/statistics")).json()

    assert body["by"] == ["center", "pathway", "sex", "age_band", "nationality", "school_year"]
    [row] = body["rows"]
    assert row["group"] == {
        "center": DEMO_CENTER_ID,
        "pathway": "vocational_training",
        "sex": "female",
        "age_band": "12_14",
        "nationality": "MA",
        "school_year": "2025/2026",
    }
    assert (row["waitlisted"], row["enrolled"], row["withdrawn"], row["completed"]) == (0, 1, 0, 0)


async def test_publication_suppresses_counts_under_five(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await populate(desk, enrollment_body, centers)

    published = await desk.client.get(
        "/statistics", params={"by": "center", "publication": "true", "format": "csv"}
    )

    assert published.headers["content-type"] == "text/csv; charset=utf-8"
    assert published.text.splitlines() == [
        "center,waitlisted,enrolled,withdrawn,completed",
        f"{DEMO_CENTER_ID},0,7,<5,0",
        f"{centers['B']},0,<5,0,0",
    ]


@pytest.mark.parametrize(
    ("name", "centers_seen"),
    [("directorate_071", {"A1"}), ("directorate_141", {"B"}), ("officer_07", {"A1"})],
)
async def test_the_directorate_counts_only_its_territory(
    desk: Desk,
    caller: Caller,
    enrollment_body: Body,
    centers: dict[str, str],
    name: str,
    centers_seen: set[str],
) -> None:
    await populate(desk, enrollment_body, centers)

    response = await desk.client.get("/statistics", params={"by": "center"}, headers=caller(name))

    assert {row["group"]["center"] for row in response.json()["rows"]} == {
        centers[seen] for seen in centers_seen
    }


async def test_partners_get_no_statistics_and_bad_dimensions_are_refused(
    desk: Desk, caller: Caller
) -> None:
    partner = await desk.client.get("/statistics", headers=caller("partner"))
    unknown = await desk.client.get("/statistics", params={"by": "religion"})
    bad_year = await desk.client.get("/statistics", params={"school_year": "2025/2027"})

    assert partner.status_code == 403
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "query.by.0"
    assert bad_year.status_code == 422


async def test_counts_by_association_with_small_cells_withheld(
    desk: Desk, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await populate(desk, enrollment_body, centers)
    await desk.enroll(enrollment_body(center_id=centers["A2"]))

    exact = await desk.client.get("/statistics", params={"by": "association"})
    published = await desk.client.get(
        "/statistics", params={"by": "association", "publication": "true"}
    )

    counts = {
        row["group"]["association"]: (row["enrolled"], row["withdrawn"])
        for row in exact.json()["rows"]
    }
    assert counts == {DEMO_ASSOCIATION_ID: (8, 1), centers["association_B"]: (2, 0)}
    withheld = {
        row["group"]["association"]: (row["enrolled"], row["withdrawn"])
        for row in published.json()["rows"]
    }
    assert withheld == {DEMO_ASSOCIATION_ID: (8, None), centers["association_B"]: (None, 0)}


@pytest.mark.parametrize(
    ("name", "associations_seen"),
    [("directorate_071", {"A"}), ("directorate_141", {"B"}), ("officer_06", {"B"})],
)
async def test_counts_by_association_only_within_the_territory(
    desk: Desk,
    caller: Caller,
    enrollment_body: Body,
    centers: dict[str, str],
    name: str,
    associations_seen: set[str],
) -> None:
    await populate(desk, enrollment_body, centers)
    ids = {"A": DEMO_ASSOCIATION_ID, "B": centers["association_B"]}

    response = await desk.client.get(
        "/statistics", params={"by": "association"}, headers=caller(name)
    )

    assert {row["group"]["association"] for row in response.json()["rows"]} == {
        ids[seen] for seen in associations_seen
    }

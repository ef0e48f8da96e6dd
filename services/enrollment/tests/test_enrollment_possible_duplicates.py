"""Possible duplicates at the desk: the warning at enrolment and import, the review queue
within scope, and staff's decisions (different, or same person: a merge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
Desk = Any


def abdellah(body: dict[str, Any], first: str = "Abdellah", first_ar: str = "عبد الله") -> None:
    """The learner of ``body`` becomes Abdellah Benali, with no Massar code."""
    body["learner"].update(
        first_name_ar=first_ar,
        last_name_ar="بنعلي",
        first_name_latin=first,
        last_name_latin="Benali",
        sex="male",
        birth_date="2011-03-14",
        massar_code=None,
    )


async def two_records(desk: Desk, enrollment_body: Body) -> tuple[dict[str, Any], dict[str, Any]]:
    """Abdellah Benali enrolled, then Abdullah Benali (born 14/03 typed 03/14: same day)."""
    first = enrollment_body()
    abdellah(first)
    earlier = await desk.enroll(first)
    second = enrollment_body()
    abdellah(second, first="Abdullah", first_ar="عبدالله")
    second["learner"]["birth_date"] = "2011-03-14"
    later = await desk.enroll(second)
    return earlier, later


async def test_enrolment_warns_of_a_possible_duplicate_with_the_earlier_learner(
    desk: Desk, enrollment_body: Body
) -> None:
    earlier, later = await two_records(desk, enrollment_body)

    assert earlier["possible_duplicates"] == []
    assert [found["learner_id"] for found in later["possible_duplicates"]] == [
        earlier["learner_id"]
    ]
    assert later["possible_duplicates"][0]["score"] >= 0.85
    assert later["status"] == "enrolled"


async def test_the_review_queue_is_seen_only_by_those_who_see_both_learners(
    desk: Desk, enrollment_body: Body, caller: Caller, centers: dict[str, str]
) -> None:
    earlier, later = await two_records(desk, enrollment_body)

    queue_a = (await desk.client.get("/learners/duplicates", headers=caller("staff_a"))).json()
    queue_b = (await desk.client.get("/learners/duplicates", headers=caller("staff_b"))).json()
    decided_by_b = await desk.client.post(
        f"/learners/{later['learner_id']}/duplicates/{earlier['learner_id']}",
        json={"same_person": False},
        headers=caller("staff_b"),
    )

    assert [(r["learner_id"], r["earlier_learner_id"]) for r in queue_a] == [
        (later["learner_id"], earlier["learner_id"])
    ]
    assert queue_b == []
    assert decided_by_b.status_code == 404


async def test_different_closes_the_pair_for_good(desk: Desk, enrollment_body: Body) -> None:
    earlier, later = await two_records(desk, enrollment_body)
    url = f"/learners/{later['learner_id']}/duplicates/{earlier['learner_id']}"

    decided = await desk.client.post(url, json={"same_person": False})
    again = await desk.client.post(url, json={"same_person": True})

    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "different"
    assert (await desk.client.get("/learners/duplicates")).json() == []
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_already_decided"


async def test_same_person_merges_the_later_record_into_the_earlier(
    desk: Desk, enrollment_body: Body
) -> None:
    earlier, later = await two_records(desk, enrollment_body)
    withdrawn = await desk.client.post(
        f"/enrollments/{earlier['enrollment_id']}/withdrawal", json={"reason": "moved"}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    decided = await desk.client.post(
        f"/learners/{later['learner_id']}/duplicates/{earlier['learner_id']}",
        json={"same_person": True},
    )
    kept = (await desk.client.get(f"/learners/{earlier['learner_id']}")).json()
    moved = await desk.enrollment(later["enrollment_id"])
    found = (await desk.client.get("/learners", params={"name": "Benali"})).json()

    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "same_person"
    assert kept["enrollment_ids"] == [earlier["enrollment_id"], later["enrollment_id"]]
    assert moved["learner_id"] == earlier["learner_id"]
    assert (await desk.client.get(f"/learners/{later['learner_id']}")).status_code == 404
    assert [item["id"] for item in found["items"]] == [earlier["learner_id"]]
    assert found["items"][0]["current_enrollment"]["status"] == "enrolled"


async def test_a_merge_waits_until_one_of_two_active_enrolments_is_closed(
    desk: Desk, enrollment_body: Body
) -> None:
    earlier, later = await two_records(desk, enrollment_body)

    refused = await desk.client.post(
        f"/learners/{later['learner_id']}/duplicates/{earlier['learner_id']}",
        json={"same_person": True},
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "merge_needs_one_active_enrollment"
    assert len((await desk.client.get("/learners/duplicates")).json()) == 1


async def test_an_import_row_carries_the_warning(desk: Desk, enrollment_body: Body) -> None:
    body = enrollment_body()
    abdellah(body)
    earlier = await desk.enroll(body)
    cells = {
        "first_name_ar": "عبدالله",
        "last_name_ar": "بن علي",
        "first_name_latin": "Abdallah",
        "last_name_latin": "Ben Ali",
        "birth_date": "2011-03-14",
        "sex": "male",
        "last_school_level": "primary_5",
        "year_left_school": "2023",
        "guardian_name": "Fatima Benali",
        "guardian_phone": "+212698765432",
        "guardian_language": "ar",
        "consent_data_use": "true",
        "consent_notifications": "true",
        "center_id": body["center_id"],
        "pathway": "vocational_training",
        "school_year": "2025/2026",
    }

    response = await desk.client.post(
        "/imports/learners", json={"rows": [{"line": 2, "key": "a" * 64, "cells": cells}]}
    )

    assert response.status_code == 200, response.text
    row = response.json()["rows"][0]
    assert row["status"] == "enrolled", row
    assert [found["learner_id"] for found in row["possible_duplicates"]] == [earlier["learner_id"]]

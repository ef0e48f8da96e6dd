"""Adult learners at the enrollment desk: from 18 the learner is their own contact (their own
phone required, a guardian optional); under 18 a guardian is still required. The age is the
learner's on the day of the enrolment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fursa.shared.clock import local_today

Body = Callable[..., dict[str, Any]]
Desk = Any
CONTACT = {"phone": "+212677001122", "email": "amine@example.ma", "preferred_language": "fr"}


def eighteenth_birthday_today() -> date:
    today = local_today()
    try:
        return today.replace(year=today.year - 18)
    except ValueError:  # 29 February: of age since 1 March
        return date(today.year - 18, 3, 1) - timedelta(days=1)


def learner_born(body: dict[str, Any], born: date) -> dict[str, Any]:
    return {**body["learner"], "birth_date": born.isoformat(), "massar_code": None}


async def test_an_adult_enrols_as_their_own_contact_without_a_guardian(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body.pop("guardian")
    born = eighteenth_birthday_today()
    created = await desk.enroll({**body, "learner": learner_born(body, born), "contact": CONTACT})

    record = (await desk.client.get(f"/learners/{created['learner_id']}")).json()
    assert record["contact"] == CONTACT
    assert record["guardian"]["phone"] is None
    [enrolled] = await desk.published("learner-enrolled")
    assert enrolled.data.pii.contact.phone == CONTACT["phone"]
    # v1 requires a guardian block: it repeats the adult's own contact.
    assert enrolled.data.pii.guardian.phone == CONTACT["phone"]


async def test_under_eighteen_a_guardian_is_still_required(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body.pop("guardian")
    born = eighteenth_birthday_today() + timedelta(days=1)

    response = await desk.client.post(
        "/enrollments", json={**body, "learner": learner_born(body, born), "contact": CONTACT}
    )

    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["params"]) == (
        "contact_missing",
        {"field": "guardian", "age": 17},
    )


async def test_an_adult_gives_their_own_phone_even_with_a_guardian(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    born = eighteenth_birthday_today()

    response = await desk.client.post(
        "/enrollments", json={**body, "learner": learner_born(body, born)}
    )

    assert response.status_code == 422
    assert response.json()["params"] == {"field": "contact.phone", "age": 18}


async def test_a_learner_who_comes_of_age_gets_their_own_phone_by_a_correction(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())

    response = await desk.client.patch(
        f"/learners/{created['learner_id']}", json={"contact": {"phone": CONTACT["phone"]}}
    )

    assert response.status_code == 200, response.text
    [updated] = await desk.published("learner-updated")
    assert updated.data.changed == ["contact.phone"]
    assert updated.data.pii.contact.phone == CONTACT["phone"]
    assert updated.data.pii.guardian.name == "Fatima Benali"

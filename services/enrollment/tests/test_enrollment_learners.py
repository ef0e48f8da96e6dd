"""A learner's record: reading it within scope, corrections and consent (learner-updated),
the audit log, the subject-access export and erasure (learner-erased)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from fursa.shared.contracts import LearnerErased, LearnerUpdated
from fursa.shared.runtime import ServiceRuntime

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
Desk = Any
# RFC 3339 date-time: a date, a time and an offset (`Z` or ±hh:mm), nothing left implicit.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def is_rfc3339_with_offset(value: object) -> bool:
    return isinstance(value, str) and RFC3339.match(value) is not None


async def test_a_learners_record_holds_identity_schooling_guardian_and_consent(
    desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    body["learner"].update(nationality="SN", special_needs="Malvoyant")
    created = await desk.enroll(body)

    learner = (await desk.client.get(f"/learners/{created['learner_id']}")).json()

    assert learner["first_name_ar"] == "سلمى"
    assert (learner["nationality"], learner["special_needs"]) == ("SN", "Malvoyant")
    assert (learner["last_school_level"], learner["year_left_school"]) == ("primary_5", 2023)
    assert learner["guardian"]["phone"] == body["guardian"]["phone"]
    assert learner["consent"]["data_use"] is True
    assert learner["consent"]["recorded_by"] == "dev-admin"
    assert learner["enrollment_ids"] == [created["enrollment_id"]]


async def test_a_learner_is_read_only_within_the_callers_scope(
    desk: Desk, caller: Caller, enrollment_body: Body, centers: dict[str, str]
) -> None:
    created = await desk.enroll(enrollment_body())
    url = f"/learners/{created['learner_id']}"

    seen = {
        name: (await desk.client.get(url, headers=caller(name))).status_code
        for name in ("staff_a", "educator_a1", "staff_b", "educator_a2", "directorate_141")
    }
    educator_change = await desk.client.patch(
        url, json={"sex": "male"}, headers=caller("educator_a1")
    )
    other_association = await desk.client.patch(
        url, json={"sex": "male"}, headers=caller("staff_b")
    )

    assert seen == {
        "staff_a": 200,
        "educator_a1": 200,
        "staff_b": 404,
        "educator_a2": 404,
        "directorate_141": 404,
    }
    assert educator_change.status_code == 403
    assert other_association.status_code == 404


async def test_a_correction_publishes_learner_updated_naming_what_changed(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())
    url = f"/learners/{created['learner_id']}"

    response = await desk.client.patch(
        url,
        json={
            "first_name_latin": "Selma",
            "birth_date": "2011-04-14",
            "guardian": {"phone": "+212699999999"},
        },
    )
    unchanged = await desk.client.patch(url, json={"first_name_latin": "Selma"})

    assert response.status_code == 200, response.text
    assert response.json()["guardian"]["phone"] == "+212699999999"
    assert unchanged.status_code == 200
    [updated] = await desk.published("learner-updated")
    assert isinstance(updated.data, LearnerUpdated)
    assert updated.subject == created["learner_id"]
    assert updated.sequence == 2
    assert updated.data.changed == ["birth_date", "first_name_latin", "guardian.phone"]
    assert updated.data.pii.guardian.phone == "+212699999999"
    assert str(updated.data.pii.birth_date) == "2011-04-14"


async def test_a_correction_refuses_bad_input_naming_the_field(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())
    url = f"/learners/{created['learner_id']}"

    cases = {
        "unknown": {"nickname": "Sally"},
        "null": {"first_name_ar": None},
        "type": {"year_left_school": "last year"},
        "date": {"birth_date": "2011-13-01"},
        "script": {"first_name_ar": "Salma"},
    }
    answers = {name: await desk.client.patch(url, json=body) for name, body in cases.items()}

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(cases, 422)
    rules = {name: answers[name].json()["errors"][0] for name in cases}
    assert (rules["unknown"]["field"], rules["unknown"]["rule"]) == ("nickname", "extra_forbidden")
    assert (rules["null"]["field"], rules["null"]["rule"]) == ("first_name_ar", "missing")
    assert rules["type"]["rule"] == "int_parsing"
    assert rules["date"]["field"] == "birth_date"
    assert rules["script"]["rule"] == "string_pattern_mismatch"
    assert await desk.published("learner-updated") == []


async def test_a_correction_that_makes_a_duplicate_is_refused(
    desk: Desk, enrollment_body: Body
) -> None:
    first = await desk.enroll(enrollment_body())
    second = await desk.enroll(enrollment_body())
    massar = (await desk.client.get(f"/learners/{first['learner_id']}")).json()["massar_code"]

    response = await desk.client.patch(
        f"/learners/{second['learner_id']}", json={"massar_code": massar}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_enrollment"


async def test_a_consent_change_is_recorded_with_date_and_author(
    desk: Desk, caller: Caller, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())

    response = await desk.client.put(
        f"/learners/{created['learner_id']}/consent",
        json={"data_use": True, "notifications": False},
        headers=caller("staff_a"),
    )

    assert response.status_code == 200, response.text
    consent = response.json()["consent"]
    assert (consent["notifications"], consent["recorded_by"]) == (False, "dev-association_staff")
    [updated] = await desk.published("learner-updated")
    assert updated.data.changed == ["consent.notifications"]
    assert updated.data.pii.consent.notifications is False


async def test_every_change_is_in_the_audit_log_read_within_each_readers_scope(
    desk: Desk, caller: Caller, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body(), headers=caller("staff_a"))
    await desk.client.patch(f"/learners/{created['learner_id']}", json={"sex": "male"})

    log = await desk.client.get("/audit", params={"learner_id": created["learner_id"]})

    assert log.status_code == 200
    entries = log.json()
    assert [(e["action"], e["actor"], e["role"]) for e in entries] == [
        ("enrollment.enrolled", "dev-association_staff", "association_staff"),
        ("learner.corrected", "dev-admin", "admin"),
    ]
    # The fields corrected, never their values: the log is read beyond the association.
    assert entries[1]["details"] == {"changed": ["sex"]}
    assert all(is_rfc3339_with_offset(e["at"]) for e in entries), entries
    for entry in entries:
        assert (entry["association_id"], entry["center_id"]) == (
            created["association_id"],
            created["center_id"],
        )
        assert (entry["province_code"], entry["region_code"]) == ("071", "07")
    params = {"learner_id": created["learner_id"]}
    for reader in ("staff_a", "officer_07", "directorate_071", "directorate_r07"):
        seen = await desk.client.get("/audit", params=params, headers=caller(reader))
        assert seen.json() == entries, reader
    for stranger in ("staff_b", "officer_06", "directorate_141"):
        seen = await desk.client.get("/audit", params=params, headers=caller(stranger))
        assert seen.json() == [], stranger
    educator = await desk.client.get("/audit", headers=caller("educator_a1"))
    assert educator.status_code == 403


async def test_the_subject_access_export_holds_everything_on_the_learner(
    desk: Desk, enrollment_body: Body
) -> None:
    created = await desk.enroll(enrollment_body())
    await desk.client.post(
        f"/enrollments/{created['enrollment_id']}/withdrawal", json={"reason": "moved"}
    )

    response = await desk.client.get(f"/learners/{created['learner_id']}/export")

    assert response.status_code == 200
    export = response.json()
    assert export["learner"]["first_name_ar"] == "سلمى"
    assert export["learner"]["guardian_phone"] is not None
    assert [e["status"] for e in export["enrollments"]] == ["withdrawn"]
    assert [e["action"] for e in export["audit"]] == [
        "enrollment.enrolled",
        "enrollment.withdrawn",
    ]
    assert [e["type"] for e in export["events"]] == [
        "fursa.enrollment.learner-enrolled.v1",
        "fursa.enrollment.learner-withdrawn.v1",
    ]
    instants = [e["at"] for e in export["audit"]] + [e["created_at"] for e in export["events"]]
    assert all(is_rfc3339_with_offset(instant) for instant in instants), instants


async def test_erasure_waits_for_the_enrollment_to_close(desk: Desk, enrollment_body: Body) -> None:
    created = await desk.enroll(enrollment_body())

    response = await desk.client.post(f"/learners/{created['learner_id']}/erasure")

    assert response.status_code == 409
    assert response.json()["code"] == "erasure_needs_closed_enrollments"


async def test_erasure_forgets_the_learner_everywhere_and_publishes_learner_erased(
    app: FastAPI, desk: Desk, enrollment_body: Body
) -> None:
    body = enrollment_body()
    created = await desk.enroll(body)
    learner_url = f"/learners/{created['learner_id']}"
    await desk.client.patch(learner_url, json={"first_name_latin": "Selma"})
    await desk.client.post(
        f"/enrollments/{created['enrollment_id']}/withdrawal", json={"reason": "moved"}
    )
    await desk.published()  # the relay has sent every event so far

    response = await desk.client.post(f"{learner_url}/erasure")
    again = await desk.client.post(f"{learner_url}/erasure")

    assert response.status_code == again.status_code == 200
    erased = response.json()
    # Read back from the database (the second answer) as well as just written (the first).
    assert is_rfc3339_with_offset(erased["erased_at"]), erased["erased_at"]
    assert again.json()["erased_at"] == erased["erased_at"]
    read = (await desk.client.get(learner_url)).json()
    assert read["erased_at"] == erased["erased_at"]
    assert erased["first_name_ar"] is erased["guardian"]["phone"] is erased["birth_date"] is None
    [event] = await desk.published("learner-erased")
    assert isinstance(event.data, LearnerErased)
    assert event.data.enrollment_ids == [created["enrollment_id"]]
    runtime: ServiceRuntime = app.state.runtime
    secrets = ("سلمى", "Salma", "Selma", body["guardian"]["phone"], body["learner"]["massar_code"])
    async with runtime.db.connect() as connection:
        outbox = [
            row.payload.decode()
            for row in await connection.execute(
                select(runtime.tables.outbox.c.payload).order_by(runtime.tables.outbox.c.position)
            )
        ]
        audit = [
            str(row.details)
            for row in await connection.exec_driver_sql("SELECT details FROM auditentry")
        ]
    for secret in secrets:
        assert not any(secret in payload for payload in outbox), secret
        assert not any(secret in details for details in audit), secret
    assert json.loads(outbox[0])["data"]["pii"] is None
    corrected = await desk.client.patch(learner_url, json={"first_name_latin": "Salma"})
    assert corrected.status_code == 409
    assert corrected.json()["code"] == "learner_erased"
    summary = (await desk.client.get("/enrollments/summary")).json()
    assert summary["withdrawn"] == 1  # the record stays, anonymous, for the statistics


async def test_personal_data_stays_out_of_the_logs(
    desk: Desk, enrollment_body: Body, caplog: Any
) -> None:
    body = enrollment_body()
    caplog.set_level("INFO")  # the level the services log at (shared/logging.json)

    created = await desk.enroll(body)
    url = f"/learners/{created['learner_id']}"
    await desk.client.patch(url, json={"first_name_latin": "Selma"})

    logged = "\n".join(
        record.getMessage() for record in caplog.records if record.levelno >= logging.INFO
    )
    assert "learner.corrected" in logged
    phone, massar = body["guardian"]["phone"], body["learner"]["massar_code"]
    for secret in ("سلمى", "Salma", "Selma", phone, massar):
        assert secret not in logged


async def test_learners_of_an_unknown_id_are_not_found(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"

    answers = [
        await client.get(f"/learners/{missing}"),
        await client.patch(f"/learners/{missing}", json={"sex": "male"}),
        await client.get(f"/learners/{missing}/export"),
        await client.post(f"/learners/{missing}/erasure"),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]

"""Reintegration and placement indicators: training's follow-ups kept by enrollment, counted
by dimension within the caller's scope, small cells withheld for publication, and exported as
CSV and XLSX with names (never ids) in Arabic or French."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import func, select

from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.models import FollowUpSituation
from fursa.enrollment.service import EnrollmentService
from fursa.shared.contracts import (
    CloudEvent,
    LearnerOutcomeRecorded,
    OutcomeStatus,
    Pathway,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.deadletters import list_dead_letters
from fursa.shared.messaging.streams import CONSUMERS, LEARNER_OUTCOME_RECORDED
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import acknowledged_through, wait_until

Body = Callable[..., dict[str, Any]]
Caller = Callable[[str], dict[str, str]]
Desk = Any
CONSUMER = next(
    spec for spec in CONSUMERS if spec.service == "enrollment" and spec.stream == "TRAINING"
)
S = OutcomeStatus


def outcome_recorded(
    enrollment: dict[str, Any], months_after: int, status: OutcomeStatus, *, sequence: int = 3
) -> CloudEvent[Any]:
    """Training's learner-outcome-recorded for ``enrollment`` (its training is the subject)."""
    training_id = str(uuid.uuid5(uuid.NAMESPACE_URL, enrollment["enrollment_id"]))
    return new_event(
        LearnerOutcomeRecorded(
            outcome_id=str(uuid.uuid4()),
            training_id=training_id,
            enrollment_id=enrollment["enrollment_id"],
            learner_id=enrollment["learner_id"],
            center_id=enrollment["center_id"],
            pathway=Pathway.VOCATIONAL_TRAINING,
            months_after=months_after,
            status=status,
            school="Collège Ibn Tofail" if status is S.BACK_IN_SCHOOL else None,
            level="1AC" if status is S.BACK_IN_SCHOOL else None,
            institution="ISTA Marrakech" if status is S.VOCATIONAL_TRAINING else None,
            recorded_on=date(2026, 6, 1),
        ),
        subject=training_id,
        sequence=sequence,
    )


async def kept_follow_ups(app: FastAPI) -> int:
    service: EnrollmentService = app.state.enrollments
    async with service.uow.read() as session:
        count = (await session.execute(select(func.count()).select_from(FollowUpSituation))).one()
    return int(count[0])


async def follow_up(app: FastAPI, js: JetStreamContext, events: list[CloudEvent[Any]]) -> None:
    """Publish training's follow-ups and wait until enrollment has applied them all."""
    before = await kept_follow_ups(app)
    last = 0
    for event in events:
        last = (
            await js.publish(
                LEARNER_OUTCOME_RECORDED, to_json_bytes(event), headers={"Nats-Msg-Id": event.id}
            )
        ).seq

    async def applied() -> bool:
        return await kept_follow_ups(app) >= before + len(events) and await acknowledged_through(
            js, CONSUMER, last
        )

    await wait_until(applied)


async def cohort(
    desk: Desk, enrollment_body: Body, count: int, **parts: Any
) -> list[dict[str, Any]]:
    return [await desk.enroll(enrollment_body(**parts)) for _ in range(count)]


async def seed(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body, centers: dict[str, str]
) -> None:
    """Ten girls at A1 (6 months: 5 back in school, 5 employed; 12 months for six: 5 in a
    vocational institution, 1 nowhere), two girls at B (6 months: 1 apprenticed, 1 nowhere),
    and a girl waiting at A1 who never entered the programme."""
    girls = await cohort(desk, enrollment_body, 10)
    at_b = await cohort(desk, enrollment_body, 2, center_id=centers["B"])
    events = [
        *(outcome_recorded(girl, 6, S.BACK_IN_SCHOOL) for girl in girls[:5]),
        *(outcome_recorded(girl, 6, S.EMPLOYED) for girl in girls[5:]),
        *(outcome_recorded(girl, 12, S.VOCATIONAL_TRAINING, sequence=4) for girl in girls[:5]),
        outcome_recorded(girls[5], 12, S.NONE, sequence=4),
        outcome_recorded(at_b[0], 6, S.APPRENTICED),
        outcome_recorded(at_b[1], 6, S.NONE),
    ]
    await follow_up(app, js, events)
    await desk.set_capacity(DEMO_CENTER_ID, 10)
    waiting = await desk.enroll(enrollment_body())
    assert waiting["status"] == "waitlisted"


def by_center(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["group"]["center"]: row for row in body["rows"]}


async def test_rates_at_6_and_12_months_by_center(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await seed(app, desk, js, enrollment_body, centers)

    response = await desk.client.get("/indicators", params={"by": "center"})

    assert response.status_code == 200, response.text
    rows = by_center(response.json())
    assert set(rows) == {DEMO_CENTER_ID, centers["B"]}
    a1 = rows[DEMO_CENTER_ID]
    assert a1["learners"] == 10  # the waiting girl is not in the programme
    assert a1["moments"]["6_months"] == {
        "reached": 10,
        "reintegrated": 5,
        "placed": 5,
        "reintegration_rate": 0.5,
        "placement_rate": 0.5,
    }
    assert a1["moments"]["12_months"] == {
        "reached": 6,
        "reintegrated": 5,
        "placed": 0,
        "reintegration_rate": 0.8333,
        "placement_rate": 0.0,
    }
    b = rows[centers["B"]]
    assert b["learners"] == 2
    assert b["moments"]["6_months"]["placement_rate"] == 0.5
    assert b["moments"]["12_months"] == {
        "reached": 0,
        "reintegrated": 0,
        "placed": 0,
        "reintegration_rate": None,
        "placement_rate": None,
    }


async def test_published_figures_withhold_small_cells_and_rates_resting_on_them(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await seed(app, desk, js, enrollment_body, centers)

    body = (
        await desk.client.get("/indicators", params={"by": "center", "publication": "true"})
    ).json()

    assert body["publication"] is True
    rows = by_center(body)
    a1 = rows[DEMO_CENTER_ID]
    # Five and five of ten: every cell of the breakdown is 0 or at least 5.
    assert a1["moments"]["6_months"]["reintegration_rate"] == 0.5
    # Five of six reintegrated: the one elsewhere would show as 6 - 5.
    assert a1["moments"]["12_months"] == {
        "reached": 6,
        "reintegrated": None,
        "placed": None,
        "reintegration_rate": None,
        "placement_rate": None,
    }
    b = rows[centers["B"]]
    assert b["learners"] is None
    assert b["moments"]["6_months"] == {
        "reached": None,
        "reintegrated": None,
        "placed": None,
        "reintegration_rate": None,
        "placement_rate": None,
    }


async def test_every_dimension_and_its_name(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    boy = enrollment_body(pathway="school_reintegration")
    boy["learner"].update(sex="male", birth_date="2009-05-01", nationality="SN")
    enrolled = await desk.enroll(boy)
    await follow_up(app, js, [outcome_recorded(enrolled, 6, S.BACK_IN_SCHOOL)])
    dimensions = [
        "center",
        "association",
        "pathway",
        "sex",
        "age_band",
        "nationality",
        "school_year",
    ]

    body = (
        await desk.client.get(
            "/indicators", params={"by": dimensions}, headers={"Accept-Language": "fr"}
        )
    ).json()

    assert body["by"] == dimensions
    assert body["language"] == "fr"
    [row] = body["rows"]
    assert row["group"] == {
        "center": DEMO_CENTER_ID,
        "association": DEMO_ASSOCIATION_ID,
        "pathway": "school_reintegration",
        "sex": "male",
        "age_band": "15_17",
        "nationality": "SN",
        "school_year": "2025/2026",
    }
    assert row["names"] == {
        "center": "Centre Al-Nasr",
        "association": "Association Al-Amal",
        "pathway": "Réintégration scolaire",
        "sex": "Masculin",
        "age_band": "15–17 ans",
        "nationality": "Sénégal",
        "school_year": "2025/2026",
    }
    assert row["moments"]["6_months"]["reintegration_rate"] == 1.0


async def test_a_corrected_follow_up_replaces_the_situation(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    [girl] = await cohort(desk, enrollment_body, 1)
    await follow_up(app, js, [outcome_recorded(girl, 6, S.NONE, sequence=3)])
    corrected = outcome_recorded(girl, 6, S.EMPLOYED, sequence=4)
    seq = (
        await js.publish(
            LEARNER_OUTCOME_RECORDED,
            to_json_bytes(corrected),
            headers={"Nats-Msg-Id": corrected.id},
        )
    ).seq

    async def placed() -> bool:
        body = (await desk.client.get("/indicators")).json()
        return bool(
            body["rows"][0]["moments"]["6_months"]["placed"] == 1
        ) and await acknowledged_through(js, CONSUMER, seq)

    await wait_until(placed)
    [row] = (await desk.client.get("/indicators")).json()["rows"]
    assert row["moments"]["6_months"]["reached"] == 1
    assert await kept_follow_ups(app) == 1


async def test_an_erased_learner_still_counts_anonymously(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body
) -> None:
    boy = enrollment_body()
    boy["learner"].update(sex="male", nationality="SN")
    enrolled = await desk.enroll(boy)
    await follow_up(app, js, [outcome_recorded(enrolled, 6, S.APPRENTICED)])
    withdrawal = await desk.client.post(
        f"/enrollments/{enrolled['enrollment_id']}/withdrawal",
        json={"reason": "work", "exit_outcome": "apprenticed"},
    )
    assert withdrawal.status_code == 200, withdrawal.text
    params = {"by": ["sex", "nationality"], "lang": "fr"}
    before = (await desk.client.get("/indicators", params=params)).json()

    erased = await desk.client.post(f"/learners/{enrolled['learner_id']}/erasure")

    assert erased.status_code == 200, erased.text
    after = (await desk.client.get("/indicators", params=params)).json()
    assert after == before
    assert after["rows"][0]["moments"]["6_months"]["placed"] == 1
    assert after["rows"][0]["moments"]["at_exit"]["placed"] == 1


async def test_a_follow_up_of_an_unknown_enrollment_is_dead_lettered(
    app: FastAPI, js: JetStreamContext
) -> None:
    stranger = {
        "enrollment_id": str(uuid.uuid4()),
        "learner_id": str(uuid.uuid4()),
        "center_id": str(uuid.uuid4()),
    }
    event = outcome_recorded(stranger, 6, S.EMPLOYED)
    seq = (
        await js.publish(
            LEARNER_OUTCOME_RECORDED, to_json_bytes(event), headers={"Nats-Msg-Id": event.id}
        )
    ).seq
    runtime: ServiceRuntime = app.state.runtime

    async def dead_lettered() -> bool:
        return bool(
            await list_dead_letters(runtime.db, runtime.tables)
        ) and await acknowledged_through(js, CONSUMER, seq)

    await wait_until(dead_lettered)
    [dead] = await list_dead_letters(runtime.db, runtime.tables)
    assert dead.event_id == event.id
    assert await kept_follow_ups(app) == 0


# --- CSV and XLSX ---------------------------------------------------------------------------


def has_an_id(text: str, ids: list[str]) -> bool:
    return any(identifier in text for identifier in ids)


async def test_csv_names_centers_and_associations_in_french(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await seed(app, desk, js, enrollment_body, centers)

    response = await desk.client.get(
        "/indicators",
        params={"by": ["association", "center"], "format": "csv", "publication": "true"},
        headers={"Accept-Language": "fr-MA, fr;q=0.9, ar;q=0.5"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="indicators-fr.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    assert not has_an_id(text, [*centers.values(), DEMO_CENTER_ID, DEMO_ASSOCIATION_ID])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == [
        "Association",
        "Centre",
        "Apprenants",
        "Sortis du programme",
        "Réintégrés à la sortie",
    ]
    assert rows[0][8:10] == ["Suivis à 6 mois", "Réintégrés à 6 mois"]
    assert "Taux d'insertion à 12 mois" in rows[0]
    by_name = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    al_nasr = by_name["Centre Al-Nasr"]
    assert al_nasr["Association"] == "Association Al-Amal"
    assert al_nasr["Apprenants"] == "10"
    assert al_nasr["Taux de réintégration à 6 mois"] == "0.5"
    assert al_nasr["Réintégrés à 12 mois"] == "<5"
    assert al_nasr["Taux de réintégration à 12 mois"] == ""
    nour = by_name["Centre Nour Sidi Moumen"]
    assert (nour["Association"], nour["Apprenants"]) == ("Association Nour", "<5")


async def test_arabic_xlsx_has_arabic_headings_and_names_right_to_left(
    app: FastAPI, desk: Desk, js: JetStreamContext, enrollment_body: Body, centers: dict[str, str]
) -> None:
    await seed(app, desk, js, enrollment_body, centers)

    response = await desk.client.get(
        "/indicators",
        params={"by": ["center", "association", "sex"], "format": "xlsx"},
        headers={"Accept-Language": "ar"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None
    assert sheet.sheet_view.rightToLeft is True
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    headings = rows[0]
    assert headings[:5] == ["المركز", "الجمعية", "الجنس", "المتعلمون", "الخارجون من البرنامج"]
    assert headings[9] == "المتابَعون بعد 6 أشهر"
    assert "نسبة إعادة الإدماج بعد 12 شهراً" in headings
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not has_an_id(" ".join(cells), [*centers.values(), DEMO_CENTER_ID, DEMO_ASSOCIATION_ID])
    named = {row[0]: dict(zip(headings, row, strict=True)) for row in rows[1:]}
    al_nasr = named["مركز النصر"]
    assert al_nasr["الجمعية"] == "جمعية الأمل"
    assert al_nasr["الجنس"] == "أنثى"
    assert al_nasr["المتعلمون"] == 10
    assert al_nasr["نسبة إعادة الإدماج بعد 12 شهراً"] == 0.8333
    # No Arabic name yet: the French one stands in, never the id.
    assert named["Centre Nour Sidi Moumen"]["الجمعية"] == "Association Nour"
    rate_cell = sheet.cell(row=2, column=headings.index("نسبة إعادة الإدماج بعد 6 أشهر") + 1)
    assert rate_cell.number_format == "0.0%"


async def test_lang_overrides_accept_language_and_french_sheets_read_left_to_right(
    desk: Desk, enrollment_body: Body
) -> None:
    await desk.enroll(enrollment_body())

    response = await desk.client.get(
        "/indicators",
        params={"format": "xlsx", "lang": "fr"},
        headers={"Accept-Language": "ar"},
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert not sheet.sheet_view.rightToLeft
    assert sheet["A1"].value == "Centre"
    assert sheet["A2"].value == "Centre Al-Nasr"


# --- scope ----------------------------------------------------------------------------------


async def test_each_caller_counts_only_its_own_centers(
    app: FastAPI,
    desk: Desk,
    js: JetStreamContext,
    enrollment_body: Body,
    centers: dict[str, str],
    caller: Caller,
) -> None:
    await seed(app, desk, js, enrollment_body, centers)
    expected = {
        "staff_a": {DEMO_CENTER_ID},
        "staff_b": {centers["B"]},
        "educator_a2": set(),
        "directorate_071": {DEMO_CENTER_ID},
        "directorate_141": {centers["B"]},
        "officer_06": {centers["B"]},
    }

    for name, seen in expected.items():
        response = await desk.client.get(
            "/indicators", params={"by": "center"}, headers=caller(name)
        )
        assert response.status_code == 200, (name, response.text)
        assert set(by_center(response.json())) == seen, name

    for name, hidden in (("staff_b", "Centre Al-Nasr"), ("directorate_071", "Centre Nour")):
        export = await desk.client.get(
            "/indicators",
            params={"by": ["center", "association"], "format": "csv", "lang": "fr"},
            headers=caller(name),
        )
        assert hidden not in export.content.decode("utf-8-sig"), name
    partner = await desk.client.get("/indicators", headers=caller("partner"))
    assert partner.status_code == 403


async def test_bad_questions_are_problems_naming_the_field(desk: Desk) -> None:
    for params, field in (
        ({"by": "province"}, "query.by.0"),
        ({"format": "pdf"}, "query.format"),
        ({"lang": "en"}, "query.lang"),
        ({"school_year": "2025-2026"}, "query.school_year"),
    ):
        response = await desk.client.get("/indicators", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in response.json()["errors"]] == [field]

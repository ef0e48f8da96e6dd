"""The follow-ups a center is due to make in a week (6 and 12 months after completion), and
the follow-up-due reminder, published once per training and milestone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import update
from sqlmodel import col

from fursa.shared.contracts import parse_event
from fursa.shared.contracts.training import FollowUpDue
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.testing.kernel import stream_count
from fursa.training.follow_up import Week, due_on, months_later
from fursa.training.follow_up_reminders import FollowUpReminders
from fursa.training.models import TrainingRecord

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]
Ready = Callable[..., Awaitable[None]]
Caller = Callable[[str], dict[str, str]]
COMPLETED_ON = date(2025, 6, 3)  # due on 3 December 2025 (2025-W49) and 3 June 2026 (W23)


async def completed_on(
    app: FastAPI,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    n: int,
    on: date = COMPLETED_ON,
    **place: str,
) -> dict[str, Any]:
    """A training completed on ``on`` (the completion is today's; its date is moved back)."""
    training = await open_training(n, **place)
    await ready(training, class_name=f"class-{n}")
    response = await client.post(f"/trainings/{training['id']}/completion", json={})
    assert response.status_code == 200, response.text
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.uow.begin() as tx:
        await tx.session.execute(
            update(TrainingRecord)
            .where(col(TrainingRecord.id) == training["id"])
            .values(completed_on=on)
        )
    return training


def test_a_follow_up_falls_due_the_same_day_months_later_or_at_the_months_end() -> None:
    assert due_on(date(2025, 6, 3), 6) == date(2025, 12, 3)
    assert due_on(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert months_later(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert str(Week.parse("2025-W49")) == "2025-W49"
    assert (Week.parse("2025-W49").monday, Week.parse("2025-W49").sunday) == (
        date(2025, 12, 1),
        date(2025, 12, 7),
    )


async def test_the_due_list_of_a_week_names_who_is_due_and_whether_it_is_done(
    app: FastAPI,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    caller: Caller,
) -> None:
    salma = await completed_on(app, client, open_training, ready, 1)
    await completed_on(app, client, open_training, ready, 2, on=date(2025, 6, 20))
    other_center = await completed_on(app, client, open_training, ready, 3, place="A2")

    week = (await client.get("/follow-ups/due", params={"week": "2025-W49"})).json()
    one_center = (
        await client.get(
            "/follow-ups/due",
            params={"week": "2025-W49", "center_id": salma["center_id"]},
            headers=caller("educator_a1"),
        )
    ).json()
    year = (await client.get("/follow-ups/due", params={"week": "2026-W23"})).json()
    none = (await client.get("/follow-ups/due", params={"week": "2025-W50"})).json()

    assert (week["week"], week["monday"], week["sunday"]) == (
        "2025-W49",
        "2025-12-01",
        "2025-12-07",
    )
    assert {(d["training_id"], d["months_after"]) for d in week["due"]} == {
        (salma["id"], 6),
        (other_center["id"], 6),
    }
    [due] = one_center["due"]
    assert (due["training_id"], due["due_on"], due["recorded"]) == (
        salma["id"],
        "2025-12-03",
        False,
    )
    assert (due["first_name_ar"], due["last_name_latin"]) == ("سلمى", "Benali")
    assert {(d["training_id"], d["months_after"]) for d in year["due"]} == {
        (salma["id"], 12),
        (other_center["id"], 12),
    }
    assert none["due"] == []

    outcome = {"months_after": 6, "status": "employed"}
    assert (await client.post(f"/trainings/{salma['id']}/outcomes", json=outcome)).is_success
    after = (
        await client.get(
            "/follow-ups/due", params={"week": "2025-W49", "center_id": salma["center_id"]}
        )
    ).json()
    assert [d["recorded"] for d in after["due"]] == [True]


async def test_the_due_list_is_scoped_to_the_callers_centers(
    app: FastAPI,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
    caller: Caller,
) -> None:
    training = await completed_on(app, client, open_training, ready, 1)
    params = {"week": "2025-W49"}

    theirs = await client.get(
        "/follow-ups/due",
        params=params | {"center_id": training["center_id"]},
        headers=caller("staff_b"),
    )
    own_only = await client.get("/follow-ups/due", params=params, headers=caller("staff_b"))
    officer = await client.get("/follow-ups/due", params=params, headers=caller("officer_07"))

    assert theirs.status_code == 404
    assert own_only.json()["due"] == []
    assert officer.status_code == 403


@pytest.mark.parametrize("week", ["2025-49", "2025-W54", "2025W49", "next"])
async def test_a_week_that_is_not_an_iso_week_is_refused_naming_it(
    client: httpx.AsyncClient, week: str
) -> None:
    response = await client.get("/follow-ups/due", params={"week": week})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("week", "iso_week")]


async def test_a_reminder_is_published_once_per_milestone_and_not_for_a_recorded_follow_up(
    app: FastAPI,
    js: JetStreamContext,
    client: httpx.AsyncClient,
    open_training: OpenTraining,
    ready: Ready,
) -> None:
    salma = await completed_on(app, client, open_training, ready, 1)
    done = await completed_on(app, client, open_training, ready, 2)
    outcome = {"months_after": 6, "status": "employed"}
    assert (await client.post(f"/trainings/{done['id']}/outcomes", json=outcome)).is_success
    reminders: FollowUpReminders = app.state.follow_up_reminders

    # Monday of the week it falls due, then the same week again, then a later tick.
    sent = [
        await reminders.remind(date(2025, 12, 1)),
        await reminders.remind(date(2025, 12, 4)),
        await reminders.remind(date(2025, 12, 20)),
        await reminders.remind(date(2026, 6, 3)),
    ]

    assert sent == [1, 0, 0, 2]
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.relay is not None
    await runtime.relay.drain()
    count = await stream_count(js, "TRAINING")
    events = [
        parse_event((await js.get_msg("TRAINING", n)).data or b"") for n in range(1, count + 1)
    ]
    due = [
        (e.data.training_id, e.data.months_after, e.data.due_on)
        for e in events
        if isinstance(e.data, FollowUpDue)
    ]
    assert sorted(due) == sorted(
        [
            (salma["id"], 6, date(2025, 12, 3)),
            (salma["id"], 12, date(2026, 6, 3)),
            (done["id"], 12, date(2026, 6, 3)),
        ]
    )


async def test_a_milestone_long_past_is_not_reminded(
    app: FastAPI, client: httpx.AsyncClient, open_training: OpenTraining, ready: Ready
) -> None:
    await completed_on(app, client, open_training, ready, 1, on=date(2023, 1, 10))
    reminders: FollowUpReminders = app.state.follow_up_reminders

    assert await reminders.remind(date(2025, 12, 1)) == 0

"""An officer holds a learner's pending diploma, with a reason, and releases it: a held one stays
in the queue, is refused alone and left out of its cohort's approval, and both acts are in the
audit trail; another region's officer finds none of it. On SQLite and on PostgreSQL, against
the running service, with the programme's default policy (diplomas await approval).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fursa.certification import service
from fursa.certification.settings import CertificationSettings
from fursa.shared.auth import Role
from fursa.shared.clock import local_today
from fursa.shared.contracts import LearnerErased, Pathway, TrainingCompleted, TrainingResult
from fursa.shared.testing.builders import learner_enrolled, uuid_of

AuthHeaders = Callable[..., dict[str, str]]

CENTER = uuid_of("center", 1)
REASON = "Nom en arabe à vérifier avec le centre (acte de naissance)"


@pytest.fixture
def settings(settings: CertificationSettings) -> CertificationSettings:
    """The programme's default policy: nothing configured."""
    return settings.model_copy(update={"issuance_policy": {}})


@pytest.fixture
def officer(headers_for: AuthHeaders) -> dict[str, str]:
    return headers_for(Role.ENTRAIDE_OFFICER, region_code="07")


async def complete(app: FastAPI, n: int) -> str:
    """Learner n enrolled at a center of region 07 and passed vocational training: a diploma
    awaits approval. Its enrollment id."""
    runtime = app.state.runtime
    enrolled = learner_enrolled(n).model_copy(update={"center_id": CENTER})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with runtime.uow.begin() as tx:
        await service.training_completed(
            tx,
            completion=TrainingCompleted(
                training_id=uuid_of("training", n),
                enrollment_id=enrolled.enrollment_id,
                learner_id=enrolled.learner_id,
                center_id=CENTER,
                pathway=Pathway.VOCATIONAL_TRAINING,
                workshops=["tailoring"],
                hours_attended=300,
                attendance_rate=0.9,
                result=TrainingResult.PASSED,
                completed_on=date(2026, 6, 30),
            ),
            policy=runtime.settings.policy_for(Pathway.VOCATIONAL_TRAINING),
            issuer=app.state.issuer,
        )
    return enrolled.enrollment_id


async def queue(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The approval queue by enrollment id."""
    response = await client.get("/approvals", headers=headers)
    assert response.status_code == 200, response.text
    return {line["enrollment_id"]: line for line in response.json()}


async def test_a_held_diploma_stays_in_the_queue_and_is_refused_until_released(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    enrollment_id = await complete(app, 1)

    held = await client.post(
        f"/approvals/{enrollment_id}/hold", json={"reason": f"  {REASON} "}, headers=officer
    )

    assert held.status_code == 200, held.text
    line = (await queue(client, officer))[enrollment_id]
    assert held.json() == line
    assert line["held"] is True
    assert line["hold_reason"] == REASON
    assert line["held_by"] == "dev-entraide_officer"
    assert line["held_on"] == local_today().isoformat()

    refused = await client.post(f"/approvals/{enrollment_id}", headers=officer)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "approval_held"
    assert refused.json()["title"] == "هذه الشهادة معلقة: ارفعوا التعليق قبل المصادقة عليها."
    again = await client.post(
        f"/approvals/{enrollment_id}/hold", json={"reason": REASON}, headers=officer
    )
    assert again.status_code == 409
    assert again.json()["code"] == "approval_already_held"

    released = await client.delete(f"/approvals/{enrollment_id}/hold", headers=officer)
    assert released.status_code == 200
    assert released.json()["held"] is False
    assert released.json()["hold_reason"] is None
    assert (await queue(client, officer))[enrollment_id]["held"] is False
    twice = await client.delete(f"/approvals/{enrollment_id}/hold", headers=officer)
    assert twice.status_code == 409
    assert twice.json()["code"] == "approval_not_held"

    approved = await client.post(f"/approvals/{enrollment_id}", headers=officer)
    assert approved.status_code == 201
    assert await queue(client, officer) == {}


async def test_a_cohort_approval_leaves_the_held_ones_awaiting(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    enrollments = [await complete(app, n) for n in (1, 2, 3)]
    hold = await client.post(
        f"/approvals/{enrollments[1]}/hold", json={"reason": REASON}, headers=officer
    )
    assert hold.status_code == 200

    response = await client.post("/approvals/cohort", json={"center_id": CENTER}, headers=officer)

    assert response.status_code == 200
    assert {c["enrollment_id"] for c in response.json()} == {enrollments[0], enrollments[2]}
    assert list(await queue(client, officer)) == [enrollments[1]]
    certificates = await client.get(
        "/certificates", params={"enrollment_id": enrollments[1]}, headers=officer
    )
    assert certificates.json() == []


@pytest.mark.parametrize("reason", ["", "  ab  ", "x" * 501])
async def test_a_hold_needs_a_reason_of_three_to_five_hundred_characters(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str], reason: str
) -> None:
    enrollment_id = await complete(app, 1)
    response = await client.post(
        f"/approvals/{enrollment_id}/hold", json={"reason": reason}, headers=officer
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["reason"]
    assert (await queue(client, officer))[enrollment_id]["held"] is False


async def test_another_regions_officer_and_other_roles_cannot_hold_or_release(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str], headers_for: AuthHeaders
) -> None:
    enrollment_id = await complete(app, 1)
    elsewhere = headers_for(Role.ENTRAIDE_OFFICER, region_code="04")
    educator = headers_for(Role.EDUCATOR, center_id=CENTER)
    hold_path = f"/approvals/{enrollment_id}/hold"

    assert (
        await client.post(hold_path, json={"reason": REASON}, headers=elsewhere)
    ).status_code == 404
    assert (
        await client.post(hold_path, json={"reason": REASON}, headers=educator)
    ).status_code == 403
    assert (await client.post(hold_path, json={"reason": REASON}, headers=officer)).status_code == (
        200
    )
    assert (await client.delete(hold_path, headers=elsewhere)).status_code == 404
    assert (await client.delete(hold_path, headers=educator)).status_code == 403
    assert (await queue(client, officer))[enrollment_id]["held"] is True


async def test_holding_and_releasing_say_who_and_why_in_the_trail(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str], headers_for: AuthHeaders
) -> None:
    enrollment_id = await complete(app, 1)
    path = f"/approvals/{enrollment_id}/hold"
    assert (await client.post(path, json={"reason": REASON}, headers=officer)).status_code == 200
    assert (await client.delete(path, headers=officer)).status_code == 200

    entries = (await client.get("/audit", headers=officer)).json()

    assert [(e["action"], e["entity"], e["entity_id"]) for e in entries] == [
        ("approval.held", "enrollment", enrollment_id),
        ("approval.released", "enrollment", enrollment_id),
    ]
    for entry in entries:
        assert entry["actor"] == "dev-entraide_officer"
        assert entry["learner_id"] == uuid_of("learner", 1)
        assert entry["region_code"] == "07"
        assert entry["details"] == {"hold_reason": REASON}
    elsewhere = headers_for(Role.ENTRAIDE_OFFICER, region_code="04")
    assert (await client.get("/audit", headers=elsewhere)).json() == []


async def test_an_erasure_empties_the_reason_and_keeps_the_hold(
    app: FastAPI, client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    enrollment_id = await complete(app, 1)
    path = f"/approvals/{enrollment_id}/hold"
    assert (await client.post(path, json={"reason": REASON}, headers=officer)).status_code == 200

    async with app.state.runtime.uow.begin() as tx:
        await service.learner_erased(
            tx,
            erased=LearnerErased(
                learner_id=uuid_of("learner", 1),
                enrollment_ids=[enrollment_id],
                erased_at=datetime(2026, 7, 1, tzinfo=UTC),
            ),
            tables=app.state.runtime.tables,
        )

    line = (await queue(client, officer))[enrollment_id]
    assert (line["held"], line["hold_reason"]) == (True, None)
    entries = (await client.get("/audit", headers=officer)).json()
    assert REASON not in str(entries)
    assert [e["action"] for e in entries] == ["approval.held", "learner.erased"]

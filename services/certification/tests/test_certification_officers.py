"""What Entraide Nationale officers do over HTTP: approve pending certificates (one learner or
a center's whole cohort), revoke with a reason code and re-issue; who may do it; bad input.
On SQLite and on PostgreSQL, against the running service.

Vocational training needs an officer's approval by default; the other pathways are automatic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from fursa.certification import service
from fursa.certification.models import KERNEL
from fursa.certification.settings import CertificationSettings
from fursa.shared.auth import Role
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    parse_event,
)
from fursa.shared.testing.builders import learner_enrolled, uuid_of

AuthHeaders = Callable[..., dict[str, str]]

CENTER_1, CENTER_2 = uuid_of("center", 1), uuid_of("center", 2)
OFFICER_07 = {"region_code": "07"}


@pytest.fixture
def settings(settings: CertificationSettings) -> CertificationSettings:
    """The programme's default policy: nothing configured."""
    return settings.model_copy(update={"issuance_policy": {}})


def completion(n: int, pathway: Pathway) -> TrainingCompleted:
    return TrainingCompleted(
        training_id=uuid_of("training", n),
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        center_id=CENTER_1,
        pathway=pathway,
        workshops=["tailoring"],
        hours_attended=300,
        attendance_rate=0.9,
        result=TrainingResult.PASSED,
        completed_on=date(2026, 6, 30),
    )


async def complete(
    app: FastAPI,
    n: int,
    *,
    center_id: str = CENTER_1,
    pathway: Pathway = Pathway.VOCATIONAL_TRAINING,
) -> None:
    """Learner n enrolled at a center of region 07, then passed their training."""
    runtime, settings = app.state.runtime, app.state.runtime.settings
    enrolled = learner_enrolled(n).model_copy(update={"center_id": center_id, "pathway": pathway})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with runtime.uow.begin() as tx:
        await service.training_completed(
            tx,
            completion=completion(n, pathway),
            policy=settings.policy_for(pathway),
            issuer=app.state.issuer,
        )


async def certificates(client: httpx.AsyncClient, n: int) -> list[dict[str, Any]]:
    response = await client.get("/certificates", params={"enrollment_id": uuid_of("enrollment", n)})
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.json()
    return found


async def outbox_events(app: FastAPI) -> list[Any]:
    async with app.state.runtime.db.connect() as connection:
        rows = await connection.execute(
            select(KERNEL.outbox.c.payload).order_by(KERNEL.outbox.c.position)
        )
        return [parse_event(row.payload) for row in rows]


async def test_vocational_completion_awaits_an_officers_approval(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1)
    assert await certificates(client, 1) == []
    assert await outbox_events(app) == []
    officer = headers_for(Role.ENTRAIDE_OFFICER, **OFFICER_07)

    [pending] = (await client.get("/approvals", headers=officer)).json()
    assert pending["enrollment_id"] == uuid_of("enrollment", 1)
    assert pending["school_year"] == "2025/2026"

    approved = await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=officer)
    assert approved.status_code == 201
    assert approved.json()["number"] == "MS-" + approved.json()["issued_on"][:4] + "-000001"
    assert approved.json()["kind"] == "diploma"
    assert (await client.get("/approvals", headers=officer)).json() == []
    [event] = await outbox_events(app)
    assert isinstance(event.data, CertificateIssued)
    assert event.data.certificate_number == approved.json()["number"]

    again = await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=officer)
    assert again.status_code == 404
    assert len(await certificates(client, 1)) == 1


async def test_officer_approves_a_centers_whole_cohort_at_once(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    for n in (1, 2, 3):
        await complete(app, n)
    await complete(app, 4, center_id=CENTER_2)
    officer = headers_for(Role.ENTRAIDE_OFFICER, **OFFICER_07)

    response = await client.post(
        "/approvals/cohort",
        json={"center_id": CENTER_1, "school_year": "2025/2026"},
        headers=officer,
    )
    assert response.status_code == 200
    issued = response.json()
    assert sorted(c["number"][-6:] for c in issued) == ["000001", "000002", "000003"]
    assert {c["enrollment_id"] for c in issued} == {uuid_of("enrollment", n) for n in (1, 2, 3)}
    [still_pending] = (await client.get("/approvals", headers=officer)).json()
    assert still_pending["center_id"] == CENTER_2
    assert len(await outbox_events(app)) == 3

    twice = await client.post("/approvals/cohort", json={"center_id": CENTER_1}, headers=officer)
    assert twice.json() == []


async def test_pathways_without_approval_are_certified_at_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await complete(app, 1, pathway=Pathway.SCHOOL_REINTEGRATION)
    [certificate] = await certificates(client, 1)
    assert certificate["kind"] == "attestation"
    assert certificate["pathway"] == "school_reintegration"


async def test_a_completion_replayed_after_approval_issues_nothing_more(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1)
    officer = headers_for(Role.ENTRAIDE_OFFICER, **OFFICER_07)
    await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=officer)
    await complete(app, 1)
    assert (await client.get("/approvals", headers=officer)).json() == []
    assert len(await certificates(client, 1)) == 1


@pytest.mark.parametrize(
    ("role", "binding"),
    [
        (Role.EDUCATOR, {"center_id": CENTER_1}),
        (Role.ASSOCIATION_STAFF, {"association_id": uuid_of("association", 1)}),
        (Role.DIRECTORATE, {"region_code": "07"}),
        (Role.PARTNER, {"partner_id": "p-1"}),
    ],
)
async def test_only_officers_approve_revoke_and_reissue(
    app: FastAPI,
    client: httpx.AsyncClient,
    headers_for: AuthHeaders,
    role: Role,
    binding: dict[str, str],
) -> None:
    await complete(app, 1)
    await complete(app, 2, pathway=Pathway.SCHOOL_REINTEGRATION)
    [certificate] = await certificates(client, 2)
    headers = headers_for(role, **binding)
    attempts = [
        client.get("/approvals", headers=headers),
        client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=headers),
        client.post("/approvals/cohort", json={"center_id": CENTER_1}, headers=headers),
        client.post(
            f"/certificates/{certificate['number']}/revocation",
            json={"reason": "fraud"},
            headers=headers,
        ),
        client.post(f"/certificates/{certificate['number']}/reissue", headers=headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "forbidden"
    assert len(await certificates(client, 1)) == 0
    assert (await certificates(client, 2))[0]["status"] == "active"


async def test_an_officer_of_another_region_finds_nothing_to_act_on(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1)
    await complete(app, 2, pathway=Pathway.SCHOOL_REINTEGRATION)
    [certificate] = await certificates(client, 2)
    rabat = headers_for(Role.ENTRAIDE_OFFICER, region_code="04")

    assert (await client.get("/approvals", headers=rabat)).json() == []
    approve = await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=rabat)
    assert approve.status_code == 404
    cohort = await client.post("/approvals/cohort", json={"center_id": CENTER_1}, headers=rabat)
    assert cohort.json() == []
    number = certificate["number"]
    revoke = await client.post(
        f"/certificates/{number}/revocation", json={"reason": "fraud"}, headers=rabat
    )
    assert revoke.status_code == 404
    assert (await client.post(f"/certificates/{number}/reissue", headers=rabat)).status_code == 404
    assert (await certificates(client, 2))[0]["status"] == "active"


async def test_revocation_with_a_reason_is_announced_and_shown_at_once(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1, pathway=Pathway.SCHOOL_REINTEGRATION)
    [certificate] = await certificates(client, 1)
    number = certificate["number"]
    officer = headers_for(Role.ENTRAIDE_OFFICER, **OFFICER_07)
    assert (await anonymous.get(f"/verify/{number}/status")).json()["valid"] is True

    revoked = await client.post(
        f"/certificates/{number}/revocation", json={"reason": "issued_in_error"}, headers=officer
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revocation_reason"] == "issued_in_error"

    status = (await anonymous.get(f"/verify/{number}/status")).json()
    assert (status["valid"], status["status"]) == (False, "revoked")
    assert status["revocation_reason"] == "issued_in_error"
    page = await anonymous.get(f"/verify/{number}", params={"lang": "fr"})
    assert 'data-status="revoked"' in page.text
    assert "Ce certificat a été révoqué" in page.text
    events = await outbox_events(app)
    assert [type(event.data) for event in events] == [CertificateIssued, CertificateRevoked]
    assert (events[1].subject, events[1].sequence) == (certificate["id"], 2)

    twice = await client.post(
        f"/certificates/{number}/revocation", json={"reason": "fraud"}, headers=officer
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "certificate_already_revoked"


async def test_reissue_replaces_a_revoked_certificate_and_keeps_the_lineage(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1, pathway=Pathway.SCHOOL_REINTEGRATION)
    [first] = await certificates(client, 1)
    officer = headers_for(Role.ENTRAIDE_OFFICER, **OFFICER_07)
    number = first["number"]

    active = await client.post(f"/certificates/{number}/reissue", headers=officer)
    assert active.status_code == 409
    assert active.json()["code"] == "certificate_not_revoked"

    await client.post(
        f"/certificates/{number}/revocation", json={"reason": "data_correction"}, headers=officer
    )
    reissued = await client.post(f"/certificates/{number}/reissue", headers=officer)
    assert reissued.status_code == 201
    second = reissued.json()
    assert second["replaces"] == first["id"]
    assert second["number"] == number[:-6] + "000002"
    assert [c["status"] for c in await certificates(client, 1)] == ["revoked", "active"]
    old = (await anonymous.get(f"/verify/{number}/status")).json()
    assert old["replaced_by"] == second["number"]
    [_issued, _revoked, issued_again] = await outbox_events(app)
    assert isinstance(issued_again.data, CertificateIssued)
    assert issued_again.data.replaces == first["id"]

    again = await client.post(f"/certificates/{number}/reissue", headers=officer)
    assert again.status_code == 409
    assert again.json()["code"] == "certificate_already_replaced"
    # The training's completion replayed after all this still issues nothing.
    await complete(app, 1, pathway=Pathway.SCHOOL_REINTEGRATION)
    assert len(await certificates(client, 1)) == 2


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "rule"),
    [
        ("post", "/approvals/not-a-uuid", None, "path.enrollment_id", "string_pattern_mismatch"),
        ("get", "/approvals?center_id=42", None, "query.center_id", "string_pattern_mismatch"),
        ("post", "/approvals/cohort", {}, "center_id", "missing"),
        (
            "post",
            "/approvals/cohort",
            {"center_id": CENTER_1, "ceremony": "yes"},
            "ceremony",
            "extra_forbidden",
        ),
        (
            "post",
            "/approvals/cohort",
            {"center_id": CENTER_1, "school_year": "2025/2027"},
            "school_year",
            "value_error",
        ),
        (
            "post",
            "/certificates/MS-2026-000001/revocation",
            {"reason": "because"},
            "reason",
            "enum",
        ),
        (
            "post",
            "/certificates/MS-2026-000001/revocation",
            {"reason": "fraud", "note": "Salma lied"},
            "note",
            "extra_forbidden",
        ),
        ("post", "/certificates/ms-1/revocation", {"reason": "fraud"}, "path.number", None),
        ("post", "/certificates/MS-26-1/reissue", None, "path.number", None),
        ("get", "/certificates/MS-2026-1/diploma.pdf", None, "path.number", None),
        ("get", "/cohorts/center-1/diplomas.pdf", None, "path.center_id", None),
        (
            "get",
            f"/cohorts/{CENTER_1}/diplomas.pdf?school_year=2025",
            None,
            "query.school_year",
            None,
        ),
        ("get", "/certificates?enrollment_id=x", None, "query.enrollment_id", None),
    ],
)
async def test_bad_input_names_the_field_at_fault(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
    rule: str | None,
) -> None:
    response = await client.request(method.upper(), path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field
    if rule is not None:
        assert error["rule"] == rule


async def test_an_oversized_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/approvals/cohort",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"

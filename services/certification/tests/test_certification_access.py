"""Who may read certificates over HTTP: a bearer token of the programme's staff, and only the
certificates issued within the caller's association, center or territory; on SQLite and on
PostgreSQL.

Three learners, each certified by a different association:

====  ===========  ======  ======  ========
n     association  center  region  province
====  ===========  ======  ======  ========
1     A            1       07      071
2     B            2       07      072
3     C            3       04      041
====  ===========  ======  ======  ========

Learner 2's certificate is revoked, so that summaries show both of their counts scoped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col

from fursa.certification import service
from fursa.certification.domain import CertificateStatus
from fursa.certification.models import Certificate, LearnerCopy
from fursa.shared.auth import Role
from fursa.shared.contracts import Pathway
from fursa.shared.testing.builders import (
    ASSOCIATION_A,
    ASSOCIATION_B,
    ASSOCIATION_C,
    PLACEMENTS,
    learner_enrolled,
    uuid_of,
)

AuthHeaders = Callable[..., dict[str, str]]

ISSUED_ON = date(2026, 6, 30)
NUMBERS = {1: "MS-2026-000001", 2: "MS-2026-000002", 3: "RSK-2026-000001"}
NEVER_ISSUED = "MS-2026-999999"
ROUTES = ["/certificates?enrollment_id=" + uuid_of("enrollment", 1), "/certificates/summary"]
ROUTES += [f"/certificates/{NUMBERS[1]}", f"/certificates/{NEVER_ISSUED}"]


@pytest.fixture
async def certified(client: httpx.AsyncClient, app: FastAPI) -> httpx.AsyncClient:
    """The running service with learners 1 to 3 certified (learner 2's since revoked)."""
    runtime = app.state.runtime
    for n, placement in PLACEMENTS.items():
        async with runtime.uow.begin() as tx:
            enrolled = learner_enrolled(n).model_copy(update=placement)
            await service.learner_enrolled(tx, enrolled=enrolled)
        async with runtime.uow.begin() as tx:
            certificate = await service.issue_certificate(
                tx,
                enrollment_id=uuid_of("enrollment", n),
                pathway=Pathway.VOCATIONAL_TRAINING,
                issuer=app.state.issuer,
                issued_on=ISSUED_ON,
            )
        assert certificate is not None
        assert certificate.number == NUMBERS[n]
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Certificate)
            .where(col(Certificate.number) == NUMBERS[2])
            .values(status=CertificateStatus.REVOKED.value)
        )
    return client


async def listed(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> list[Any]:
    response = await client.get(
        "/certificates", params={"enrollment_id": uuid_of("enrollment", n)}, headers=headers
    )
    assert response.status_code == 200
    found: list[Any] = response.json()
    return found


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_needs_a_bearer_token(anonymous: httpx.AsyncClient, route: str) -> None:
    response = await anonymous.get(route)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


async def test_a_token_not_signed_with_the_key_is_refused(
    anonymous: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    token = headers_for()["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-development-key-but-long-enough", algorithm="HS256")
    response = await anonymous.get(
        "/certificates/summary", headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_operational_routes_need_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
async def test_partners_may_not_read_certificates(
    certified: httpx.AsyncClient, headers_for: AuthHeaders, route: str
) -> None:
    response = await certified.get(route, headers=headers_for(Role.PARTNER, partner_id="p-1"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": "partner"}
    # The certifying association's staff are served (a number never issued: not found).
    staff_of_a = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_A)
    served = await certified.get(route, headers=staff_of_a)
    assert served.status_code == (404 if NEVER_ISSUED in route else 200)


async def test_another_associations_certificate_is_answered_as_nonexistent(
    certified: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    staff_of_b = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_B)
    for language in ("fr", "ar"):
        headers = {**staff_of_b, "Accept-Language": language}
        of_a = await certified.get(f"/certificates/{NUMBERS[1]}", headers=headers)
        nonexistent = await certified.get(f"/certificates/{NEVER_ISSUED}", headers=headers)
        assert of_a.status_code == nonexistent.status_code == 404
        assert of_a.content == nonexistent.content
        assert of_a.headers == nonexistent.headers
        assert of_a.json()["code"] == "not_found"

    assert await listed(certified, 1, staff_of_b) == []
    [own] = await listed(certified, 2, staff_of_b)
    assert own["number"] == NUMBERS[2]
    own_by_number = await certified.get(f"/certificates/{NUMBERS[2]}", headers=staff_of_b)
    assert own_by_number.json() == own


async def test_entraide_officer_sees_their_region_only(
    certified: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    officer_07 = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    for n in (1, 2):
        response = await certified.get(f"/certificates/{NUMBERS[n]}", headers=officer_07)
        assert response.status_code == 200
        assert response.json()["region_code"] == "07"
        assert [c["number"] for c in await listed(certified, n, officer_07)] == [NUMBERS[n]]

    rabat = await certified.get(f"/certificates/{NUMBERS[3]}", headers=officer_07)
    assert rabat.status_code == 404
    assert await listed(certified, 3, officer_07) == []


@pytest.mark.parametrize(
    ("role", "binding", "issued", "active"),
    [
        (Role.ADMIN, {}, 3, 2),
        (Role.ENTRAIDE_OFFICER, {"region_code": "07"}, 2, 1),
        (Role.ENTRAIDE_OFFICER, {"region_code": "04"}, 1, 1),
        (Role.DIRECTORATE, {"province_code": "072"}, 1, 0),
        (Role.DIRECTORATE, {"region_code": "07"}, 2, 1),
        (Role.ASSOCIATION_STAFF, {"association_id": ASSOCIATION_A}, 1, 1),
        (Role.ASSOCIATION_STAFF, {"association_id": uuid_of("association", 9)}, 0, 0),
        (Role.EDUCATOR, {"center_id": uuid_of("center", 3)}, 1, 1),
    ],
)
async def test_summary_counts_only_visible_certificates(
    certified: httpx.AsyncClient,
    headers_for: AuthHeaders,
    role: Role,
    binding: dict[str, str],
    issued: int,
    active: int,
) -> None:
    response = await certified.get("/certificates/summary", headers=headers_for(role, **binding))
    assert response.status_code == 200
    assert response.json() == {"issued": issued, "active": active}


async def test_the_summary_of_a_school_year_counts_that_years_cohort(
    certified: httpx.AsyncClient, app: FastAPI, headers_for: AuthHeaders
) -> None:
    """Learner 3 was enrolled for the next school year: their certificate counts in that
    year's summary, not in this one's (learner 2's, revoked, stays issued but not active)."""
    async with app.state.runtime.db.transaction() as session:
        await session.execute(
            update(LearnerCopy)
            .where(col(LearnerCopy.enrollment_id) == uuid_of("enrollment", 3))
            .values(school_year="2026/2027")
        )
    admin = headers_for(Role.ADMIN)
    counts = {}
    for year in ("2025/2026", "2026/2027", "2027/2028"):
        response = await certified.get(
            "/certificates/summary", params={"school_year": year}, headers=admin
        )
        assert response.status_code == 200
        counts[year] = response.json()
    assert counts == {
        "2025/2026": {"issued": 2, "active": 1},
        "2026/2027": {"issued": 1, "active": 1},
        "2027/2028": {"issued": 0, "active": 0},
    }
    officer_04 = headers_for(Role.ENTRAIDE_OFFICER, region_code="04")
    scoped = await certified.get(
        "/certificates/summary", params={"school_year": "2025/2026"}, headers=officer_04
    )
    assert scoped.json() == {"issued": 0, "active": 0}


@pytest.mark.parametrize(
    ("role", "binding", "visible"),
    [
        (Role.ADMIN, {}, {1, 2, 3}),
        (Role.DIRECTORATE, {"province_code": "071"}, {1}),
        (Role.DIRECTORATE, {"region_code": "04"}, {3}),
        (Role.EDUCATOR, {"center_id": uuid_of("center", 2)}, {2}),
        (Role.ASSOCIATION_STAFF, {"association_id": ASSOCIATION_C}, {3}),
    ],
)
async def test_each_role_reads_the_certificates_of_its_scope(
    certified: httpx.AsyncClient,
    headers_for: AuthHeaders,
    role: Role,
    binding: dict[str, str],
    visible: set[int],
) -> None:
    headers = headers_for(role, **binding)
    for n, number in NUMBERS.items():
        response = await certified.get(f"/certificates/{number}", headers=headers)
        assert response.status_code == (200 if n in visible else 404), (n, response.text)
        assert len(await listed(certified, n, headers)) == (1 if n in visible else 0)

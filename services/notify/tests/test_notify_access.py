"""Who may read deliveries over HTTP: a bearer token of the programme's staff, and only the
deliveries about learners enrolled within the caller's association, center or territory; on
SQLite and on PostgreSQL.

Three learners, each enrolled by a different association, and each guardian told once:

====  ===========  ======  ======  ========
n     association  center  region  province
====  ===========  ======  ======  ========
1     A            1       07      071
2     B            2       07      072
3     C            3       04      041
====  ===========  ======  ======  ========
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fursa.notify import service
from fursa.notify.channels import LocalSmsSink
from fursa.shared.auth import Role
from fursa.shared.contracts import CertificateIssued, CertificateKind, Pathway, new_event
from fursa.shared.testing.builders import (
    ASSOCIATION_A,
    ASSOCIATION_B,
    PLACEMENTS,
    learner_enrolled,
    uuid_of,
)

AuthHeaders = Callable[..., dict[str, str]]

ROUTES = ["/deliveries?learner_id=" + uuid_of("learner", 1), "/deliveries/summary"]


@pytest.fixture
async def told(client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> httpx.AsyncClient:
    """The running service, each of learners 1 to 3's guardians told of a certificate."""
    runtime = app.state.runtime
    channel = LocalSmsSink(tmp_path / "access-sink")
    for n, placement in PLACEMENTS.items():
        async with runtime.uow.begin() as tx:
            enrolled = learner_enrolled(n).model_copy(update=placement)
            await service.learner_enrolled(tx, enrolled=enrolled)
        number = f"MS-2026-{n:06d}"
        event = new_event(
            CertificateIssued(
                certificate_id=uuid_of("certificate", n),
                certificate_number=number,
                enrollment_id=uuid_of("enrollment", n),
                learner_id=uuid_of("learner", n),
                kind=CertificateKind.DIPLOMA,
                pathway=Pathway.VOCATIONAL_TRAINING,
                issued_on=date(2026, 6, 30),
                verification_url=f"https://verify.fursa.test/verify/{number}",
            ),
            subject=uuid_of("certificate", n),
            sequence=1,
        )
        async with runtime.uow.begin(cause=event) as tx:
            assert await service.certificate_issued(tx, event=event, channel=channel) is not None
    return client


async def deliveries(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> list[Any]:
    response = await client.get(
        "/deliveries", params={"learner_id": uuid_of("learner", n)}, headers=headers
    )
    assert response.status_code == 200
    found: list[Any] = response.json()
    return found


async def sent(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/deliveries/summary", headers=headers)
    assert response.status_code == 200
    count: int = response.json()["sent"]
    return count


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_needs_a_bearer_token(anonymous: httpx.AsyncClient, route: str) -> None:
    response = await anonymous.get(route)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


async def test_a_malformed_token_is_refused(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/deliveries/summary", headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("route", ROUTES)
async def test_partners_may_not_read_deliveries(
    told: httpx.AsyncClient, headers_for: AuthHeaders, route: str
) -> None:
    response = await told.get(route, headers=headers_for(Role.PARTNER, partner_id="p-1"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "forbidden"
    assert problem["params"] == {"role": "partner"}


async def test_another_associations_learner_looks_like_one_never_told(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    staff_of_b = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION_B)
    of_a = await told.get(
        "/deliveries", params={"learner_id": uuid_of("learner", 1)}, headers=staff_of_b
    )
    unknown = await told.get(
        "/deliveries", params={"learner_id": uuid_of("learner", 99)}, headers=staff_of_b
    )
    assert of_a.status_code == unknown.status_code == 200
    assert of_a.content == unknown.content == b"[]"

    [own] = await deliveries(told, 2, staff_of_b)
    assert own["template"] == "certificate-issued.ar"
    assert await sent(told, staff_of_b) == 1


async def test_entraide_officer_sees_their_region_only(
    told: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    officer_07 = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    assert len(await deliveries(told, 1, officer_07)) == 1
    assert len(await deliveries(told, 2, officer_07)) == 1
    assert await deliveries(told, 3, officer_07) == []
    assert await sent(told, officer_07) == 2


@pytest.mark.parametrize(
    ("role", "binding", "visible"),
    [
        (Role.ADMIN, {}, {1, 2, 3}),
        (Role.ENTRAIDE_OFFICER, {"region_code": "04"}, {3}),
        (Role.DIRECTORATE, {"province_code": "072"}, {2}),
        (Role.DIRECTORATE, {"region_code": "07"}, {1, 2}),
        (Role.ASSOCIATION_STAFF, {"association_id": ASSOCIATION_A}, {1}),
        (Role.ASSOCIATION_STAFF, {"association_id": uuid_of("association", 9)}, set()),
        (Role.EDUCATOR, {"center_id": uuid_of("center", 3)}, {3}),
    ],
)
async def test_each_role_reads_and_counts_the_deliveries_of_its_scope(
    told: httpx.AsyncClient,
    headers_for: AuthHeaders,
    role: Role,
    binding: dict[str, str],
    visible: set[int],
) -> None:
    headers = headers_for(role, **binding)
    for n in PLACEMENTS:
        assert len(await deliveries(told, n, headers)) == (1 if n in visible else 0), n
    assert await sent(told, headers) == len(visible)

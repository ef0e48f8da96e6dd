"""Bearer tokens, roles and the scope rule: another association's objects answer 404."""

from __future__ import annotations

import inspect
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from sqlalchemy import Column, MetaData, String, Table, create_engine, select

from fursa.shared import problems
from fursa.shared.auth import (
    CurrentPrincipal,
    Principal,
    Role,
    Staff,
    TokenVerifier,
    allow,
    mint_dev_token,
)
from fursa.shared.problems import Problem

KEY = "test-key-test-key-test-key-test-key"
CENTERS = {
    "c1": {"association_id": "a1", "center_id": "c1", "region_code": "07", "province_code": "071"},
    "c2": {"association_id": "a2", "center_id": "c2", "region_code": "06", "province_code": "141"},
}


def build_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.token_verifier = TokenVerifier(dev_secret=KEY)

    @app.get("/centers/{center_id}")
    async def center(center_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        placement = CENTERS.get(center_id)
        if placement is None:
            raise Problem.not_found()
        principal.ensure_sees(**placement)
        return placement

    @app.post("/admin-only", dependencies=[Depends(allow(Role.ADMIN))])
    async def admin_only() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/staff-only")
    async def staff_only(principal: Staff) -> list[str]:
        return [c for c, placement in CENTERS.items() if principal.sees(**placement)]

    return app


async def get(path: str, token: str | None, method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, headers=headers)


async def test_no_token_is_401_problem() -> None:
    response = await get("/centers/c1", None)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_token_signed_with_another_key_is_refused() -> None:
    forged = mint_dev_token("another-key-another-key-another-key", role=Role.ADMIN)
    assert (await get("/centers/c1", forged)).status_code == 401


async def test_expired_token_is_refused() -> None:
    expired = jwt.encode(
        {
            "iss": "fursa-development",
            "aud": "fursa",
            "sub": "x",
            "role": "admin",
            "exp": int(time.time()) - 10,
        },
        KEY,
        algorithm="HS256",
    )
    response = await get("/centers/c1", expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def dev_token(**claims: object) -> str:
    return jwt.encode(
        {"iss": "fursa-development", "aud": "fursa", "sub": "x", "role": "admin", **claims},
        KEY,
        algorithm="HS256",
    )


def test_a_token_is_remembered_until_it_expires_and_a_refusal_never() -> None:
    verifier = TokenVerifier(dev_secret=KEY)
    now = int(time.time())
    expiring = dev_token(exp=now + 2)
    not_yet_valid = dev_token(exp=now + 60, nbf=now + 2)
    assert verifier.verify(expiring) == verifier.verify(expiring) == Principal("x", Role.ADMIN)
    with pytest.raises(Problem):
        verifier.verify(not_yet_valid)
    time.sleep(max(now + 2.1 - time.time(), 0))
    with pytest.raises(Problem, match="expired"):
        verifier.verify(expiring)
    assert verifier.verify(not_yet_valid) == Principal("x", Role.ADMIN)


def test_the_verifier_remembers_a_bounded_number_of_tokens() -> None:
    verifier = TokenVerifier(dev_secret=KEY, cache_size=2)
    tokens = [mint_dev_token(KEY, role=Role.ADMIN, subject=f"admin-{n}") for n in range(3)]
    assert [verifier.verify(token).subject for token in tokens] == ["admin-0", "admin-1", "admin-2"]
    assert list(verifier._verified) == tokens[1:]  # the oldest was forgotten
    assert verifier.verify(tokens[0]).subject == "admin-0"


def test_role_checks_run_on_the_event_loop_not_in_a_worker_thread() -> None:
    """FastAPI runs a plain function dependency in a thread per request; a coroutine it awaits."""
    assert inspect.iscoroutinefunction(allow(Role.ADMIN))


async def test_association_staff_see_their_center_and_another_association_gets_404() -> None:
    token = mint_dev_token(KEY, role=Role.ASSOCIATION_STAFF, association_id="a1")
    assert (await get("/centers/c1", token)).status_code == 200
    other = await get("/centers/c2", token)
    assert other.status_code == 404
    # Indistinguishable from an id that does not exist at all.
    assert other.json() == (await get("/centers/nope", token)).json()


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (Principal("s", Role.ADMIN), {"c1", "c2"}),
        (Principal("s", Role.EDUCATOR, center_id="c2"), {"c2"}),
        (Principal("s", Role.ENTRAIDE_OFFICER, region_code="07"), {"c1"}),
        (Principal("s", Role.DIRECTORATE, province_code="141"), {"c2"}),
        (Principal("s", Role.DIRECTORATE, region_code="07"), {"c1"}),
        (Principal("s", Role.PARTNER, partner_id="p"), set()),
    ],
)
def test_each_role_sees_only_its_own_placement(principal: Principal, visible: set[str]) -> None:
    assert {c for c, placement in CENTERS.items() if principal.sees(**placement)} == visible


async def test_wrong_role_is_403_naming_the_role() -> None:
    token = mint_dev_token(KEY, role=Role.EDUCATOR, center_id="c1")
    response = await get("/admin-only", token, method="POST")
    assert response.status_code == 403
    assert response.json()["params"] == {"role": "educator"}


async def test_staff_routes_refuse_a_partner_and_serve_the_programmes_staff() -> None:
    """A partner's system is refused with 403, not answered as if its scope were empty."""
    partner = mint_dev_token(KEY, role=Role.PARTNER, partner_id="p")
    refused = await get("/staff-only", partner)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["params"] == {"role": "partner"}
    educator = mint_dev_token(KEY, role=Role.EDUCATOR, center_id="c1")
    served = await get("/staff-only", educator)
    assert served.status_code == 200
    assert served.json() == ["c1"]


def test_a_role_token_without_its_binding_cannot_be_minted() -> None:
    with pytest.raises(Problem):
        mint_dev_token(KEY, role=Role.ASSOCIATION_STAFF)


@pytest.mark.parametrize(
    "principal",
    [
        Principal("s", Role.ADMIN),
        Principal("s", Role.ASSOCIATION_STAFF, association_id="a1"),
        Principal("s", Role.EDUCATOR, center_id="c2"),
        Principal("s", Role.ENTRAIDE_OFFICER, region_code="07"),
        Principal("s", Role.DIRECTORATE, province_code="141"),
        Principal("s", Role.DIRECTORATE, region_code="06"),
        Principal("s", Role.PARTNER, partner_id="p"),
    ],
)
def test_sql_scope_selects_exactly_what_the_caller_sees(principal: Principal) -> None:
    metadata = MetaData()
    centers = Table(
        "center",
        metadata,
        *(Column(name, String) for name in ("center_id", "association_id", "region", "province")),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        for placement in CENTERS.values():
            connection.execute(
                centers.insert().values(
                    center_id=placement["center_id"],
                    association_id=placement["association_id"],
                    region=placement["region_code"],
                    province=placement["province_code"],
                )
            )
        condition = principal.visible(
            association=centers.c.association_id,
            center=centers.c.center_id,
            region=centers.c.region,
            province=centers.c.province,
        )
        selected = set(connection.execute(select(centers.c.center_id).where(condition)).scalars())
    assert selected == {c for c, placement in CENTERS.items() if principal.sees(**placement)}


def test_production_tokens_are_verified_against_the_issuers_jwks() -> None:
    """A real JWKS endpoint over HTTP: the issuer's key verifies, another key does not."""
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer_key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        verifier = TokenVerifier(jwks_url=url, issuer="https://id.example.ma")
        claims = {
            "iss": "https://id.example.ma",
            "aud": "fursa",
            "sub": "officer-7",
            "role": "entraide_officer",
            "region_code": "07",
            "exp": int(time.time()) + 60,
        }
        token = jwt.encode(claims, issuer_key, algorithm="RS256", headers={"kid": "k1"})
        assert verifier.verify(token) == Principal(
            "officer-7", Role.ENTRAIDE_OFFICER, region_code="07"
        )
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "k1"})
        with pytest.raises(Problem):
            verifier.verify(forged)
        with pytest.raises(Problem):
            verifier.verify(mint_dev_token(KEY, role=Role.ADMIN))
    finally:
        server.shutdown()

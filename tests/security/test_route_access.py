"""Every route of every service, enumerated from its OpenAPI document, called without a token,
with a role it does not serve, and with another association's ids (DESIGN.md, guarantee 6).

Routes are discovered, not listed: a route added to any service is covered as soon as it
exists. The tables below only say what cannot be discovered — which routes are public, which
ids fill which path parameter, and what body a write needs — and a route they cannot serve
fails the suite naming what to add.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fursa.cli.demo import enrollment_body
from fursa.shared.auth import Role, dev_authorization
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from tests.reliability.flow import SERVICES
from tests.security.conftest import Seeded

# Routes anyone may call: the operations endpoints every service has, and what the public or
# a partner engineer reads without an account.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/asyncapi"),
}
PUBLIC_OF = {
    "certification": {
        ("GET", "/verify"),
        ("GET", "/verify/{number}"),
        ("GET", "/verify/{number}/status"),
        ("GET", "/verify/{number}/credential"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/issuer"),
        ("GET", "/.well-known/did.json"),
        ("GET", "/status-lists/revocation/{number}"),
        ("GET", "/achievements/{kind}/{pathway}"),
    },
    "notify": {("GET", "/partner/asyncapi.json"), ("GET", "/partner/schemas/{event_type}.json")},
}
# The programme's reference data (school years, pathways): no one's data, any caller reads it.
REFERENCE_DATA = {("GET", "/school-years"), ("GET", "/pathways")}
# Routes for operators only.
ADMIN_ONLY = re.compile(r"^/dead-letters")
# Routes a partner organisation's system may call (with its own scope: another partner's ids
# answer 404, which notify's own access tests prove; another partner's referrals are never
# listed, which enrollment's referral tests prove).
PARTNER_ROUTES = {
    ("GET", "/partner/referrals"),
    ("GET", "/partners/{partner_id}"),
    ("POST", "/partners/{partner_id}/endpoints"),
    ("GET", "/partners/{partner_id}/endpoints"),
    ("PATCH", "/partners/{partner_id}/endpoints/{endpoint_id}"),
    ("POST", "/partners/{partner_id}/endpoints/{endpoint_id}/secret"),
    ("GET", "/partners/{partner_id}/endpoints/{endpoint_id}/deliveries"),
    ("POST", "/partners/{partner_id}/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"),
}
# Reads of an enrollment's object for Entraide Nationale officers only (within their region,
# which certification's own tests prove): association staff, even the demo association's own,
# are refused them.
OFFICER_READS = {("GET", "/approvals/{enrollment_id}/preview.pdf")}
# Path parameters the seeded ids do not name: objects no association owns.
EXTRA_IDS = {
    "dead_letter_id": "1",
    "agreement_id": str(uuid.UUID(int=1)),
    "partner_id": str(uuid.UUID(int=2)),
    "endpoint_id": str(uuid.UUID(int=3)),
    "delivery_id": str(uuid.UUID(int=4)),
    "event_type": "fursa.partner.learner-enrolled.v1",
    "earlier_learner_id": str(uuid.UUID(int=5)),
    "assessment_id": str(uuid.UUID(int=6)),
    "session_id": str(uuid.UUID(int=7)),
    "referral_id": str(uuid.UUID(int=8)),
    "association_id": str(uuid.UUID(int=9)),
    # Names rather than ids: a pathway, a class, a follow-up's month, a region, a kind of
    # certificate (the routes behind them check the caller's scope all the same).
    "pathway": "vocational_training",
    "class_name": "A",
    "months_after": "6",
    "region_code": "07",
    "kind": "diploma",
    "month": "2026-01",  # a required query parameter (SMS usage)
}
# The seeded learner's ids, which the demo association's own staff may read.
ASSOCIATION_IDS = {"enrollment_id", "learner_id", "training_id", "number", "center_id"}


def bodies(ids: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each write, naming the demo association's objects."""
    return {
        ("POST", "/enrollments"): enrollment_body(1, ids["center_id"]),
        ("POST", "/trainings/{training_id}/completion"): {"result": "passed"},
    }


@dataclass(frozen=True)
class Route:
    service: str
    base_url: str
    method: str
    path: str
    operation: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def secured(self) -> bool:
        return bool(self.operation.get("security"))

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def request(self, ids: dict[str, str], headers: dict[str, str]) -> httpx.Response:
        """Call the route with every parameter filled from ``ids`` (and a body for writes)."""
        values = {**EXTRA_IDS, **ids}
        missing = [name for name in self.path_parameters if name not in values]
        assert not missing, f"{self}: add an id for {missing} to the security suite's tables"
        path = self.path.format(**{name: values[name] for name in self.path_parameters})
        query = {
            p["name"]: values[p["name"]]
            for p in self.operation.get("parameters", [])
            if p["in"] == "query" and p.get("required") and p["name"] in values
        }
        body = None
        if "requestBody" in self.operation:
            # Without a valid body in the table, an empty one: authentication and the role
            # checks come before the body is validated.
            body = bodies(ids).get(self.key, {})
        return httpx.request(
            self.method,
            f"{self.base_url}{path}",
            params=query,
            json=body,
            headers=headers,
            timeout=30,
        )


def routes(seeded: Seeded) -> Iterator[Route]:
    for service in SERVICES:
        base_url = seeded.platform.url(service)
        document = httpx.get(f"{base_url}/openapi.json", timeout=30).raise_for_status().json()
        for path, item in document["paths"].items():
            for method, operation in item.items():
                yield Route(service, base_url, method.upper(), path, operation)


def secured(seeded: Seeded) -> list[Route]:
    return [route for route in routes(seeded) if route.secured]


def other_association() -> dict[str, str]:
    return dev_authorization(Role.ASSOCIATION_STAFF, association_id=str(uuid.uuid4()))


@pytest.mark.slow
def test_only_the_operations_endpoints_are_public(seeded: Seeded) -> None:
    public = {(route.service, *route.key) for route in routes(seeded) if not route.secured}
    assert public == {
        (service, *key) for service in SERVICES for key in PUBLIC | PUBLIC_OF.get(service, set())
    }


@pytest.mark.slow
def test_every_route_refuses_a_missing_or_forged_token(seeded: Seeded) -> None:
    forged = dev_authorization(key="not-the-platform-key-" + "x" * 32)
    for route in secured(seeded):
        for headers in ({}, forged, {"Authorization": "Bearer not-a-jwt"}):
            response = route.request(seeded.ids, headers)
            assert response.status_code == 401, f"{route}: {response.status_code}"
            assert response.headers["content-type"].startswith(PROBLEM_JSON), str(route)


@pytest.mark.slow
def test_every_route_refuses_a_role_it_does_not_serve(seeded: Seeded) -> None:
    """A partner's system is refused every route but its own and the reference data with 403
    problem+json (never an empty list or zero counts, nor 404), and association staff are
    refused the operators' routes."""
    partner = dev_authorization(Role.PARTNER, partner_id="partner-1")
    own_staff = dev_authorization(
        Role.ASSOCIATION_STAFF, association_id=seeded.ids["association_id"]
    )
    wrong: list[str] = []
    for route in secured(seeded):
        if route.key not in PARTNER_ROUTES | REFERENCE_DATA:
            response = route.request(seeded.ids, partner)
            refused = response.status_code == 403 and response.headers.get(
                "content-type", ""
            ).startswith(PROBLEM_JSON)
            if not refused:
                wrong.append(f"{route} to a partner: {response.status_code} {response.text}")
        if ADMIN_ONLY.match(route.path):
            response = route.request(seeded.ids, own_staff)
            if response.status_code != 403:
                wrong.append(f"{route} to association staff: {response.status_code}")
    assert not wrong


@pytest.mark.slow
def test_another_associations_ids_are_answered_as_if_they_did_not_exist(seeded: Seeded) -> None:
    """Staff of another association get 404 for the demo association's objects — where the
    demo association's own staff get them (the positive control) — and never see their ids."""
    own_staff = dev_authorization(
        Role.ASSOCIATION_STAFF, association_id=seeded.ids["association_id"]
    )
    secrets = {seeded.ids[name] for name in ("enrollment_id", "learner_id", "training_id")}
    secrets.add(seeded.ids["number"])
    wrong: list[str] = []
    for route in secured(seeded):
        if ADMIN_ONLY.match(route.path):
            continue
        response = route.request(seeded.ids, other_association())
        if route.method == "GET" and not set(route.path_parameters) <= ASSOCIATION_IDS:
            # Objects no association owns (agreements, partners): refused or not found.
            if response.status_code not in (403, 404):
                wrong.append(f"{route}: {response.status_code}")
        elif route.key in OFFICER_READS:
            control = route.request(seeded.ids, own_staff)
            if (response.status_code, control.status_code) != (403, 403):
                wrong.append(f"{route}: {response.status_code}, own staff {control.status_code}")
        elif route.method == "GET" and route.path_parameters:
            control = route.request(seeded.ids, own_staff)
            if response.status_code != 404 or control.status_code != 200:
                wrong.append(f"{route}: {response.status_code}, own staff {control.status_code}")
        elif route.method == "GET":
            # A list is either refused to association staff (e.g. the audit log) or shows
            # only their own association's objects.
            leaked = [secret for secret in secrets if secret in response.text]
            if response.status_code not in (200, 403) or leaked:
                wrong.append(f"{route}: {response.status_code}, shows {leaked}")
        elif response.status_code not in (403, 404, 422):
            wrong.append(f"{route}: {response.status_code}")
    assert not wrong

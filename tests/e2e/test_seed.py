"""The demo data ``fursa up`` seeds: seeding twice adds nothing, and every role's main console
pages show something (signed in through the console's development sign-in, over HTTP)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from fursa.cli.demo import run_demo
from fursa.cli.platform import CONSOLE, SERVICES, Platform
from fursa.cli.seed import (
    APPLICANTS,
    AWAITING_APPROVAL,
    CLASSES,
    GRADUATES,
    ISSUANCE_POLICY,
    ISSUANCE_POLICY_VARIABLE,
    PARTNERS,
    PLACES,
    REFERRALS,
    SEEDED_LEARNERS,
    seed,
)
from fursa.shared.auth import dev_authorization
from fursa.shared.natsserver import free_port

SESSION_COOKIE = re.compile(r"fursa_console=([^;]+)")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(
        var_dir=tmp_path_factory.mktemp("var"),
        ports={**{name: free_port() for name in SERVICES}, CONSOLE: free_port()},
        extra_env={ISSUANCE_POLICY_VARIABLE: json.dumps(ISSUANCE_POLICY)},  # as fursa up
    )
    try:
        running.start(timeout_s=180)
        yield running
    finally:
        running.stop()


def urls(platform: Platform) -> dict[str, str]:
    return {service: platform.url(service) for service in SERVICES}


def counts(platform: Platform) -> dict[str, Any]:
    """What the seed leaves, read back from the services' APIs."""
    admin = httpx.Client(headers=dev_authorization(), timeout=30)
    enrollments = admin.get(
        f"{platform.url('enrollment')}/enrollments", params={"limit": 1000}
    ).json()
    trainings = admin.get(f"{platform.url('training')}/trainings", params={"limit": 1000}).json()
    center_id = enrollments[0]["center_id"]
    classes = admin.get(f"{platform.url('training')}/centers/{center_id}/classes").json()
    sessions = {
        name: len(
            admin.get(
                f"{platform.url('training')}/centers/{center_id}/classes/{name}/sessions",
                params={"limit": 200},
            ).json()
        )
        for name in CLASSES
    }
    first_class = admin.get(
        f"{platform.url('training')}/centers/{center_id}/classes/{next(iter(CLASSES))}"
    ).json()
    partners = {
        partner["partner_id"]: partner["name"]
        for partner in admin.get(f"{platform.url('notify')}/partners").json()
    }
    agreements = admin.get(f"{platform.url('enrollment')}/agreements").json()
    referrals = sorted(
        (partners.get(agreement["partner_id"]), r["reference"], r["status"], r["sharing"])
        for agreement in agreements
        for r in admin.get(
            f"{platform.url('enrollment')}/agreements/{agreement['id']}/referrals"
        ).json()
    )
    certificates = sum(
        len(
            admin.get(
                f"{platform.url('certification')}/certificates",
                params={"enrollment_id": e["enrollment_id"]},
            ).json()
        )
        for e in enrollments
    )
    return {
        "enrollments": len(enrollments),
        "waitlisted": sum(e["status"] == "waitlisted" for e in enrollments),
        "trainings": len(trainings),
        "completed": sum(t["status"] == "completed" for t in trainings),
        "classes": sorted((c["class_name"] or "", c["learners"]) for c in classes),
        "sessions": sessions,
        "at_risk": sum(learner["at_risk"] for learner in first_class),
        "certificates": certificates,
        "partners": sorted(partners.values()),
        "agreements": sorted(
            (partners.get(a["partner_id"]), a["partner_name"]) for a in agreements
        ),
        "referrals": referrals,
    }


def settled(platform: Platform, timeout_s: float = 120) -> dict[str, Any]:
    """The counts once the full pathway's trainings are open and the diplomas issued."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = counts(platform)
        if found["trainings"] >= SEEDED_LEARNERS + PLACES and found["certificates"] >= GRADUATES:
            return found
        assert time.monotonic() < deadline, f"the seed's work did not land: {found}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def seeded(platform: Platform) -> dict[str, Any]:
    asyncio.run(seed(urls(platform)))
    return settled(platform)


def test_seeding_again_adds_nothing_and_leaves_the_demo_its_learners(
    platform: Platform, seeded: dict[str, Any]
) -> None:
    assert seeded["enrollments"] == SEEDED_LEARNERS + APPLICANTS
    assert seeded["trainings"] == SEEDED_LEARNERS + PLACES
    assert seeded["waitlisted"] == APPLICANTS - PLACES
    assert seeded["completed"] == GRADUATES + AWAITING_APPROVAL
    assert seeded["certificates"] == GRADUATES  # the others await the officer
    assert seeded["at_risk"] == 1
    assert all(held > 0 for held in seeded["sessions"].values())
    # Each partner is onboarded, named by its agreement, and its referrals stand where seeded.
    assert seeded["partners"] == sorted(PARTNERS)
    assert seeded["agreements"] == [(name, name) for name in sorted(PARTNERS)]
    assert seeded["referrals"] == sorted(
        (r.partner, r.reference, r.status, r.sharing) for r in REFERRALS
    )
    asyncio.run(seed(urls(platform)))
    assert counts(platform) == seeded
    # ``fursa demo`` after ``fursa up``: none of its learners is one the seed enrolled.
    demo = asyncio.run(run_demo(urls(platform), 3))
    assert demo.enrolled == demo.certificates == 3


@contextmanager
def signed_in(platform: Platform, role: str) -> Iterator[httpx.Client]:
    """A client of the console signed in as the seeded person of ``role``. The session cookie
    is Secure, so it is carried by hand over plain HTTP (and redirects are not followed: each
    answer's cookie must be the one sent next)."""
    with httpx.Client(base_url=platform.url(CONSOLE), timeout=30) as client:
        yield _sign_in(client, role)


def _sign_in(client: httpx.Client, role: str) -> httpx.Client:
    def keep_session(response: httpx.Response) -> None:
        found = SESSION_COOKIE.search(response.headers.get("set-cookie", ""))
        if found:
            client.headers["Cookie"] = f"fursa_console={found.group(1)}"

    sign_in = client.get("/sign-in")
    keep_session(sign_in)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', sign_in.text)
    assert csrf, sign_in.text
    answer = client.post("/sign-in/development", data={"csrf_token": csrf[1], "role": role})
    assert answer.status_code == 303, answer.text
    keep_session(answer)
    return client


# Per role, its main pages and a mark of each page's content that only data give: a learner's
# name, a class of the seed, a pair of possible duplicates (the demo's few names come back),
# a cohort to approve, a dashboard table, a partner's referral, a partner.
LEARNER = "Houda Amziane"
PAGES = {
    "association_staff": {
        "/learners": LEARNER,
        "/classes": "Groupe 1",
        "/duplicates": 'href="/duplicates/',
        "/referrals": REFERRALS[0].reference,
    },
    "educator": {"/learners": LEARNER, "/classes": "Groupe 2"},
    "entraide_officer": {"/approvals": 'href="/cohorts/', "/dashboard": "<td"},
    "directorate": {"/dashboard": "<td"},
    "admin": {
        "/learners": LEARNER,
        "/classes": "Groupe 1",
        "/approvals": 'href="/cohorts/',
        "/dashboard": "<td",
        "/partners": 'href="/partners/',
    },
}


@pytest.mark.parametrize("role", list(PAGES))
def test_each_roles_main_pages_show_the_seeded_data(
    platform: Platform, seeded: dict[str, Any], role: str
) -> None:
    with signed_in(platform, role) as console:
        for path, content in PAGES[role].items():
            page = console.get(path)
            assert page.status_code == 200, (path, page.text)
            assert content in page.text, (role, path)


def test_the_dashboard_shows_figures_beyond_the_small_counts(
    platform: Platform, seeded: dict[str, Any]
) -> None:
    with signed_in(platform, "directorate") as console:
        page = console.get("/dashboard").text
    figures = [int(n) for n in re.findall(r"<td[^>]*>\s*(\d+)\s*</td>", page)]
    assert any(n >= 5 for n in figures), page

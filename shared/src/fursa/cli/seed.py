"""``fursa seed``: demo data that give every role's console pages something to show.

Through the services' public APIs with a development administrator token: learners of the
demo center in two classes with a few sessions called (one learner always absent, so at risk)
and an assessment recorded, a group taken to a passed completion, so that diplomas are issued
and the directorate's dashboard shows figures, and a cohort of school reintegration whose
attestations await an Entraide Nationale officer's approval (``fursa up`` runs the
certification service with :data:`ISSUANCE_POLICY`). A pathway of the center is given
fewer places than it has applicants, so that one waits on its waiting list. Last, partner
bodies are onboarded and given agreements with the demo association, through which they
refer a few learners (known by the partner's file number), at each step of a referral.

Seeding again adds nothing: each learner is imported under the same idempotency key every
time (a repeat answers ``already_imported``), a class whose sessions are recorded is left as
it is, and only the completing group's open trainings are taken through; a partner, an
agreement or a referral is known by its name or file number and made only when missing, and
a referral is moved on only while it has not reached its status.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from fursa.cli.demo import (
    IMPORT_BATCH,
    Caller,
    DemoFailed,
    Request,
    checked,
    complete_trainings,
    enrollment_cells,
    idempotency_key,
)
from fursa.shared.auth import dev_authorization
from fursa.shared.clock import local_today
from fursa.shared.contracts import (
    Pathway,
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
)

# The school year of ``enrollment_cells``.
SCHOOL_YEAR = "2025/2026"

# The seeded learners are ``enrollment_cells``'s from this number on: people (guardians'
# phones) that ``fursa demo``, which counts from 0, never enrols, so that it refuses none of
# its own as already enrolled. A multiple of 90 keeps the names and birth dates of 0, 1…
FIRST_SEEDED = 18_000_000

# The idempotency keys' run: the same at every seed, so that a repeat imports no one twice.
SEED_RUN = "console-seed"

# The two classes, in order, and how many learners each has; then those taken to a diploma.
CLASSES = {"Groupe 1": 10, "Groupe 2": 10}
GRADUATES = 8
# The pathway ``enrollment_cells`` enrols into.
PATHWAY = Pathway.VOCATIONAL_TRAINING
# Learners of the cohort awaiting the officer's approval, and their pathway.
AWAITING_APPROVAL = 6
APPROVED_PATHWAY = Pathway.SCHOOL_REINTEGRATION
SEEDED_LEARNERS = sum(CLASSES.values()) + GRADUATES + AWAITING_APPROVAL
# The full pathway: its places, and its applicants (enrolled after the others); one waits.
FULL_PATHWAY = Pathway.SOCIO_PROFESSIONAL_INSERTION
PLACES = 2
APPLICANTS = 3

# ``fursa up``'s certification policy: diplomas issued at once (``fursa demo`` waits for
# them), the seeded cohort's attestations held for an officer, so the approvals page has one.
ISSUANCE_POLICY_VARIABLE = "FURSA_CERTIFICATION_ISSUANCE_POLICY"
ISSUANCE_POLICY = {**dict.fromkeys(Pathway, "automatic"), APPROVED_PATHWAY: "approval"}

# Sessions called in each class (the early warning's window), on the days before today; the
# first learner of the first class misses them all (the early warning marks them at risk).
SESSIONS = 5
SESSION_HOURS = 2.0
ASSESSMENT_SCORE = 13

# Partner bodies that refer out-of-school children to the demo association, each onboarded
# (without a webhook: nothing listens for one in development) and named by its agreement, so
# that it is told of its referrals as far as consented; with each agreement's purpose.
PARTNERS = {
    "Centre de sauvegarde de l'enfance de Fès": "Orientation d'enfants sortis de l'école",
    "Maison des jeunes de Sefrou": "Orientation de jeunes sortis de l'école du quartier",
}
AGREEMENTS_START = date(2025, 9, 1)


@dataclass(frozen=True)
class SeededReferral:
    """A learner a partner referred, received ``days_ago`` and taken to ``status``."""

    partner: str
    reference: str
    days_ago: int
    sharing: ReferralSharing
    consent_given_by: str | None
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None = None


_CENTRE, _MAISON = PARTNERS
REFERRALS = (
    SeededReferral(
        _CENTRE, "CSE-2025/118", 40, ReferralSharing.STATUS, "guardian", ReferralStatus.ACCEPTED
    ),
    SeededReferral(
        _CENTRE, "CSE-2025/131", 12, ReferralSharing.NONE, None, ReferralStatus.REFERRED
    ),
    SeededReferral(
        _MAISON,
        "MJS-2025/027",
        60,
        ReferralSharing.STATUS_AND_PLACEMENT,
        "learner",
        ReferralStatus.CLOSED,
        ReferralClosingReason.UNREACHABLE,
    ),
    SeededReferral(
        _MAISON, "MJS-2026/003", 3, ReferralSharing.STATUS, "guardian", ReferralStatus.REFERRED
    ),
)


@dataclass
class SeedResult:
    learners: int
    classes: int
    graduates: int
    awaiting_approval: int
    waiting: int
    partners: int
    referrals: int


async def seed(urls: dict[str, str], timeout_s: float = 120) -> SeedResult:
    """Seed the platform at ``urls`` (service → base URL); safe to run again."""
    async with httpx.AsyncClient(timeout=30, headers=dev_authorization()) as http:
        call = Caller(http, asyncio.Semaphore(8), patience_s=timeout_s)
        centers = checked(await call("GET", f"{urls['enrollment']}/centers"))
        center_id = centers[0]["id"]
        # A PUT: the same places again change nothing.
        capacity = {"pathway": FULL_PATHWAY, "school_year": SCHOOL_YEAR, "places": PLACES}
        checked(
            await call("PUT", f"{urls['enrollment']}/centers/{center_id}/capacity", json=capacity)
        )
        enrollment_ids = await _import_learners(call, urls["enrollment"], center_id)
        trainings = await asyncio.gather(
            *(
                _training_of(call, urls["training"], e, timeout_s)
                for e in enrollment_ids[:SEEDED_LEARNERS]
            )
        )
        training_api = call.of(urls["training"])
        curriculum = checked(await training_api("GET", "/curriculum"))
        start = 0
        for class_name, size in CLASSES.items():
            members = [t["id"] for t in trainings[start : start + size]]
            start += size
            await _call_class(training_api, curriculum, center_id, class_name, members)
        # The graduates, then the cohort awaiting approval (a class of their own pathway).
        graduates = [t for t in trainings[start:] if t["status"] == "open"]
        if graduates:
            await complete_trainings(http, urls["training"], graduates, request=training_api)
        partner_ids = await _onboard_partners(call, urls["notify"])
        await _refer(call, urls["enrollment"], centers[0]["association_id"], partner_ids)
    return SeedResult(
        learners=len(enrollment_ids),
        classes=len(CLASSES),
        graduates=GRADUATES,
        awaiting_approval=AWAITING_APPROVAL,
        waiting=APPLICANTS - PLACES,
        partners=len(PARTNERS),
        referrals=len(REFERRALS),
    )


async def _onboard_partners(call: Caller, notify_url: str) -> dict[str, str]:
    """Each partner's id (name → ``partner_id``), onboarded unless it already is."""
    listed = checked(await call("GET", f"{notify_url}/partners"))
    known = {partner["name"]: partner["partner_id"] for partner in listed}
    for name in PARTNERS.keys() - known.keys():
        onboarding = {"name": name}
        onboarded = checked(
            await call("POST", f"{notify_url}/partners/onboarding", json=onboarding)
        )
        known[name] = onboarded["partner_id"]
    return {name: known[name] for name in PARTNERS}


async def _refer(
    call: Caller, enrollment_url: str, association_id: str, partner_ids: dict[str, str]
) -> None:
    """The partners' agreements with the association and their referrals, each made if missing
    and moved on to its status if it is not there yet."""
    agreements = {
        agreement["partner_name"]: agreement["id"]
        for agreement in checked(await call("GET", f"{enrollment_url}/agreements"))
        if agreement["association_id"] == association_id
    }
    for name, purpose in PARTNERS.items():
        if name not in agreements:
            body = {
                "association_id": association_id,
                "partner_name": name,
                "partner_id": partner_ids[name],
                "purpose": purpose,
                "starts_on": AGREEMENTS_START.isoformat(),
            }
            made = checked(await call("POST", f"{enrollment_url}/agreements", json=body))
            agreements[name] = made["id"]
    today = local_today()
    for seeded in REFERRALS:
        received = f"{enrollment_url}/agreements/{agreements[seeded.partner]}/referrals"
        held = {r["reference"]: r for r in checked(await call("GET", received))}
        referral = held.get(seeded.reference)
        if referral is None:
            reception = {
                "reference": seeded.reference,
                "received_on": (today - timedelta(days=seeded.days_ago)).isoformat(),
                "sharing": seeded.sharing,
                "consent_given_by": seeded.consent_given_by,
            }
            referral = checked(await call("POST", received, json=reception))
        await _move_on(call, f"{enrollment_url}/referrals/{referral['id']}", referral, seeded)


async def _move_on(
    call: Caller, referral_url: str, referral: dict[str, Any], seeded: SeededReferral
) -> None:
    """Accept or close the referral as far as its seeded status."""
    if seeded.status == ReferralStatus.ACCEPTED and referral["status"] == ReferralStatus.REFERRED:
        checked(await call("POST", f"{referral_url}/accept"))
    if seeded.status == ReferralStatus.CLOSED and referral["status"] != ReferralStatus.CLOSED:
        reason = {"reason": seeded.closing_reason}
        checked(await call("POST", f"{referral_url}/close", json=reason))


async def _import_learners(call: Caller, enrollment_url: str, center_id: str) -> list[str]:
    rows = [
        {
            "line": n + 1,
            "key": idempotency_key(SEED_RUN, n),
            "cells": _cells(n, center_id),
        }
        for n in range(SEEDED_LEARNERS + APPLICANTS)
    ]
    enrollment_ids: list[str] = []
    for start in range(0, len(rows), IMPORT_BATCH):
        answer = checked(
            await call(
                "POST",
                f"{enrollment_url}/imports/learners",
                json={"rows": rows[start : start + IMPORT_BATCH]},
            )
        )
        for result in answer["rows"]:
            if result["status"] not in ("enrolled", "waitlisted", "already_imported"):
                raise DemoFailed(f"seed learner {result['line'] - 1}: {result['status']}")
            enrollment_ids.append(result["enrollment_id"])
    return enrollment_ids


def _cells(n: int, center_id: str) -> dict[str, str]:
    """Learner ``n``'s import cells: the cohort awaiting approval, then the full pathway's
    applicants, come last."""
    cells = enrollment_cells(FIRST_SEEDED + n, center_id)
    if n >= SEEDED_LEARNERS:
        cells["pathway"] = FULL_PATHWAY
    elif n >= SEEDED_LEARNERS - AWAITING_APPROVAL:
        cells["pathway"] = APPROVED_PATHWAY
    return cells


async def _training_of(
    call: Caller, training_url: str, enrollment_id: str, timeout_s: float
) -> dict[str, Any]:
    """The learner's training, once the training service has opened it."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = checked(
            await call("GET", f"{training_url}/trainings", params={"enrollment_id": enrollment_id})
        )
        if found:
            training: dict[str, Any] = found[0]
            return training
        if time.monotonic() > deadline:
            raise DemoFailed(f"no training opened for enrollment {enrollment_id}")
        await asyncio.sleep(0.2)


async def _call_class(
    training_api: Request,
    curriculum: dict[str, Any],
    center_id: str,
    class_name: str,
    members: list[str],
) -> None:
    """Record the class's sessions and an assessment of its first module, unless its sessions
    are already recorded."""
    held = checked(await training_api("GET", f"/centers/{center_id}/classes/{class_name}/sessions"))
    if held:
        return
    plan = next(p for p in curriculum["pathways"] if p["pathway"] == PATHWAY)
    module = plan["modules"][0]["module"]
    absent = members[0] if class_name == next(iter(CLASSES)) else None
    today = local_today()
    for days_ago in range(SESSIONS, 0, -1):
        body = {
            "module": module,
            "held_on": (today - timedelta(days=days_ago)).isoformat(),
            "hours": SESSION_HOURS,
            "class_name": class_name,
            "attendance": [{"training_id": t, "present": t != absent} for t in members],
        }
        (await training_api("POST", "/sessions", json=body)).raise_for_status()
    scores = [{"training_id": t, "score": ASSESSMENT_SCORE} for t in members]
    body = {"module": module, "assessed_on": today.isoformat(), "scores": scores}
    (await training_api("POST", "/assessments", json=body)).raise_for_status()

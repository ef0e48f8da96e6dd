"""``fursa demo``: drive learners through the running platform and check every count.

Give the demo association an e-mail address for its notices, enroll N learners over HTTP, wait
for training to open their records, take them through their sessions and assessments to a
passed completion, then wait for a certificate per learner, a guardian notification per
consenting guardian and a notice to the association per certificate — read back from each
service's API, learner by learner.

A service that restarts meanwhile (a crash, a deployment) is waited for: every call is tried
again with backoff (:class:`Caller`) for as long as the demo's patience lasts, and only where a
repeat cannot do a thing twice — reads; the association's contact (a PUT); enrollments, sent
through the bulk import with one idempotency key per learner and run, so that a repeated batch
answers ``already_imported`` with the enrollment made the first time; class sessions,
assessments and completions, which answer 409 when repeated after they landed.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from fursa.shared.adulthood import is_adult
from fursa.shared.auth import dev_authorization
from fursa.shared.clock import local_today
from fursa.shared.messaging.streams import CERTIFICATE_ISSUED

# Where the demo association's notices go (into the local SMTP sink under `fursa up`).
ASSOCIATION_ADDRESS = "suivi@association-demo.ma"

# Learners taken through their sessions together by ``complete_trainings``.
CLASS_SIZE = 200

# Rows per request to the bulk import (the service takes up to 500).
IMPORT_BATCH = 100

Request = Callable[..., Awaitable[httpx.Response]]
"""``request(method, path, **kwargs)``: one call to the training service."""


# Failures before a request left the client: repeating it cannot do anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class DemoFailed(RuntimeError):  # noqa: N818 - reads as what happened
    """The platform refused a step of the demo, or did not answer within the demo's patience."""


@dataclass
class Caller:
    """Calls the services, trying again with exponential backoff (and jitter) while a service
    cannot be reached or answers 5xx — a restart — until ``patience_s`` has passed.

    Only calls that are safe to repeat go through here. A write that may have landed before
    its answer was lost is repeated only when ``conflict_means_done``: the service answers
    such a repeat 409, which is then taken as the success it was.
    """

    http: httpx.AsyncClient
    limits: asyncio.Semaphore
    patience_s: float = 120.0
    first_delay_s: float = 0.1
    max_delay_s: float = 2.0
    # Told once when a service stops answering, and once when it answers again.
    notice: Callable[[str], None] | None = None
    _waiting: set[str] = field(default_factory=set)

    async def __call__(
        self, method: str, url: str, *, conflict_means_done: bool = False, **kwargs: Any
    ) -> httpx.Response:
        deadline = time.monotonic() + self.patience_s
        attempt = 0
        maybe_landed = False
        while True:
            problem: str
            try:
                async with self.limits:
                    response = await self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                # A request that got no connection never reached the service; once sent, it
                # may have (the answer, not the request, may be what was lost).
                maybe_landed = maybe_landed or not isinstance(exc, _NOT_SENT)
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 500:
                    self._back(url)
                if response.status_code == 409 and maybe_landed and conflict_means_done:
                    return httpx.Response(200, request=response.request)
                if response.status_code < 500:
                    return response
                maybe_landed = True
                problem = f"HTTP {response.status_code}"
            self._away(url, problem)
            delay = min(self.max_delay_s, self.first_delay_s * 2**attempt)
            delay *= random.uniform(0.5, 1.0)
            if time.monotonic() + delay > deadline:
                raise DemoFailed(
                    f"{method} {url}: no answer within {self.patience_s:.0f}s ({problem})"
                )
            attempt += 1
            await asyncio.sleep(delay)

    def _away(self, url: str, problem: str) -> None:
        origin = str(httpx.URL(url).copy_with(path="/", query=None)).rstrip("/")
        if origin not in self._waiting:
            self._waiting.add(origin)
            if self.notice:
                self.notice(f"{origin} does not answer ({problem}): waiting for it")

    def _back(self, url: str) -> None:
        origin = str(httpx.URL(url).copy_with(path="/", query=None)).rstrip("/")
        if origin in self._waiting:
            self._waiting.discard(origin)
            if self.notice:
                self.notice(f"{origin} answers again")

    def of(self, base_url: str) -> Request:
        """The :data:`Request` of one service (``complete_trainings``'s form): writes there
        are all of the kind a repeat answers 409."""

        async def request(method: str, path: str, **kwargs: Any) -> httpx.Response:
            return await self(
                method, f"{base_url}{path}", conflict_means_done=method != "GET", **kwargs
            )

        return request


NAMES = [
    ("سلمى", "بنعلي", "Salma", "Benali"),
    ("يوسف", "العلوي", "Youssef", "El Alaoui"),
    ("هدى", "أمزيان", "Houda", "Amziane"),
    ("أيوب", "الإدريسي", "Ayoub", "El Idrissi"),
    ("مريم", "بوزيد", "Meryem", "Bouzid"),
]


@dataclass
class DemoResult:
    enrolled: int
    completed: int
    certificates: int
    notifications: int
    expected_notifications: int
    association_notices: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "enrolled": self.enrolled,
            "completed": self.completed,
            "certificates": self.certificates,
            "notifications": self.notifications,
            "association_notices": self.association_notices,
            "seconds": round(self.seconds, 2),
        }


def consents(n: int) -> bool:
    """Every fifth guardian declines notifications: nothing must be sent to them."""
    return n % 5 != 4


def enrollment_body(n: int, center_id: str) -> dict[str, Any]:
    first_ar, last_ar, first_lat, last_lat = NAMES[n % len(NAMES)]
    # Aged 12 to 17 when the 2025/2026 school year starts, out of school since 2024.
    born = date(2008 + n % 5, 1 + n % 9, 10 + n % 10)
    body: dict[str, Any] = {
        "learner": {
            "first_name_ar": first_ar,
            "last_name_ar": last_ar,
            "first_name_latin": first_lat,
            "last_name_latin": last_lat,
            "birth_date": born.isoformat(),
            "sex": "female" if n % 2 else "male",
            "last_school_level": "primary_6",
            "year_left_school": 2024,
        },
        "guardian": {
            "name": f"{first_lat} {last_lat} (guardian)",
            "phone": f"+2126{n % 100_000_000:08d}",
            "preferred_language": "ar" if n % 3 else "fr",
        },
        "consent": {"data_use": True, "notifications": consents(n), "partner_sharing": True},
        "center_id": center_id,
        "pathway": "vocational_training",
        "school_year": "2025/2026",
    }
    if is_adult(born, local_today()):
        # Of age by now: their own contact, which the enrolment desk asks for from 18.
        body["contact"] = {
            "phone": f"+2127{n % 100_000_000:08d}",
            "preferred_language": body["guardian"]["preferred_language"],
        }
    return body


def enrollment_cells(n: int, center_id: str) -> dict[str, str]:
    """:func:`enrollment_body` as the bulk import's cells (the columns of docs/import.md)."""
    body = enrollment_body(n, center_id)
    learner, guardian, consent = body["learner"], body["guardian"], body["consent"]
    contact = body.get("contact")
    own = (
        {"learner_phone": contact["phone"], "learner_language": contact["preferred_language"]}
        if contact
        else {}
    )
    return {
        **{name: str(value) for name, value in learner.items()},
        **own,
        "guardian_name": guardian["name"],
        "guardian_phone": guardian["phone"],
        "guardian_language": guardian["preferred_language"],
        "consent_data_use": str(consent["data_use"]).lower(),
        "consent_notifications": str(consent["notifications"]).lower(),
        "consent_partner_sharing": str(consent["partner_sharing"]).lower(),
        "center_id": body["center_id"],
        "pathway": body["pathway"],
        "school_year": body["school_year"],
    }


def idempotency_key(run: str, n: int) -> str:
    """Learner ``n``'s key in demo run ``run``: the same on every try of that run."""
    return hashlib.sha256(f"fursa-demo:{run}:{n}".encode()).hexdigest()


async def enroll_learners(
    call: Caller, enrollment_url: str, center_id: str, learners: int
) -> list[dict[str, Any]]:
    """Enroll learners ``0 … learners-1`` exactly once each, whatever is tried again; returns
    their enrollments (``enrollment_id``, ``learner_id``…), in order."""
    run = uuid.uuid4().hex
    rows = [
        {"line": n + 1, "key": idempotency_key(run, n), "cells": enrollment_cells(n, center_id)}
        for n in range(learners)
    ]
    enrollment_ids: list[str] = []
    for start in range(0, len(rows), IMPORT_BATCH):
        batch = rows[start : start + IMPORT_BATCH]
        # Safe to send again: a row whose key was imported answers with its enrollment.
        response = await call("POST", f"{enrollment_url}/imports/learners", json={"rows": batch})
        if response.status_code != 200:
            raise DemoFailed(f"the import refused the demo's learners: {_problem(response)}")
        for result in response.json()["rows"]:
            if result["status"] not in ("enrolled", "waitlisted", "already_imported"):
                raise DemoFailed(
                    f"learner {result['line'] - 1} was not enrolled: {result['status']} "
                    f"{result.get('rule') or result.get('errors')}"
                )
            enrollment_ids.append(result["enrollment_id"])

    async def enrollment(enrollment_id: str) -> dict[str, Any]:
        response = await call("GET", f"{enrollment_url}/enrollments/{enrollment_id}")
        body: dict[str, Any] = checked(response)
        return body

    return list(await asyncio.gather(*(enrollment(e) for e in enrollment_ids)))


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} {response.text[:200]}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors", []))
    return " ".join(
        part
        for part in (f"HTTP {response.status_code}", body.get("title"), body.get("detail"), errors)
        if part
    )


def checked(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; a refusal stops the demo with the service's own words."""
    if not response.is_success:
        raise DemoFailed(f"{response.request.method} {response.request.url}: {_problem(response)}")
    return response.json()


async def complete_trainings(
    http: httpx.AsyncClient,
    training_url: str,
    trainings: Sequence[Mapping[str, Any]],
    *,
    limits: asyncio.Semaphore | None = None,
    request: Request | None = None,
    patience_s: float = 120.0,
) -> int:
    """Take open trainings to a passed completion the cheapest honest way; returns how many
    completed.

    The completion rule stays enforced: per class (the trainings of one center and pathway,
    up to ``CLASS_SIZE``) one call records each session of every required module and of the
    pathway's required workshops, with everyone present, on past days, until the required
    hours are held; one call per module records the class's assessment (14/20); then each
    training is completed.

    ``request(method, path, **kwargs)`` replaces the built-in caller (a :class:`Caller` with
    ``patience_s``: tried again with backoff, a repeated write's 409 taken as done) when the
    caller has its own, e.g. a fault-injection test; it must follow the same 409 rule.
    """
    limits = limits or asyncio.Semaphore(16)
    call = request or Caller(http, limits, patience_s).of(training_url)
    curriculum = (await call("GET", "/curriculum")).raise_for_status().json()
    plans = {plan["pathway"]: plan for plan in curriculum["pathways"]}
    classes: dict[tuple[str, str], list[str]] = {}
    for training in trainings:
        classes.setdefault((training["center_id"], training["pathway"]), []).append(training["id"])

    async def take_class(pathway: str, ids: list[str]) -> int:
        await hold_class(call, curriculum, plans[pathway], ids, f"class-{uuid.uuid4().hex[:12]}")
        completions = await asyncio.gather(
            *(call("POST", f"/trainings/{t}/completion", json={"result": "passed"}) for t in ids)
        )
        return sum(response.status_code == 200 for response in completions)

    done = await asyncio.gather(
        *(
            take_class(pathway, ids[start : start + CLASS_SIZE])
            for (_center, pathway), ids in classes.items()
            for start in range(0, len(ids), CLASS_SIZE)
        )
    )
    return sum(done)


async def hold_class(
    call: Request,
    curriculum: Mapping[str, Any],
    plan: Mapping[str, Any],
    ids: Sequence[str],
    class_name: str,
) -> None:
    """Hold class ``class_name`` of the trainings ``ids`` (of ``plan``'s pathway) until each
    meets the completion rule: every session of every required module and of the required
    workshops, with everyone present, on past days, and each module's assessment (14/20)."""
    workshops = [m for m in plan["modules"] if m["kind"] == "workshop"]
    modules = [m for m in plan["modules"] if m["kind"] != "workshop"]
    modules += workshops[: plan["workshops_required"]]
    day = local_today()
    for module in modules:
        hours = module["required_hours"]
        while hours > 0:
            day -= timedelta(days=1)
            session = min(hours, curriculum["max_session_hours"])
            hours -= session
            body = {
                "module": module["module"],
                "held_on": day.isoformat(),
                "hours": session,
                "class_name": class_name,
                "attendance": [{"training_id": t, "present": True} for t in ids],
            }
            (await call("POST", "/sessions", json=body)).raise_for_status()
        body = {
            "module": module["module"],
            "assessed_on": local_today().isoformat(),
            "scores": [{"training_id": t, "score": 14} for t in ids],
        }
        (await call("POST", "/assessments", json=body)).raise_for_status()


async def _poll(check: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result is not None or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def run_demo(
    urls: dict[str, str],
    learners: int,
    timeout_s: float = 120,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    notice: Callable[[str], None] | None = None,
) -> DemoResult:
    """Take ``learners`` learners through the platform at ``urls`` (service → base URL).

    ``timeout_s`` bounds each wait for the platform's work (a training opened, a certificate
    issued, a message sent) and each call's retries while a service restarts; ``notice`` is
    told when a service stops and starts answering. ``transport`` replaces the network (a
    fault-injection test loses answers with it). Raises
    :class:`DemoFailed` when the platform refuses a step or stays out of reach.
    """
    started = time.monotonic()
    limits = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        timeout=30, headers=dev_authorization(), transport=transport
    ) as http:
        call = Caller(http, limits, patience_s=timeout_s, notice=notice)

        async def get(url: str, **params: Any) -> Any:
            return checked(await call("GET", url, params=params))

        centers = await get(f"{urls['enrollment']}/centers")
        center_id = centers[0]["id"]
        association_id = centers[0]["association_id"]
        # A PUT: the same address again is the same state.
        checked(
            await call(
                "PUT",
                f"{urls['notify']}/associations/{association_id}/contact",
                json={"email": ASSOCIATION_ADDRESS, "preferred_language": "fr"},
            )
        )
        enrollments = await enroll_learners(call, urls["enrollment"], center_id, learners)

        async def training_of(enrollment_id: str) -> dict[str, Any] | None:
            async def check() -> dict[str, Any] | None:
                found = await get(f"{urls['training']}/trainings", enrollment_id=enrollment_id)
                return found[0] if found else None

            result: dict[str, Any] | None = await _poll(check, timeout_s)
            return result

        trainings = await asyncio.gather(*(training_of(e["enrollment_id"]) for e in enrollments))
        completed = await complete_trainings(
            http,
            urls["training"],
            [t for t in trainings if t is not None],
            limits=limits,
            request=call.of(urls["training"]),
        )

        async def certificate_of(enrollment_id: str) -> bool:
            async def check() -> bool | None:
                found = await get(
                    f"{urls['certification']}/certificates", enrollment_id=enrollment_id
                )
                return True if found else None

            return bool(await _poll(check, timeout_s))

        certificates = sum(
            await asyncio.gather(*(certificate_of(e["enrollment_id"]) for e in enrollments))
        )

        async def notified(learner_id: str, recipient_kinds: set[str], expected: bool) -> int:
            async def count() -> list[Any]:
                found: list[Any] = await get(f"{urls['notify']}/deliveries", learner_id=learner_id)
                # The message about the certificate, sent (others tell of the enrollment and
                # of the completion).
                return [
                    delivery
                    for delivery in found
                    if delivery["cause_type"] == CERTIFICATE_ISSUED
                    and delivery["recipient_kind"] in recipient_kinds
                    and delivery["status"] == "sent"
                ]

            if expected:
                return len(await _poll(lambda: _non_empty(count), timeout_s) or [])
            return len(await count())

        notifications = sum(
            await asyncio.gather(
                *(
                    # The learner's contact: the guardian, or an adult learner themself.
                    notified(e["learner_id"], {"guardian", "learner"}, consents(n))
                    for n, e in enumerate(enrollments)
                )
            )
        )
        association_notices = sum(
            await asyncio.gather(
                *(notified(e["learner_id"], {"association"}, True) for e in enrollments)
            )
        )
    return DemoResult(
        enrolled=len(enrollments),
        completed=completed,
        certificates=certificates,
        notifications=notifications,
        expected_notifications=sum(consents(n) for n in range(learners)),
        association_notices=association_notices,
        seconds=time.monotonic() - started,
    )


async def _non_empty(fetch: Callable[[], Awaitable[list[Any]]]) -> list[Any] | None:
    found = await fetch()
    return found or None

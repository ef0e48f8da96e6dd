"""``fursa demo``: drive learners through the running platform and check every count.

Give the demo association an e-mail address for its notices, enroll N learners over HTTP, wait
for training to open their records, take them through their sessions and assessments to a
passed completion, then wait for a certificate per learner, a guardian notification per
consenting guardian and a notice to the association per certificate — read back from each
service's API, learner by learner.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from fursa.shared.auth import dev_authorization
from fursa.shared.clock import local_today
from fursa.shared.messaging.streams import CERTIFICATE_ISSUED

# Where the demo association's notices go (into the local SMTP sink under `fursa up`).
ASSOCIATION_ADDRESS = "suivi@association-demo.ma"

# Learners taken through their sessions together by ``complete_trainings``.
CLASS_SIZE = 200

Request = Callable[..., Awaitable[httpx.Response]]
"""``request(method, path, **kwargs)``: one call to the training service."""

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
    return {
        "learner": {
            "first_name_ar": first_ar,
            "last_name_ar": last_ar,
            "first_name_latin": first_lat,
            "last_name_latin": last_lat,
            # Aged 12 to 17 when the 2025/2026 school year starts, out of school since 2024.
            "birth_date": f"{2008 + n % 5}-0{1 + n % 9}-1{n % 10}",
            "sex": "female" if n % 2 else "male",
            "last_school_level": "primary_6",
            "year_left_school": 2024,
        },
        "guardian": {
            "name": f"{first_lat} {last_lat} (guardian)",
            "phone": f"+2126{n % 100_000_000:08d}",
            "preferred_language": "ar" if n % 3 else "fr",
        },
        "consent": {"data_use": True, "notifications": consents(n)},
        "center_id": center_id,
        "pathway": "vocational_training",
        "school_year": "2025/2026",
    }


async def complete_trainings(
    http: httpx.AsyncClient,
    training_url: str,
    trainings: Sequence[Mapping[str, Any]],
    *,
    limits: asyncio.Semaphore | None = None,
    request: Request | None = None,
) -> int:
    """Take open trainings to a passed completion the cheapest honest way; returns how many
    completed.

    The completion rule stays enforced: per class (the trainings of one center and pathway,
    up to ``CLASS_SIZE``) one call records each session of every required module and of the
    pathway's required workshops, with everyone present, on past days, until the required
    hours are held; one call per module records the class's assessment (14/20); then each
    training is completed.

    ``request(method, path, **kwargs)`` replaces the built-in caller (three tries, a repeated
    write's 409 taken as done) when the caller has its own patience, e.g. a fault-injection
    test riding out a service's restart; it must follow the same 409 rule.
    """
    limits = limits or asyncio.Semaphore(16)

    async def own_call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        # A pooled connection the server closed after its keep-alive timeout fails on reuse:
        # try again. A write that landed before the error answers 409 the second time.
        for attempt in range(3):
            try:
                async with limits:
                    response = await http.request(method, f"{training_url}{url}", **kwargs)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                continue
            if response.status_code == 409 and attempt:
                return httpx.Response(200, request=response.request)
            return response
        raise AssertionError("unreachable")

    call = request or own_call
    curriculum = (await call("GET", "/curriculum")).raise_for_status().json()
    plans = {plan["pathway"]: plan for plan in curriculum["pathways"]}
    classes: dict[tuple[str, str], list[str]] = {}
    for training in trainings:
        classes.setdefault((training["center_id"], training["pathway"]), []).append(training["id"])

    async def take_class(pathway: str, ids: list[str]) -> int:
        plan = plans[pathway]
        workshops = [m for m in plan["modules"] if m["kind"] == "workshop"]
        modules = [m for m in plan["modules"] if m["kind"] != "workshop"]
        modules += workshops[: plan["workshops_required"]]
        class_name = f"class-{uuid.uuid4().hex[:12]}"
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


async def _poll(check: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result is not None or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def run_demo(urls: dict[str, str], learners: int, timeout_s: float = 120) -> DemoResult:
    started = time.monotonic()
    limits = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30, headers=dev_authorization()) as http:

        async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            async with limits:
                response = await http.request(method, url, **kwargs)
            return response

        centers = (await call("GET", f"{urls['enrollment']}/centers")).raise_for_status().json()
        center_id = centers[0]["id"]
        association_id = centers[0]["association_id"]
        (
            await call(
                "PUT",
                f"{urls['notify']}/associations/{association_id}/contact",
                json={"email": ASSOCIATION_ADDRESS, "preferred_language": "fr"},
            )
        ).raise_for_status()

        async def enroll(n: int) -> dict[str, Any]:
            response = await call(
                "POST", f"{urls['enrollment']}/enrollments", json=enrollment_body(n, center_id)
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        enrollments = await asyncio.gather(*(enroll(n) for n in range(learners)))

        async def training_of(enrollment_id: str) -> dict[str, Any] | None:
            async def check() -> dict[str, Any] | None:
                found = (
                    await call(
                        "GET",
                        f"{urls['training']}/trainings",
                        params={"enrollment_id": enrollment_id},
                    )
                ).json()
                return found[0] if found else None

            result: dict[str, Any] | None = await _poll(check, timeout_s)
            return result

        trainings = await asyncio.gather(*(training_of(e["enrollment_id"]) for e in enrollments))
        completed = await complete_trainings(
            http, urls["training"], [t for t in trainings if t is not None], limits=limits
        )

        async def certificate_of(enrollment_id: str) -> bool:
            async def check() -> bool | None:
                found = (
                    await call(
                        "GET",
                        f"{urls['certification']}/certificates",
                        params={"enrollment_id": enrollment_id},
                    )
                ).json()
                return True if found else None

            return bool(await _poll(check, timeout_s))

        certificates = sum(
            await asyncio.gather(*(certificate_of(e["enrollment_id"]) for e in enrollments))
        )

        async def notified(learner_id: str, recipient_kind: str, expected: bool) -> int:
            async def count() -> list[Any]:
                found: list[Any] = (
                    await call(
                        "GET", f"{urls['notify']}/deliveries", params={"learner_id": learner_id}
                    )
                ).json()
                # The message about the certificate, sent (others tell of the enrollment and
                # of the completion).
                return [
                    delivery
                    for delivery in found
                    if delivery["cause_type"] == CERTIFICATE_ISSUED
                    and delivery["recipient_kind"] == recipient_kind
                    and delivery["status"] == "sent"
                ]

            if expected:
                return len(await _poll(lambda: _non_empty(count), timeout_s) or [])
            return len(await count())

        notifications = sum(
            await asyncio.gather(
                *(
                    notified(e["learner_id"], "guardian", consents(n))
                    for n, e in enumerate(enrollments)
                )
            )
        )
        association_notices = sum(
            await asyncio.gather(
                *(notified(e["learner_id"], "association", True) for e in enrollments)
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

"""The learner journey as the fault-injection tests drive it, and the ledger they check.

This is the one module that knows which HTTP calls move a learner along (enrol → training
opened → completion → certificate → guardian notification): when a service's API changes, this
is the place to adapt. Everything is read back over HTTP and from the broker, never from a
service's code.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from prometheus_client.parser import text_string_to_metric_families

from fursa.cli.demo import complete_trainings, consents, enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization
from fursa.shared.messaging.streams import CONSUMERS, ConsumerSpec
from fursa.shared.testing.kernel import acknowledged_through

SERVICES = ("enrollment", "training", "certification", "notify")
STREAMS = ("ENROLLMENT", "TRAINING", "CERTIFICATION", "NOTIFY")
ADMIN_READ_PATIENCE_S = 60.0
# How often a settling flow is looked at once its driver is done.
SETTLE_POLL_S = 0.2
T = TypeVar("T")
# Each consenting learner's contact (the guardian, or an adult learner themself) hears of the
# enrolment, the completion and the certificate (by SMS: the demo's contacts have no e-mail).
MESSAGES_PER_GUARDIAN = 3
# Who "the learner's contact" is, as notify's delivery summary names them.
CONTACT_KINDS = ("guardian", "learner")


@dataclass
class Journey:
    """Drives learners through the platform's HTTP APIs, round-robin over each service's replicas.

    A call that could not reach a service (down, restarting) is tried again until ``patience_s``
    runs out. An enrolment is only retried when it never left the client (a connection refused):
    retrying one whose answer was lost could enrol the learner twice.
    """

    http: httpx.AsyncClient
    replicas: dict[str, Sequence[str]]
    patience_s: float = 300.0
    concurrency: int = 16
    _next: dict[str, Iterator[str]] = field(init=False)
    _limits: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._limits = asyncio.Semaphore(self.concurrency)
        self._next = {name: itertools.cycle(urls) for name, urls in self.replicas.items()}

    def url(self, service: str, path: str) -> str:
        return f"{next(self._next[service])}{path}"

    async def _call(
        self, method: str, service: str, path: str, *, safe_to_repeat: bool, **kwargs: Any
    ) -> httpx.Response:
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                async with self._limits:
                    response = await self.http.request(method, self.url(service, path), **kwargs)
            except httpx.ConnectError:
                pass
            except httpx.TransportError:
                if not safe_to_repeat:
                    raise
            else:
                if response.status_code < 500:
                    return response
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {service}{path}: no answer in {self.patience_s}s")
            await asyncio.sleep(0.2)

    async def _write(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        """A write that is safe to repeat because a repeat of one that landed answers 409:
        tried until answered like ``_call``, with the 409 of a repeat taken as done."""
        deadline = time.monotonic() + self.patience_s
        repeated = False
        while True:
            try:
                async with self._limits:
                    response = await self.http.request(method, self.url(service, path), **kwargs)
            except httpx.TransportError:
                repeated = True
            else:
                if response.status_code == 409 and repeated:
                    return httpx.Response(200, request=response.request)
                if response.status_code < 500:
                    return response
                repeated = True
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {service}{path}: no answer in {self.patience_s}s")
            await asyncio.sleep(0.2)

    async def get(self, service: str, path: str, **params: Any) -> Any:
        response = await self._call("GET", service, path, safe_to_repeat=True, params=params)
        return response.raise_for_status().json()

    async def center_id(self) -> str:
        centers = await self.get("enrollment", "/centers")
        return str(centers[0]["id"])

    async def enroll(self, learners: Sequence[int]) -> list[dict[str, Any]]:
        """Enrol learners ``n`` (the demo's learner n: every fifth guardian declines SMS)."""
        center_id = await self.center_id()

        async def one(n: int) -> dict[str, Any]:
            response = await self._call(
                "POST",
                "enrollment",
                "/enrollments",
                safe_to_repeat=False,
                json=enrollment_body(n, center_id),
            )
            body: dict[str, Any] = response.raise_for_status().json()
            return body

        return list(await asyncio.gather(*(one(n) for n in learners)))

    async def training_of(self, enrollment_id: str) -> dict[str, Any]:
        """The training opened for an enrolment (waits until it is opened)."""
        deadline = time.monotonic() + self.patience_s
        while True:
            found = await self.get("training", "/trainings", enrollment_id=enrollment_id)
            if found:
                training: dict[str, Any] = found[0]
                return training
            if time.monotonic() > deadline:
                raise TimeoutError(f"no training opened for {enrollment_id}")
            await asyncio.sleep(0.2)

    async def complete_all(self, enrollments: Sequence[dict[str, Any]]) -> None:
        """Take the learners' trainings through the class's sessions and assessments to a
        passed completion, as the demo's educator does (the completion rule stays enforced)."""
        trainings = await asyncio.gather(
            *(self.training_of(e["enrollment_id"]) for e in enrollments)
        )

        async def request(method: str, path: str, **kwargs: Any) -> httpx.Response:
            if method == "GET":
                return await self._call(method, "training", path, safe_to_repeat=True, **kwargs)
            return await self._write(method, "training", path, **kwargs)

        completed = await complete_trainings(self.http, "", trainings, request=request)
        assert completed == len(trainings), f"{completed} of {len(trainings)} completed"


@dataclass(frozen=True)
class Ledger:
    """What the platform holds once a flow has settled: every count that must be exact."""

    enrollments_completed: int
    trainings_completed: int
    certificates_issued: int
    certificate_numbers: tuple[int, ...]
    notifications_sent: int
    stream_messages: dict[str, int]
    dead_letters: dict[str, int]

    @staticmethod
    def expected(learners: int) -> Ledger:
        """Each learner once: one closed enrolment, one completed training, one certificate with
        the next number, three SMS to each consenting guardian, one event per step — and no
        dead letter anywhere."""
        notified = sum(consents(n) for n in range(learners))
        return Ledger(
            enrollments_completed=learners,
            trainings_completed=learners,
            certificates_issued=learners,
            certificate_numbers=tuple(range(1, learners + 1)),
            notifications_sent=MESSAGES_PER_GUARDIAN * notified,
            stream_messages={
                "ENROLLMENT": learners,
                "TRAINING": learners,
                "CERTIFICATION": learners,
                "NOTIFY": MESSAGES_PER_GUARDIAN * notified,
            },
            dead_letters=dict.fromkeys(SERVICES, 0),
        )


def counter_of(number: str) -> int:
    """``MS-2026-000012`` → 12: the gap-free counter of a certificate number."""
    return int(number.rsplit("-", 1)[1])


async def ledger(
    journey: Journey, platform: Platform, enrollments: Sequence[dict[str, Any]]
) -> Ledger:
    """Read every count back: the services' APIs, and the streams as the admin sees them."""
    enrolled = await journey.get("enrollment", "/enrollments/summary")
    trained = await journey.get("training", "/trainings/summary")
    issued = await journey.get("certification", "/certificates/summary")
    numbers: list[int] = []
    for chunk in _chunks(enrollments, 64):
        found = await asyncio.gather(
            *(
                journey.get("certification", "/certificates", enrollment_id=e["enrollment_id"])
                for e in chunk
            )
        )
        numbers += [counter_of(c["number"]) for certificates in found for c in certificates]
    dead = {
        service: len(await journey.get(service, "/dead-letters", include_replayed=True))
        for service in SERVICES
    }
    return Ledger(
        enrollments_completed=enrolled["completed"],
        trainings_completed=trained["completed"],
        certificates_issued=issued["issued"],
        certificate_numbers=tuple(sorted(numbers)),
        notifications_sent=await notifications_sent(journey),
        stream_messages=await stream_messages(platform),
        dead_letters=dead,
    )


async def stream_messages(platform: Platform, streams: Sequence[str] = STREAMS) -> dict[str, int]:
    """How many messages each stream stores (read as the NATS admin)."""

    async def read(js: JetStreamContext) -> dict[str, int]:
        return {name: (await js.stream_info(name)).state.messages for name in streams}

    return await _as_admin(platform, read)


async def _as_admin(platform: Platform, read: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    """``read`` through the JetStream API as the NATS admin. A broker electing new leaders
    (a node just died) may not answer for a while: the reading is tried again, for a minute
    at most — it is the test's instrument, not what is under test."""
    assert platform.nats is not None
    deadline = time.monotonic() + ADMIN_READ_PATIENCE_S
    while True:
        nc = await nats.connect(
            platform.nats.url, user="admin", password=platform.passwords["admin"]
        )
        try:
            return await read(nc.jetstream())
        except (NatsTimeoutError, ServiceUnavailableError):
            if time.monotonic() > deadline:
                raise
        finally:
            await nc.close()
        await asyncio.sleep(1.0)


async def settled(
    platform: Platform,
    read: Callable[[], Awaitable[Ledger]],
    expected: Ledger,
    timeout_s: float = 240.0,
) -> Ledger:
    """The ledger once it equals ``expected`` and every consumer has caught up (or the last one
    read at the timeout), read again after a pause so that a late duplicate would still show."""
    deadline = time.monotonic() + timeout_s
    # The consumers are asked first: a few JetStream requests, where reading the ledger is a
    # request per learner, which would take the services' CPU from the work being waited for.
    while time.monotonic() < deadline and not (
        await consumers_caught_up(platform) and await read() == expected
    ):
        await asyncio.sleep(SETTLE_POLL_S)
    await asyncio.sleep(3.0)
    return await read()


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def admin_client(timeout_s: float = 30.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout_s,
        headers=dev_authorization(),
        limits=httpx.Limits(max_connections=64),
    )


def journey_of(platform: Platform, http: httpx.AsyncClient, **kwargs: Any) -> Journey:
    return Journey(http, {name: [platform.url(name)] for name in SERVICES}, **kwargs)


async def wait_for(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 120.0
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def notifications_sent(journey: Journey, **params: str) -> int:
    """Messages notify has sent so far to learners' contacts (guardians and adult learners; only
    about events of ``cause_type`` if given): the last thing a flow does, so the best sign that
    a fault came before the flow ended (certification may issue every certificate from one
    prefetched batch, its certificate-issued events still waiting to cross the broker)."""
    return await contact_messages_sent(journey.get, **params)


async def contact_messages_sent(get: Callable[..., Awaitable[Any]], **params: str) -> int:
    """The summary's ``sent`` over both kinds of learner contact, read with ``get(service,
    path, **params)``."""
    summaries = await asyncio.gather(
        *(
            get("notify", "/deliveries/summary", recipient_kind=kind, **params)
            for kind in CONTACT_KINDS
        )
    )
    return sum(int(summary["sent"]) for summary in summaries)


async def consumers_caught_up(platform: Platform) -> bool:
    """Whether every durable consumer has delivered and seen acked everything in its stream."""

    async def read(js: JetStreamContext) -> bool:
        for spec in CONSUMERS:
            info = await js.consumer_info(spec.stream, spec.durable)
            if info.num_pending or info.num_ack_pending:
                return False
        return True

    return await _as_admin(platform, read)


async def acknowledged_by(
    platform: Platform, specs: Sequence[ConsumerSpec], stream_seq: int
) -> bool:
    """Whether each durable consumer of ``specs`` has acknowledged its stream through
    ``stream_seq`` (a PubAck's sequence): unlike "nothing pending", this cannot read true before
    the server has counted a message just published."""

    async def read(js: JetStreamContext) -> bool:
        for spec in specs:
            if not await acknowledged_through(js, spec, stream_seq):
                return False
        return True

    return await _as_admin(platform, read)


async def handled(journey: Journey, service: str, outcome: str) -> dict[str, float]:
    """``fursa_events_handled_total`` of one service by consumer, for one outcome."""
    response = await journey._call("GET", service, "/metrics", safe_to_repeat=True)
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "fursa_events_handled_total" and sample.labels["outcome"] == outcome:
                counts[sample.labels["consumer"]] = sample.value
    return counts

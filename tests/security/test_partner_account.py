"""Partners live in their own NATS account and receive ``fursa.partner.>`` and nothing else.

A real nats-server runs the generated configuration (``auth.conf`` including ``partners.conf``)
with two partners enrolled through the roster, exactly as ``fursa up`` and ``fursa partner add``
do. The admin of account FURSA provisions the streams; the admin of account PARTNER provisions
the mirror of the partner feed. Every refusal is shown three ways where it applies — the
server's ``Permissions Violation`` reaches the partner's ``error_cb``, nats-py's call fails as it
really does (a refused request times out), and nothing changed on the FURSA side — next to a
positive control: the partner replays the feed from a point in time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from fursa.shared.messaging.streams import (
    CONSUMERS,
    PARTNER_FEED_API,
    PARTNER_FEED_DELIVER,
    PARTNER_STREAM,
    STREAMS,
    Topology,
    provision,
    provision_partner_feed,
)
from fursa.shared.natsauth import (
    ADMIN,
    DEV_CONFIG_NAME,
    PARTNER_ADMIN,
    USERS,
    check_partner_name,
    enroll_partner,
    inbox_prefix,
    load_roster,
    partner_grants,
    write_dev_config,
)
from fursa.shared.natsserver import NatsServer

PASSWORDS = {user: f"{user}-dev-secret" for user in USERS}
INTERNAL_STREAMS = [spec.name for spec in STREAMS if spec.name != PARTNER_STREAM]
REFUSED_WAIT_S = 0.3
FEED_EVENT = "fursa.partner.certificate-issued.v1"


@dataclass
class Connection:
    nc: NatsClient
    js: JetStreamContext
    errors: list[str] = field(default_factory=list)

    @property
    def probe(self) -> JetStreamContext:
        """JetStream with a short timeout, for requests the server is expected to drop."""
        return self.nc.jetstream(timeout=REFUSED_WAIT_S)

    async def saw(self, verb: str, subject: str, timeout_s: float = 10.0) -> bool:
        """Whether the server reported ``Permissions Violation for <verb> to "<subject>"``."""
        expected = f'nats: permissions violation for {verb} to "{subject}"'.lower()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if expected in self.errors:
                return True
            await asyncio.sleep(0.01)
        return False


@dataclass
class Feed:
    server: NatsServer
    partners: dict[str, str]
    connections: list[Connection] = field(default_factory=list)

    async def connect(self, user: str, password: str, *, prefix: str | None = None) -> Connection:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc).lower())

        options: dict[str, Any] = {"inbox_prefix": prefix} if prefix else {}
        nc = await nats.connect(
            self.server.url,
            user=user,
            password=password,
            error_cb=on_error,
            allow_reconnect=False,
            connect_timeout=10,  # partners' passwords are bcrypt hashes: slow on a busy machine
            **options,
        )
        connection = Connection(nc, nc.jetstream(timeout=10), errors)
        self.connections.append(connection)
        return connection

    async def admin(self) -> JetStreamContext:
        return (await self.connect(ADMIN, PASSWORDS[ADMIN])).nc.jetstream(timeout=5)

    async def partner_admin(self) -> JetStreamContext:
        connection = await self.connect(PARTNER_ADMIN, PASSWORDS[PARTNER_ADMIN])
        return connection.nc.jetstream(timeout=5)

    async def partner(self, name: str) -> Connection:
        return await self.connect(name, self.partners[name], prefix=inbox_prefix(name))


@pytest.fixture
async def feed(tmp_path: Path) -> AsyncIterator[Feed]:
    workdir = tmp_path / "nats"
    partners = {name: enroll_partner(workdir, name) for name in ("acme", "globex")}
    write_dev_config(workdir, PASSWORDS)
    server = NatsServer(workdir, include=f"include ./{DEV_CONFIG_NAME}").start()
    plat = Feed(server, partners)
    try:
        await provision(await plat.admin(), Topology())
        await provision_partner_feed(await plat.partner_admin())
        yield plat
    finally:
        for connection in plat.connections:
            await connection.nc.close()
        server.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def publish_feed(js: JetStreamContext, *payloads: bytes) -> list[int]:
    """What notify does: events on fursa.partner.>, stored by FURSA's PARTNER stream."""
    acks = [
        await js.publish(FEED_EVENT, p, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        for p in payloads
    ]
    return [ack.seq for ack in acks]


async def mirrored(js: JetStreamContext, count: int) -> bool:
    async def check() -> bool:
        messages: int = (await js.stream_info(PARTNER_STREAM)).state.messages
        return messages == count

    return await eventually(check)


async def counts(js: JetStreamContext) -> dict[str, int]:
    return {info.config.name or "": info.state.messages for info in await js.streams_info()}


# -- the positive control: a partner replays the feed from a point in time -----------------------


async def test_partner_replays_the_feed_from_a_point_in_time(feed: Feed) -> None:
    admin = await feed.admin()
    await publish_feed(admin, b"early-1", b"early-2")
    [first_late, *_] = await publish_feed(admin, b"late-1", b"late-2", b"late-3")
    start: datetime | None = (await admin.get_msg(PARTNER_STREAM, first_late)).time
    assert start is not None
    acme = await feed.partner("acme")
    assert await mirrored(acme.js, 5)

    await acme.js.add_consumer(
        PARTNER_STREAM,
        ConsumerConfig(
            durable_name="acme",
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=start,
        ),
    )
    sub = await acme.js.pull_subscribe_bind(durable="acme", stream=PARTNER_STREAM)
    messages = await sub.fetch(10, timeout=2)
    assert [m.data for m in messages] == [b"late-1", b"late-2", b"late-3"]
    assert {m.subject for m in messages} == {FEED_EVENT}
    for message in messages:
        await message.ack_sync(timeout=2)
    info = await acme.js.consumer_info(PARTNER_STREAM, "acme")
    assert (info.num_pending, info.num_ack_pending, info.ack_floor.stream_seq) == (0, 0, 5)

    # Replaying from the very beginning: delete the durable and create it again.
    await acme.js.delete_consumer(PARTNER_STREAM, "acme")
    await acme.js.add_consumer(PARTNER_STREAM, ConsumerConfig(durable_name="acme"))
    again = await sub.fetch(10, timeout=2)
    assert [m.data for m in again][:2] == [b"early-1", b"early-2"]
    assert len(again) == 5

    # New events keep flowing through the mirror to the partner.
    await publish_feed(admin, b"later")
    [later] = await sub.fetch(1, timeout=5)
    assert later.data == b"later"
    assert acme.errors == []


# -- what a partner cannot do ---------------------------------------------------------------------


def _internal_calls(js: JetStreamContext) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Reading, getting messages from, and creating consumers on every internal stream, and
    pulling from the services' durables, by the API subject nats-py sends each call to."""
    calls: dict[str, Callable[[], Awaitable[Any]]] = {}
    for stream in INTERNAL_STREAMS:

        def info(stream: str = stream) -> Awaitable[Any]:
            return js.stream_info(stream)

        def get(stream: str = stream) -> Awaitable[Any]:
            return js.get_msg(stream, 1)

        def create(stream: str = stream) -> Awaitable[Any]:
            return js.add_consumer(stream, ConsumerConfig(durable_name="acme"))

        calls[f"$JS.API.STREAM.INFO.{stream}"] = info
        calls[f"$JS.API.STREAM.MSG.GET.{stream}"] = get
        calls[f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.acme"] = create
    for spec in CONSUMERS:

        async def fetch(durable: str = spec.durable, stream: str = spec.stream) -> Any:
            sub = await js.pull_subscribe_bind(durable=durable, stream=stream)
            return await sub.fetch(1, timeout=REFUSED_WAIT_S)

        calls[f"$JS.API.CONSUMER.MSG.NEXT.{spec.stream}.{spec.durable}"] = fetch
    return calls


async def test_partner_cannot_read_internal_streams(feed: Feed) -> None:
    admin = await feed.admin()
    for spec in CONSUMERS:  # something to read on every internal stream and durable
        await admin.publish(spec.subjects[0], b"{}", headers={"Nats-Msg-Id": str(uuid.uuid4())})
    before = await counts(admin)
    pending = {
        spec.durable: (await admin.consumer_info(spec.stream, spec.durable)).num_pending
        for spec in CONSUMERS
    }
    acme = await feed.partner("acme")
    calls = _internal_calls(acme.probe)
    results = await asyncio.gather(*(call() for call in calls.values()), return_exceptions=True)
    for api, result in zip(calls, results, strict=True):
        assert isinstance(result, nats.errors.TimeoutError), (api, result)
        assert await acme.saw("publish", api), api
    # FURSA's consumer API reaches account PARTNER for the mirror only, not for its users.
    imported = f"{PARTNER_FEED_API}.CONSUMER.CREATE.{PARTNER_STREAM}.acme"
    with pytest.raises(nats.errors.TimeoutError):
        await acme.nc.request(imported, b"{}", timeout=REFUSED_WAIT_S)
    assert await acme.saw("publish", imported)
    assert await counts(admin) == before
    for spec in CONSUMERS:
        info = await admin.consumer_info(spec.stream, spec.durable)
        assert info.num_pending == pending[spec.durable]
        assert info.num_ack_pending == 0

    # Beyond the permissions: account PARTNER has no internal stream at all. Its own admin,
    # whose JetStream API is unrestricted, finds none of them and sees only the feed.
    partner_admin = await feed.partner_admin()
    for stream in INTERNAL_STREAMS:
        with pytest.raises(NotFoundError):
            await partner_admin.stream_info(stream)
    assert set(await counts(partner_admin)) == {PARTNER_STREAM}


async def test_partner_consumer_cannot_deliver_into_account_fursa(feed: Feed) -> None:
    """A push consumer's deliver subject is a subject of the stream's account: on the mirror
    it is one of account PARTNER, so even an internal event subject reaches nothing internal."""
    admin = await feed.admin()
    seen: list[bytes] = []

    async def record(msg: Any) -> None:
        seen.append(msg.data)

    target = "fursa.enrollment.learner-enrolled.v1"
    await feed.connections[0].nc.subscribe(target, cb=record)  # interest on the FURSA side
    before = await counts(admin)
    acme = await feed.partner("acme")
    await acme.js.add_consumer(
        PARTNER_STREAM, ConsumerConfig(durable_name="acme", deliver_subject=target)
    )
    await publish_feed(admin, b"feed-event")
    assert await mirrored(acme.js, 1)
    await asyncio.sleep(0.5)  # the direct export delivered at once (see deploy/nats/README.md)
    assert seen == []
    before[PARTNER_STREAM] += 1
    assert await counts(admin) == before


async def test_partner_publishes_nowhere_and_reads_only_its_inbox(feed: Feed) -> None:
    admin = await feed.admin()
    await publish_feed(admin, b"one")
    acme = await feed.partner("acme")
    assert await mirrored(acme.js, 1)
    partner_admin = await feed.partner_admin()
    before, mirror_before = await counts(admin), await counts(partner_admin)
    targets = [
        FEED_EVENT,  # the feed itself: only notify writes it
        "fursa.enrollment.learner-enrolled.v1",
        f"{PARTNER_FEED_DELIVER}.forged",
        f"$JS.FC.{PARTNER_STREAM}.forged",
        f"$JS.ACK.{PARTNER_STREAM}.globex.1.1.1.0.0",
        "$JS.API.STREAM.CREATE.ROGUE",
        f"$JS.API.STREAM.PURGE.{PARTNER_STREAM}",
        f"$JS.API.STREAM.DELETE.{PARTNER_STREAM}",
    ]
    for subject in targets:
        await acme.nc.publish(subject, b"{}")
    await acme.nc.flush()
    for subject in targets:
        assert await acme.saw("publish", subject), subject
    assert await counts(admin) == before
    assert await counts(partner_admin) == mirror_before

    received: list[str] = []

    async def record(msg: Any) -> None:
        received.append(msg.subject)

    forbidden = ["fursa.>", f"{PARTNER_FEED_DELIVER}.>", f"{inbox_prefix('globex')}.>", ">"]
    for pattern in forbidden:
        await acme.nc.subscribe(pattern, cb=record)
    await acme.nc.flush()
    for pattern in forbidden:
        assert await acme.saw("subscription", pattern), pattern
    await publish_feed(admin, b"two")
    # Control: replies still reach its own inbox, and the mirror got "two" meanwhile; yet
    # none of the refused subscriptions saw the feed's delivery or any other message.
    assert await mirrored(acme.js, 2)
    assert received == []


async def test_partners_cannot_touch_each_others_durable(feed: Feed) -> None:
    admin = await feed.admin()
    await publish_feed(admin, b"one", b"two")
    globex = await feed.partner("globex")
    assert await mirrored(globex.js, 2)
    await globex.js.add_consumer(PARTNER_STREAM, ConsumerConfig(durable_name="globex"))
    acme = await feed.partner("acme")

    probe = acme.probe

    async def fetch_theirs() -> Any:
        sub = await probe.pull_subscribe_bind(durable="globex", stream=PARTNER_STREAM)
        return await sub.fetch(1, timeout=REFUSED_WAIT_S)

    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        f"$JS.API.CONSUMER.INFO.{PARTNER_STREAM}.globex": lambda: probe.consumer_info(
            PARTNER_STREAM, "globex"
        ),
        f"$JS.API.CONSUMER.MSG.NEXT.{PARTNER_STREAM}.globex": fetch_theirs,
        f"$JS.API.CONSUMER.DELETE.{PARTNER_STREAM}.globex": lambda: probe.delete_consumer(
            PARTNER_STREAM, "globex"
        ),
        f"$JS.API.CONSUMER.DURABLE.CREATE.{PARTNER_STREAM}.other": lambda: probe.add_consumer(
            PARTNER_STREAM, ConsumerConfig(durable_name="other")
        ),
    }
    for api, call in calls.items():
        with pytest.raises(nats.errors.TimeoutError):
            await call()
        assert await acme.saw("publish", api), api
    # Control: globex's own durable is intact and delivers both events to globex.
    sub = await globex.js.pull_subscribe_bind(durable="globex", stream=PARTNER_STREAM)
    assert [m.data for m in await sub.fetch(2, timeout=2)] == [b"one", b"two"]
    assert globex.errors == []


async def test_a_wrong_or_unknown_partner_password_is_refused(feed: Feed) -> None:
    for user, password in [("acme", "wrong"), ("acme", feed.partners["globex"]), ("initech", "x")]:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                feed.server.url,
                user=user,
                password=password,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=10,
            )


# -- the roster and the names ------------------------------------------------------------------


def test_roster_keeps_only_a_hash_and_refuses_a_second_enrollment(tmp_path: Path) -> None:
    password = enroll_partner(tmp_path, "acme")
    roster = load_roster(tmp_path)
    assert list(roster) == ["acme"]
    assert roster["acme"].startswith("$2")
    assert password not in roster["acme"]
    assert (tmp_path / "partners.json").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError, match="already"):
        enroll_partner(tmp_path, "acme")


@pytest.mark.parametrize("name", ["admin", "partner_admin", "notify", "Acme", "a", "x.y", "a b"])
def test_partner_names_that_would_clash_or_break_subjects_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="partner name"):
        check_partner_name(name)


def test_partner_grants_name_one_durable_on_the_feed() -> None:
    grants = partner_grants("acme")
    subjects = [grant.subject for grant in grants.publish]
    assert all(PARTNER_STREAM in subject for subject in subjects)
    assert all("acme" in subject for subject in subjects if "CONSUMER" in subject)
    assert not [s for s in subjects if s.startswith("fursa.") or "FURSA" in s]
    assert [grant.subject for grant in grants.subscribe] == ["_INBOX_acme.>"]

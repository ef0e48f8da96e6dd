"""Least privilege on NATS (DESIGN.md, guarantee 6), against a real nats-server.

Each test starts a server whose users come from :mod:`fursa.shared.natsauth` (the same code
that generates ``deploy/nats/auth.conf``), provisions the topology as ``admin``, then acts as a
service. What a service is refused is checked three ways: the server's ``Permissions
Violation`` reaches the client's ``error_cb`` (nats-py lower-cases the text), nats-py's call
fails the way it really does (a refused request is dropped by the server, so nats-py raises
``nats.errors.TimeoutError``; a core publish returns normally), and the admin sees that nothing
changed. Each refusal has a positive control: the same call by the admin, or by the right
service, succeeds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig

from fursa.shared.contracts.registry import SERVICES, registry, stream_for
from fursa.shared.messaging.streams import (
    CONSUMERS,
    ERASURE_LEDGER,
    LEARNER_ERASED,
    STREAMS,
    ConsumerSpec,
    Topology,
    consumers_of,
    provision,
)
from fursa.shared.natsauth import (
    ADMIN,
    DEV_CONFIG_NAME,
    PARTNERS_CONFIG_NAME,
    USERS,
    env_passwords,
    inbox_prefix,
    main,
    published_contexts,
    render_authorization,
    service_grants,
    write_dev_config,
)
from fursa.shared.natsserver import NatsServer, find_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"
PASSWORDS = {user: f"{user}-dev-secret" for user in USERS}
REFUSED_WAIT_S = 0.3  # how long a refused JetStream request is given before nats-py times out


# -- fixtures and helpers ----------------------------------------------------------------------


@dataclass
class Connection:
    nc: NatsClient
    js: JetStreamContext
    errors: list[str] = field(default_factory=list)

    def violations(self) -> set[str]:
        return {e for e in self.errors if "permissions violation" in e}

    async def saw(self, verb: str, subject: str, timeout_s: float = 2.0) -> bool:
        """Whether the server reported ``Permissions Violation for <verb> to "<subject>"``."""
        expected = f'nats: permissions violation for {verb} to "{subject}"'.lower()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if expected in self.errors:
                return True
            await asyncio.sleep(0.01)
        return False


async def connect_as(url: str, user: str, *, own_inbox: bool = True) -> Connection:
    """Connect as ``user`` the way a service does: its own inbox prefix, an error callback."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc).lower())

    options: dict[str, Any] = {}
    if own_inbox and user != ADMIN:
        options["inbox_prefix"] = inbox_prefix(user)
    nc = await nats.connect(
        url,
        user=user,
        password=PASSWORDS[user],
        error_cb=on_error,
        allow_reconnect=False,
        **options,
    )
    return Connection(nc, nc.jetstream(timeout=REFUSED_WAIT_S), errors)


@dataclass
class Platform:
    server: NatsServer
    admin: Connection
    connections: list[Connection] = field(default_factory=list)

    @property
    def admin_js(self) -> JetStreamContext:
        return self.admin.nc.jetstream(timeout=5)

    async def connect(self, user: str, *, own_inbox: bool = True) -> Connection:
        connection = await connect_as(self.server.url, user, own_inbox=own_inbox)
        self.connections.append(connection)
        return connection

    async def count(self, stream: str) -> int:
        messages: int = (await self.admin_js.stream_info(stream)).state.messages
        return messages


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    """A nats-server with the generated users (dev include file), provisioned by ``admin``."""
    workdir = tmp_path / "nats"
    write_dev_config(workdir, PASSWORDS)
    server = NatsServer(workdir, include=f"include ./{DEV_CONFIG_NAME}").start()
    try:
        plat = Platform(server, await connect_as(server.url, ADMIN))
        plat.connections.append(plat.admin)
        try:
            await provision(plat.admin_js, Topology())
            yield plat
        finally:
            for connection in plat.connections:
                await connection.nc.close()
    finally:
        server.stop()


def own_subjects(service: str) -> list[tuple[str, str]]:
    """(subject, stream) pairs the service publishes: its registered events, and a probe
    subject in each context it publishes to that has no registered event of it yet."""
    pairs = [(r.subject, r.stream) for r in registry().values() if r.producer == service]
    covered = {stream for _, stream in pairs}
    for context in published_contexts(service):
        if stream_for(context) not in covered:
            pairs.append((f"fursa.{context}.permission-probe.v1", stream_for(context)))
    return sorted(pairs)


def foreign_subjects(service: str) -> list[tuple[str, str]]:
    """(subject, stream) pairs other services publish and this one must not."""
    mine = {stream for _, stream in own_subjects(service)}
    return sorted(
        pair
        for other in SERVICES
        if other != service
        for pair in own_subjects(other)
        if pair[1] not in mine
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


def msg_id() -> dict[str, str]:
    return {"Nats-Msg-Id": str(uuid.uuid4())}


# -- the grants are derived from the topology ----------------------------------------------------


def test_grants_follow_the_topology() -> None:
    for service in SERVICES:
        grants = service_grants(service)
        publish = {grant.subject for grant in grants.publish}
        expected = {f"fursa.{service}.>", f"$JS.API.DIRECT.GET.{ERASURE_LEDGER}"}
        expected |= {"fursa.partner.>"} if service == "notify" else set()
        for spec in consumers_of(service):
            expected.add(f"$JS.API.CONSUMER.MSG.NEXT.{spec.stream}.{spec.durable}")
            expected.add(f"$JS.ACK.{spec.stream}.{spec.durable}.>")
        assert publish == expected
        assert [grant.subject for grant in grants.subscribe] == [f"_INBOX_{service}.>"]
        assert all(grant.reason for grant in (*grants.publish, *grants.subscribe))
    # Every durable is reachable by exactly one user: the service it belongs to.
    for spec in CONSUMERS:
        owners = [
            service
            for service in SERVICES
            if any(spec.durable in grant.subject for grant in service_grants(service).publish)
        ]
        assert owners == [spec.service]
    # Every registered event can be published by its producer, and by no other service.
    for registration in registry().values():
        publishers = [s for s in SERVICES if registration.context in published_contexts(s)]
        assert publishers == [registration.producer], registration.type
    with pytest.raises(ValueError, match="missing"):
        render_authorization({ADMIN: "x"})


# -- (a) positive controls: a service does its own work ------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_service_publishes_its_own_events(platform: Platform, service: str) -> None:
    conn = await platform.connect(service)
    for subject, stream in own_subjects(service):
        before = await platform.count(stream)
        ack = await conn.js.publish(subject, b"{}", headers=msg_id(), timeout=5)
        assert (ack.stream, ack.duplicate) == (stream, None)
        assert await platform.count(stream) == before + 1
        # The relay's call: publish_async, then wait for the PubAck future.
        future = await conn.js.publish_async(subject, b"{}", headers=msg_id())
        ack = await asyncio.wait_for(future, 5)
        assert ack.stream == stream
        assert await platform.count(stream) == before + 2
    assert conn.errors == []


@pytest.mark.parametrize("service", SERVICES)
async def test_service_pulls_and_settles_its_own_durables(platform: Platform, service: str) -> None:
    specs = consumers_of(service)
    assert specs, f"{service} consumes nothing: this test would prove nothing"
    conn = await platform.connect(service)
    admin_js = platform.admin_js
    for spec in specs:
        for n in range(3):
            await admin_js.publish(spec.subjects[0], b"%d" % n, headers=msg_id())
        sub = await conn.js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
        msgs = await sub.fetch(3, timeout=3)
        assert [m.data for m in msgs] == [b"0", b"1", b"2"]
        await msgs[0].ack()
        await msgs[1].nak(delay=0.1)
        await msgs[2].term()
        [again] = await sub.fetch(1, timeout=3)
        assert (again.data, again.metadata.num_delivered) == (b"1", 2)
        await again.ack_sync(timeout=3)

        async def settled(spec: Any = spec) -> bool:
            info = await admin_js.consumer_info(spec.stream, spec.durable)
            floor = info.ack_floor.consumer_seq  # 3 deliveries + 1 redelivery, all settled
            return (info.num_ack_pending, info.num_pending, floor) == (0, 0, 4)

        assert await eventually(settled)
    assert conn.errors == []


# -- (b) it cannot publish another service's events ----------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_service_cannot_publish_other_services_events(
    platform: Platform, service: str
) -> None:
    conn = await platform.connect(service)
    targets = foreign_subjects(service)
    assert {stream for _, stream in targets} >= {s.name for s in STREAMS} - {
        stream_for(c) for c in published_contexts(service)
    }
    before = {stream: await platform.count(stream) for _, stream in targets}

    async def attempt(subject: str) -> None:
        await conn.nc.publish(subject, b"{}")  # core publish: returns, raises nothing
        future = await conn.js.publish_async(subject, b"{}", headers=msg_id())  # the relay's
        with pytest.raises(nats.errors.TimeoutError):
            await conn.js.publish(subject, b"{}", headers=msg_id())
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(future, REFUSED_WAIT_S)  # no PubAck ever comes

    await asyncio.gather(*(attempt(subject) for subject, _ in targets))
    for subject, _ in targets:
        assert await conn.saw("publish", subject)
    assert {stream: await platform.count(stream) for _, stream in targets} == before

    # Control: the very same publish by the admin is stored, so the count above could move.
    admin_js = platform.admin_js
    for subject, stream in targets:
        await admin_js.publish(subject, b"{}", headers=msg_id())
        before[stream] += 1
    assert {stream: await platform.count(stream) for _, stream in targets} == before
    assert platform.admin.errors == []


# -- (c) it subscribes to its own inbox and nothing else ------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_service_subscribes_only_to_its_own_inbox(platform: Platform, service: str) -> None:
    conn = await platform.connect(service)
    consumed = sorted({subject for spec in consumers_of(service) for subject in spec.subjects})
    assert consumed
    forbidden = [  # deduplicated below: a consumed subject is also another service's event
        *(f"{inbox_prefix(other)}.>" for other in SERVICES if other != service),
        "_INBOX.>",  # the default prefix (the admin's replies)
        *consumed,  # events reach it through its durables, never a plain subscription
        *(subject for subject, _ in foreign_subjects(service)),
        "fursa.>",
        "$JS.API.>",
        "$JS.ACK.>",
        ">",
    ]
    forbidden = list(dict.fromkeys(forbidden))
    received: list[str] = []

    async def record(msg: Any) -> None:
        received.append(msg.subject)

    for pattern in forbidden:
        await conn.nc.subscribe(pattern, cb=record)  # returns normally; the server refuses
    own = f"{inbox_prefix(service)}.probe"
    await conn.nc.subscribe(own, cb=record)  # control: its own inbox works
    await conn.nc.flush()
    for pattern in forbidden:
        assert await conn.saw("subscription", pattern)
    assert not [e for e in conn.violations() if own.lower() in e]

    # Messages on every forbidden pattern, then on its own inbox: only the last one arrives.
    for pattern in forbidden:
        await platform.admin.nc.publish(pattern.replace(">", "probe"), b"x")
    await platform.admin.nc.publish(own, b"x")
    await platform.admin.nc.flush()

    async def got_own() -> bool:
        return own in received

    assert await eventually(got_own)
    await asyncio.sleep(0.1)
    assert received == [own]


async def test_service_without_its_inbox_prefix_gets_no_replies(platform: Platform) -> None:
    conn = await platform.connect("training", own_inbox=False)  # nats-py's default _INBOX
    subject, stream = own_subjects("training")[0]
    before = await platform.count(stream)
    with pytest.raises(nats.errors.TimeoutError):
        await conn.js.publish(subject, b"{}", headers=msg_id())
    assert any('subscription to "_inbox.' in e for e in conn.violations())
    # The publish itself was allowed and stored; only its PubAck could not be read.
    assert await platform.count(stream) == before + 1


# -- (d) it cannot create, change, delete or inspect streams and consumers -----------------------


def _theirs(service: str) -> ConsumerSpec:
    """Another service's durable, on a stream this service also reads if there is one."""
    mine = consumers_of(service)[0]
    others = [spec for spec in CONSUMERS if spec.service != service]
    return next((spec for spec in others if spec.stream == mine.stream), others[0])


def _management_calls(
    js: JetStreamContext, service: str
) -> dict[str, Callable[[], Coroutine[Any, Any, Any]]]:
    """JetStream API calls a service must not make, by the API subject nats-py sends them to
    (destructive ones last, so that the admin can run the same list as the control)."""
    own_stream = stream_for(service)
    mine = consumers_of(service)[0]
    theirs = _theirs(service)
    other_stream = next(
        s.name for s in STREAMS if s.name not in {own_stream, mine.stream, theirs.stream}
    )
    changed = mine.config()
    changed.max_ack_pending = 1

    async def fetch_theirs() -> Any:
        # Binding makes no API call; the pull request is what the server refuses.
        sub = await js.pull_subscribe_bind(durable=theirs.durable, stream=theirs.stream)
        return await sub.fetch(1, timeout=REFUSED_WAIT_S)

    return {
        "$JS.API.INFO": lambda: js.account_info(),
        f"$JS.API.STREAM.INFO.{own_stream}": lambda: js.stream_info(own_stream),
        f"$JS.API.CONSUMER.INFO.{mine.stream}.{mine.durable}": lambda: js.consumer_info(
            mine.stream, mine.durable
        ),
        "$JS.API.STREAM.CREATE.ROGUE": lambda: js.add_stream(
            StreamConfig(name="ROGUE", subjects=["rogue.>"])
        ),
        f"$JS.API.STREAM.UPDATE.{own_stream}": lambda: js.update_stream(
            StreamConfig(name=own_stream, subjects=[f"fursa.{service}.>"], max_age=60.0)
        ),
        f"$JS.API.CONSUMER.DURABLE.CREATE.{mine.stream}.rogue": lambda: js.add_consumer(
            mine.stream, ConsumerConfig(durable_name="rogue")
        ),
        f"$JS.API.CONSUMER.DURABLE.CREATE.{mine.stream}.{mine.durable}": lambda: js.add_consumer(
            mine.stream, changed
        ),
        f"$JS.API.CONSUMER.MSG.NEXT.{theirs.stream}.{theirs.durable}": fetch_theirs,
        f"$JS.API.STREAM.PURGE.{own_stream}": lambda: js.purge_stream(own_stream),
        f"$JS.API.CONSUMER.DELETE.{mine.stream}.{mine.durable}": lambda: js.delete_consumer(
            mine.stream, mine.durable
        ),
        f"$JS.API.STREAM.DELETE.{other_stream}": lambda: js.delete_stream(other_stream),
    }


async def _state(platform: Platform, *, counts: bool = True) -> dict[str, Any]:
    """Streams (subjects, max age, message count) and their consumers, as the admin sees them."""
    js = platform.admin_js
    state: dict[str, Any] = {}
    for info in await js.streams_info():
        name = str(info.config.name)
        consumers = await js.consumers_info(name)
        state[name] = (
            info.config.subjects,
            info.config.max_age,
            info.state.messages if counts else None,
            sorted((c.name, c.config.max_ack_pending) for c in consumers),
        )
    return state


@pytest.mark.parametrize("service", SERVICES)
async def test_service_cannot_manage_jetstream(platform: Platform, service: str) -> None:
    await platform.admin_js.publish(f"fursa.{service}.permission-probe.v1", b"{}")  # to purge
    theirs = _theirs(service)
    await platform.admin_js.publish(theirs.subjects[0], b"{}")  # something to steal
    before = await _state(platform)
    conn = await platform.connect(service)
    calls = _management_calls(conn.js, service)
    results = await asyncio.gather(*(call() for call in calls.values()), return_exceptions=True)
    for api, result in zip(calls, results, strict=True):
        # The server drops the request, so no JetStream error comes back: nats-py times out.
        assert isinstance(result, nats.errors.TimeoutError), (api, result)
        assert await conn.saw("publish", api), api
    # A forged ack on another service's durable is refused as well.
    forged = f"$JS.ACK.{theirs.stream}.{theirs.durable}.1.1.1.0.0"
    await conn.nc.publish(forged, b"+ACK")
    assert await conn.saw("publish", forged)
    assert await _state(platform) == before


@pytest.mark.parametrize("service", SERVICES)
async def test_service_reads_the_erasure_ledger_and_cannot_change_it(
    platform: Platform, service: str
) -> None:
    await platform.admin_js.publish(LEARNER_ERASED, b"erasure", headers=msg_id())

    async def copied() -> bool:
        return await platform.count(ERASURE_LEDGER) == 1

    assert await eventually(copied)
    conn = await platform.connect(service)
    read = await conn.js.get_msg(
        ERASURE_LEDGER, seq=1, subject=LEARNER_ERASED, next=True, direct=True
    )
    assert read.data == b"erasure"
    calls = {
        f"$JS.API.STREAM.INFO.{ERASURE_LEDGER}": lambda: conn.js.stream_info(ERASURE_LEDGER),
        f"$JS.API.STREAM.MSG.DELETE.{ERASURE_LEDGER}": lambda: conn.js.delete_msg(
            ERASURE_LEDGER, 1
        ),
        f"$JS.API.STREAM.PURGE.{ERASURE_LEDGER}": lambda: conn.js.purge_stream(ERASURE_LEDGER),
    }
    for api, call in calls.items():
        with pytest.raises(nats.errors.TimeoutError):
            await call()
        assert await conn.saw("publish", api), api
    assert await platform.count(ERASURE_LEDGER) == 1


# -- (e) the admin provisions, and may do what the services may not ------------------------------


async def test_admin_provisions_and_may_manage_jetstream(platform: Platform) -> None:
    js = platform.admin_js
    await provision(js, Topology())  # again: idempotent
    provisioned = await _state(platform, counts=False)
    assert set(provisioned) == {s.name for s in STREAMS} | {ERASURE_LEDGER}
    for name, (_subjects, _age, _count, consumers) in provisioned.items():
        assert [c[0] for c in consumers] == sorted(s.durable for s in CONSUMERS if s.stream == name)
    # Control for the refusals: the admin's very same calls succeed, then provisioning repairs.
    for service in SERVICES:
        theirs = _theirs(service)
        await js.publish(theirs.subjects[0], b"{}", headers=msg_id())
        calls = _management_calls(js, service)
        for api, call in calls.items():
            result = await call()
            assert result is not None, api
        assert "ROGUE" in {info.config.name for info in await js.streams_info()}
        own = stream_for(service)
        assert (await js.stream_info(own)).config.max_age == 60.0
        mine = consumers_of(service)[0]
        await js.delete_consumer(mine.stream, "rogue")
        await js.delete_stream("ROGUE")
        await provision(js, Topology())
    assert await _state(platform, counts=False) == provisioned
    assert platform.admin.errors == []


async def test_unknown_users_and_wrong_passwords_are_refused(platform: Platform) -> None:
    for user, password in [(None, None), ("training", "wrong"), ("partner", "x")]:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                platform.server.url,
                user=user,
                password=password,
                allow_reconnect=False,
                max_reconnect_attempts=0,
            )


# -- the committed deployment files -------------------------------------------------------------


def test_committed_auth_conf_is_what_the_topology_generates() -> None:
    assert main(["--check", str(DEPLOY / "auth.conf")]) == 0


def test_deploy_config_needs_every_password_from_the_environment() -> None:
    binary = str(find_binary())
    config = str(DEPLOY / "nats-server.conf")
    env = {**os.environ, **{ref[1:]: "s3cret" for ref in env_passwords().values()}}
    ok = subprocess.run([binary, "-t", "-c", config], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    del env["FURSA_NOTIFY_NATS_PASSWORD"]
    missing = subprocess.run([binary, "-t", "-c", config], env=env, capture_output=True, text=True)
    assert missing.returncode != 0
    assert "FURSA_NOTIFY_NATS_PASSWORD" in missing.stderr


async def test_deploy_auth_conf_reads_passwords_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for ref in env_passwords().values():
        monkeypatch.setenv(ref[1:], f"env-{ref[1:].lower()}")
    workdir = tmp_path / "nats"
    workdir.mkdir()
    shutil.copy(DEPLOY / PARTNERS_CONFIG_NAME, workdir)  # auth.conf includes it
    server = NatsServer(workdir, include=(DEPLOY / "auth.conf").read_text()).start()
    try:
        nc = await nats.connect(
            server.url,
            user="notify",
            password="env-fursa_notify_nats_password",
            inbox_prefix=inbox_prefix("notify"),
            allow_reconnect=False,
        )
        await nc.close()
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                server.url,
                user="notify",
                password="$FURSA_NOTIFY_NATS_PASSWORD",
                allow_reconnect=False,
                max_reconnect_attempts=0,
            )
    finally:
        server.stop()

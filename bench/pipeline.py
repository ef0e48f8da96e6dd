"""N learners through the whole platform, a fixed amount of work each, beside the same work
done with the bare drivers in the same run.

The platform (nats-server with the project's settings, the four services forked by the
launcher, SQLite or PostgreSQL) takes N learners from enrolment to the messages about their
certificates:

* **The work per learner is fixed**, whatever the machine's speed: enrolments over HTTP
  (``POST /enrollments``, CONCURRENCY in flight, or open loop with ``--rate``); an educator
  loop pages through the trainings opened since the last one it holds and, each time
  ``--class-size`` of them are waiting (25, a center's real class; the last class takes the
  rest), takes exactly that class through its sessions and assessments to completion
  (``fursa.cli.demo.complete_trainings``: one call per session and per assessment for the
  whole class, then each training's completion).
* **The run ends when the platform is done**: every certificate issued; every durable
  consumer caught up; every service's outbox published (the partner feed included); notify's
  summaries show no message pending to guardians or associations and a certificate message
  sent to every consenting guardian. The CPU window — each process's user + system time from
  ``/proc/<pid>/stat`` — runs from the first enrolment to that moment.
* **The load generator is lean** (``bench/keepalive.py``, ~60 µs a request) and its CPU,
  nats-server's and the SMTP sink's are reported apart from the services'.
* **Counts**, per learner: HTTP calls by service, events published (stream message deltas),
  deliveries pulled and acked (durable consumers' deltas), and per service the SQL statements
  (reads, writes, other), rows written and transactions, counted by ``bench/sqlprobe`` (a
  ``sitecustomize`` put on the services' path: no service code changes; it costs the services
  a few µs per statement, included in their CPU).
* **The same-work floor** (``bench/floor.py``): those counts done by raw nats-py on the same
  nats-server and by ``sqlite3`` (or ``asyncpg``) with the same settings, in this process
  after the run; its CPU per learner and the services' ratio to it.

The last line is one JSON object with every figure.

Usage: python bench/pipeline.py [--learners 500] [--class-size 25] [--rate 20]
       [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import httpx
import nats
import uvloop
from floor import SqlWork, broker_floor, postgres_floor, sqlite_floor
from keepalive import KeepAlive  # bench/ is this script's directory
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client.parser import text_string_to_metric_families

from fursa.cli.demo import complete_trainings, consents, enrollment_body
from fursa.cli.platform import SERVICES, Platform
from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import CloudEvent, parse_event
from fursa.shared.messaging.streams import CERTIFICATE_ISSUED, STREAMS, TRAINING_COMPLETED

NOTIFICATION_SENT = "fursa.notify.notification-sent.v1"
# Enrolments in flight in the closed loop.
CONCURRENCY = 16
# Connections per service.
CONNECTIONS = 16
CLASS_SIZE = 25
# Seconds of idle platform measured before the run: what the services cost doing nothing.
IDLE_S = 3.0
SETTLE_POLL_S = 0.5
PG_ADMIN_URL = os.environ.get("FURSA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PROBE_DIR = Path(__file__).parent / "sqlprobe"


class Clients:
    """One keep-alive pool per service."""

    def __init__(self, platform: Platform) -> None:
        headers = dev_authorization()
        self.of = {name: KeepAlive(platform.url(name), headers, CONNECTIONS) for name in SERVICES}

    def calls(self) -> dict[str, int]:
        return {name: client.calls for name, client in self.of.items()}

    async def close(self) -> None:
        for client in self.of.values():
            await client.close()


def training_request(client: KeepAlive, origin: str) -> Any:
    """``complete_trainings``'s ``request(method, path, **kwargs)`` over the lean client."""

    async def request(
        method: str, path: str, *, json: Any = None, params: Any = None
    ) -> httpx.Response:
        answer = await client.request(method, path, json, params=params)
        return httpx.Response(
            answer.status, content=answer.body, request=httpx.Request(method, origin + path)
        )

    return request


async def drive(
    platform: Platform,
    learners: int,
    *,
    class_size: int = CLASS_SIZE,
    rate: float | None = None,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Enroll ``learners`` while taking each full class to completion; returns when every
    certificate is issued, with the educator's polls (how many, how many found nothing) and
    each enrolment POST's latency in seconds."""
    own = clients is None
    clients = clients or Clients(platform)
    enrollment, training = clients.of["enrollment"], clients.of["training"]
    certification = clients.of["certification"]
    request = training_request(training, platform.url("training"))
    center_id = (await enrollment.request("GET", "/centers")).checked().json()[0]["id"]
    polls = Counter[str]()
    posts: list[float] = []
    enrolled = 0
    arrived = asyncio.Event()
    started = time.perf_counter()
    gate = asyncio.Semaphore(CONCURRENCY if rate is None else learners)

    async def enroll(n: int) -> None:
        nonlocal enrolled
        if rate is not None:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        async with gate:
            body = enrollment_body(n, center_id)
            asked = time.perf_counter()
            (await enrollment.request("POST", "/enrollments", body)).checked()
            posts.append(time.perf_counter() - asked)
        enrolled += 1
        arrived.set()

    async def take(trainings: list[dict[str, Any]]) -> None:
        done = await complete_trainings(
            cast(httpx.AsyncClient, None),  # unused: ``request`` makes every call
            platform.url("training"),
            trainings,
            request=request,
        )
        if done != len(trainings):
            raise RuntimeError(f"a class of {len(trainings)} completed only {done}")

    async def educator() -> None:
        # Lists the trainings opened since the last one it holds once a class's worth of
        # enrolments has been answered (or all of them), and takes each full class.
        seen, last = 0, None
        waiting: list[dict[str, Any]] = []
        classes: list[asyncio.Task[None]] = []
        while seen < learners:
            if enrolled - seen < class_size and enrolled < learners:
                arrived.clear()
                await arrived.wait()
                continue
            params: dict[str, Any] = {"status": "open", "limit": 1000}
            if last is not None:
                params["after"] = last
            fresh = (await training.request("GET", "/trainings", params=params)).checked().json()
            polls["polls"] += 1
            if not fresh:
                polls["empty"] += 1
                await asyncio.sleep(0.1)
                continue
            last = fresh[-1]["id"]
            seen += len(fresh)
            waiting += fresh
            while len(waiting) >= class_size or (waiting and seen >= learners):
                classes.append(asyncio.create_task(take(waiting[:class_size])))
                waiting = waiting[class_size:]
        await asyncio.gather(*classes)

    await asyncio.gather(educator(), *(enroll(n) for n in range(learners)))
    while True:
        summary = (await certification.request("GET", "/certificates/summary")).checked()
        if summary.json()["issued"] >= learners:
            break
        await asyncio.sleep(SETTLE_POLL_S)
    if own:
        await clients.close()
    return {"polls": dict(polls), "post_s": posts}


# ---- what the platform did: JetStream and the services' counters ----------------------------


async def stream_states(js: JetStreamContext) -> dict[str, Any]:
    """Messages and bytes per stream; delivered, acked and redelivered per durable consumer."""
    states: dict[str, Any] = {"streams": {}, "consumers": {}}
    for spec in STREAMS:
        info = await js.stream_info(spec.name)
        states["streams"][spec.name] = {
            "messages": info.state.messages,
            "last_seq": info.state.last_seq,
        }
        for consumer in await js.consumers_info(spec.name):
            name = consumer.name
            states["consumers"][name] = {
                "delivered": consumer.delivered.consumer_seq if consumer.delivered else 0,
                "acked": consumer.ack_floor.consumer_seq if consumer.ack_floor else 0,
                "redelivered": consumer.num_redelivered or 0,
                "pending": (consumer.num_pending or 0) + (consumer.num_ack_pending or 0),
            }
    return states


async def events_since(
    js: JetStreamContext, stream: str, subject: str, after_seq: int
) -> list[CloudEvent[Any]]:
    """The events on ``subject`` that ``stream`` took after sequence ``after_seq``."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_seq + 1,
        ack_policy=AckPolicy.NONE,
    )
    reader = await js.pull_subscribe(subject, stream=stream, config=config)
    events: list[CloudEvent[Any]] = []
    try:
        while True:
            try:
                batch = await reader.fetch(1000, timeout=1.0)
            except nats.errors.TimeoutError:
                return events
            events += [parse_event(message.data) for message in batch]
    finally:
        await reader.unsubscribe()


async def completion_to_message_s(
    js: JetStreamContext, before: dict[str, Any]
) -> dict[str, list[float]]:
    """For each learner, seconds from their training's completion committed to the message
    about their certificate sent to their guardian (or to themselves, from 18): the first
    such send of any channel, from the events' own times; and the two legs of that path,
    completion → certificate issued (training and certification) and certificate issued →
    message sent (notify)."""

    async def times(stream: str, subject: str) -> list[CloudEvent[Any]]:
        return await events_since(js, stream, subject, before["streams"][stream]["last_seq"])

    completed = {e.data.learner_id: e.time for e in await times("TRAINING", TRAINING_COMPLETED)}
    issued = {e.data.learner_id: e.time for e in await times("CERTIFICATION", CERTIFICATE_ISSUED)}
    told: dict[str, datetime] = {}
    for event in await times("NOTIFY", NOTIFICATION_SENT):
        sent = event.data
        if sent.cause_type == CERTIFICATE_ISSUED and sent.recipient_kind != "association":
            told[sent.learner_id] = min(sent.sent_at, told.get(sent.learner_id, sent.sent_at))

    def seconds(ends: dict[str, datetime], starts: dict[str, datetime]) -> list[float]:
        return [(end - starts[learner]).total_seconds() for learner, end in ends.items()]

    return {
        "told": seconds(told, completed),
        "issued": seconds({learner: issued[learner] for learner in told}, completed),
        "sent": seconds(told, issued),
    }


async def mean_event_size(js: JetStreamContext, published: dict[str, int]) -> int:
    """The mean size (data and headers) of the run's last events, weighted by stream."""
    sizes: list[tuple[int, int]] = []
    for stream, count in published.items():
        if count <= 0:
            continue
        last = (await js.stream_info(stream)).state.last_seq
        sample = [await js.get_msg(stream, seq) for seq in range(max(1, last - 9), last + 1)]
        mean = statistics.fmean(
            len(m.data or b"") + sum(len(k) + len(v) + 4 for k, v in (m.headers or {}).items())
            for m in sample
        )
        sizes.append((count, round(mean)))
    total = sum(count for count, _ in sizes)
    return round(sum(count * size for count, size in sizes) / total) if total else 0


async def sql_counters(clients: Clients) -> dict[str, dict[str, float]]:
    """Each service's ``fursa_bench_sql_*`` counters from its /metrics (bench/sqlprobe)."""
    counters: dict[str, dict[str, float]] = {}
    for name, client in clients.of.items():
        text = (await client.request("GET", "/metrics")).checked().body.decode()
        mine: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.startswith("fursa_bench_sql_") and sample.name.endswith("_total"):
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    mine[f"{sample.name}{{{labels}}}"] = sample.value
        counters[name] = mine
    return counters


def sql_work(before: dict[str, float], after: dict[str, float]) -> SqlWork:
    def delta(key: str) -> int:
        return round(after.get(key, 0.0) - before.get(key, 0.0))

    def ended(wrote: str) -> int:
        return sum(
            delta(f"fursa_bench_sql_transactions_total{{end={end},wrote={wrote}}}")
            for end in ("commit", "rollback")
        )

    reads = delta("fursa_bench_sql_statements_total{kind=read}")
    in_writes = delta("fursa_bench_sql_reads_in_writes_total{}")
    return SqlWork(
        write_transactions=ended("yes"),
        read_transactions=ended("no"),
        reads_in_writes=in_writes,
        reads_elsewhere=reads - in_writes,
        writes=delta("fursa_bench_sql_statements_total{kind=write}"),
        rows_written=delta("fursa_bench_sql_rows_written_total{}"),
    )


async def settle(clients: Clients, js: JetStreamContext, learners: int) -> None:
    """Wait until the platform has nothing left to do for the run (see the module's doc)."""
    notify = clients.of["notify"]
    expected = sum(consents(n) for n in range(learners))

    async def summary(**params: str) -> dict[str, int]:
        answer = await notify.request("GET", "/deliveries/summary", params=params)
        counts: dict[str, int] = answer.checked().json()
        return counts

    while True:
        await asyncio.sleep(SETTLE_POLL_S)
        first = await stream_states(js)
        if any(c["pending"] for c in first["consumers"].values()):
            continue
        # Each learner's contact is the guardian, or the adult learner themself.
        told = [
            await summary(recipient_kind=kind, cause_type=CERTIFICATE_ISSUED)
            for kind in ("guardian", "learner")
        ]
        if sum(sent["sent"] + sent["failed"] for sent in told) < expected:
            continue
        pending = [
            (await summary(recipient_kind=kind))["pending"]
            for kind in ("guardian", "learner", "association")
        ]
        if any(pending):
            continue
        if any(await outbox_unsent(clients)):
            continue
        again = await stream_states(js)
        if again["streams"] == first["streams"] and not any(
            c["pending"] for c in again["consumers"].values()
        ):
            return


async def outbox_unsent(clients: Clients) -> list[float]:
    unsent = []
    for client in clients.of.values():
        text = (await client.request("GET", "/metrics")).checked().body.decode()
        for family in text_string_to_metric_families(text):
            if family.name == "fursa_outbox_unsent":
                unsent += [sample.value for sample in family.samples]
    return unsent


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """Each process's CPU time so far, user + system (Linux ``/proc/<pid>/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for name, pid in pids.items():
        # The fields after the command name's closing parenthesis; utime and stime are the
        # 14th and 15th of the whole line.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds[name] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def resident_mib(pids: dict[str, int]) -> dict[str, float]:
    """Each process's resident memory now (VmRSS), in MiB."""
    sizes = {}
    for name, pid in pids.items():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[name] = round(int(line.split()[1]) / 1024, 1)
    return sizes


def per_learner_ms(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {name: round((after[name] - before[name]) / n * 1000, 2) for name in before}


def process_ids(platform: Platform) -> dict[str, int]:
    assert platform.nats is not None
    assert platform.nats.process is not None
    pids = {name: process.pid for name, process in platform.processes.items()}
    pids["nats-server"] = platform.nats.process.pid
    if platform.smtp_sink is not None:
        pids["smtp sink"] = platform.smtp_sink.pid
    pids["load generator"] = os.getpid()
    return pids


# ---- the run ---------------------------------------------------------------------------------


async def measure(
    platform: Platform,
    learners: int,
    *,
    class_size: int,
    rate: float | None,
    database_urls: dict[str, str] | None,
    workdir: Path,
) -> dict[str, Any]:
    assert platform.nats is not None
    clients = Clients(platform)
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        centers = (await clients.of["enrollment"].request("GET", "/centers")).checked().json()
        (
            await clients.of["notify"].request(
                "PUT",
                f"/associations/{centers[0]['association_id']}/contact",
                {"email": "suivi@association-demo.ma", "preferred_language": "fr"},
            )
        ).checked()
        pids = process_ids(platform)
        idle_before = cpu_seconds(pids)
        await asyncio.sleep(IDLE_S)
        idle_after = cpu_seconds(pids)
        idle = {
            name: round((idle_after[name] - idle_before[name]) / IDLE_S * 1000, 1) for name in pids
        }
        streams_before = await stream_states(js)
        sql_before = await sql_counters(clients)
        calls_before = clients.calls()
        wall = time.perf_counter()
        cpu_before = cpu_seconds(pids)
        driven = await drive(platform, learners, class_size=class_size, rate=rate, clients=clients)
        calls_driven = clients.calls()
        generator_driven = cpu_seconds({"load generator": pids["load generator"]})
        await settle(clients, js, learners)
        cpu_after = cpu_seconds(pids)
        memory = resident_mib({name: pids[name] for name in SERVICES})
        wall = time.perf_counter() - wall
        calls_after = clients.calls()
        streams_after = await stream_states(js)
        sql_after = await sql_counters(clients)
        published = {
            stream: streams_after["streams"][stream]["messages"] - state["messages"]
            for stream, state in streams_before["streams"].items()
        }
        consumers = {
            name: {
                key: streams_after["consumers"][name][key] - state[key]
                for key in ("delivered", "acked", "redelivered")
            }
            for name, state in streams_before["consumers"].items()
        }
        size = await mean_event_size(js, published)
        told_s = await completion_to_message_s(js, streams_before)
    finally:
        await nc.close()
        await clients.close()

    cpu_ms = per_learner_ms(cpu_before, cpu_after, learners)
    services_ms = round(sum(cpu_ms[name] for name in SERVICES), 2)
    work = {name: sql_work(sql_before[name], sql_after[name]) for name in SERVICES}
    events = sum(published.values())
    deliveries = sum(c["delivered"] for c in consumers.values())
    acks = sum(c["acked"] for c in consumers.values())

    nats_before = cpu_seconds({"nats-server": pids["nats-server"]})
    floor_s: dict[str, float] = {
        "jetstream": await broker_floor(
            platform.nats.url,
            "admin",
            platform.passwords["admin"],
            published=events,
            consumed=deliveries,
            size=size,
        )
    }
    nats_floor = cpu_seconds({"nats-server": pids["nats-server"]})
    for name, service_work in work.items():
        if database_urls is None:
            floor_s[name] = sqlite_floor(workdir / f"floor-{name}.db", service_work)
        else:
            floor_s[name] = await postgres_floor(database_urls[name], service_work)
    floor_ms = {name: round(s / learners * 1000, 2) for name, s in floor_s.items()}
    floor_total = round(sum(floor_ms.values()), 2)

    def each(value: float) -> float:
        return round(value / learners, 2)

    return {
        "learners": learners,
        "class_size": class_size,
        "database": "sqlite" if database_urls is None else "postgres",
        "offered_rate_per_s": rate,
        "wall_s": round(wall, 1),
        "learners_per_s": round(learners / wall, 1),
        "cpu_ms_per_learner": {**cpu_ms, "services": services_ms},
        "latency_ms": {
            "enrolment_post": _spread(driven["post_s"]),
            "completion_to_certificate_message_sent": _spread(told_s["told"]),
            "completion_to_certificate_issued": _spread(told_s["issued"]),
            "certificate_issued_to_message_sent": _spread(told_s["sent"]),
            "learners_told": len(told_s["told"]),
        },
        "idle_cpu_ms_per_s": idle,
        # Each service's resident memory once the run is done (the 10k / 50k comparison).
        "rss_mib": memory,
        # The load generator's share before the end-of-run checks (enrolments, classes and
        # the certificate count), the rest being those checks' HTTP and JetStream reads.
        "load_generator_drive_ms_per_learner": per_learner_ms(
            {"load generator": cpu_before["load generator"]}, generator_driven, learners
        )["load generator"],
        "floor_cpu_ms_per_learner": {**floor_ms, "total": floor_total},
        "floor_nats_server_ms_per_learner": round(
            (nats_floor["nats-server"] - nats_before["nats-server"]) / learners * 1000, 2
        ),
        "ratio": round(services_ms / floor_total, 1) if floor_total else None,
        "per_learner": {
            "http_calls": {
                name: each(calls_driven[name] - calls_before[name]) for name in calls_before
            },
            "settle_http_calls": sum(calls_after[n] - calls_driven[n] for n in calls_after),
            "educator_polls": driven["polls"],
            "events_published": each(events),
            "events_by_stream": {stream: each(n) for stream, n in published.items()},
            "event_bytes": size,
            "deliveries": each(deliveries),
            "acks": each(acks),
            "redeliveries": each(sum(c["redelivered"] for c in consumers.values())),
            "sql": {
                name: {
                    "reads": each(w.reads_in_writes + w.reads_elsewhere),
                    "writes": each(w.writes),
                    "rows_written": each(w.rows_written),
                    "write_transactions": each(w.write_transactions),
                    "read_transactions": each(w.read_transactions),
                    "other_statements": each(_delta(sql_before[name], sql_after[name], "other")),
                }
                for name, w in work.items()
            },
        },
    }


def _spread(seconds: list[float]) -> dict[str, float]:
    """p50, p99 and the maximum, in milliseconds."""
    if not seconds:
        return {}
    return {
        name: round(value * 1000, 1)
        for name, value in (
            ("p50", percentile(seconds, 50)),
            ("p99", percentile(seconds, 99)),
            ("max", max(seconds)),
        )
    }


def _delta(before: dict[str, float], after: dict[str, float], kind: str) -> float:
    key = f"fursa_bench_sql_statements_total{{kind={kind}}}"
    return after.get(key, 0.0) - before.get(key, 0.0)


# ---- PostgreSQL: a database per service, made for the run and dropped after it ---------------


@contextlib.asynccontextmanager
async def _admin() -> AsyncIterator[Any]:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        yield connection
    finally:
        await connection.close()


@contextlib.contextmanager
def postgres_databases() -> Iterator[dict[str, str]]:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    names = {service: f"fursa_bench_{service}_{uuid.uuid4().hex[:8]}" for service in SERVICES}

    async def run(statement: str) -> None:
        async with _admin() as admin:
            for name in names.values():
                await admin.execute(statement.format(name=name))

    asyncio.run(run("CREATE DATABASE {name}"))
    try:
        yield {service: f"{base}/{name}" for service, name in names.items()}
    finally:
        asyncio.run(run("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


# ---- output ----------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> None:
    cpu, floor = result["cpu_ms_per_learner"], result["floor_cpu_ms_per_learner"]
    counts = result["per_learner"]
    mode = (
        f"open loop at {result['offered_rate_per_s']}/s"
        if result["offered_rate_per_s"]
        else "closed loop"
    )
    print(
        f"pipeline ({result['database']}, {mode}): {result['learners']} learners in classes of "
        f"{result['class_size']}, {result['wall_s']} s ({result['learners_per_s']} learners/s)"
    )
    print(
        "services' CPU per learner: "
        + ", ".join(f"{name} {cpu[name]} ms" for name in SERVICES)
        + f" | total {cpu['services']} ms"
    )
    print(
        f"apart: load generator {cpu['load generator']} ms (enrolments and classes "
        f"{result['load_generator_drive_ms_per_learner']} ms), nats-server {cpu['nats-server']} ms"
        + (f", SMTP sink {cpu['smtp sink']} ms" if "smtp sink" in cpu else "")
        + f" per learner; idle services' CPU ms/s: {result['idle_cpu_ms_per_s']}"
    )
    print(
        "same-work floor per learner: "
        + ", ".join(f"{name} {ms} ms" for name, ms in floor.items())
        + f" (nats-server during the floor: {result['floor_nats_server_ms_per_learner']} ms)"
    )
    print(f"ratio services ÷ floor: {result['ratio']}")
    print(f"services' resident memory at the end (MiB): {result['rss_mib']}")
    latency = result["latency_ms"]
    print(
        f"latency (ms): enrolment POST {latency['enrolment_post']}; training completed → "
        f"certificate message sent {latency['completion_to_certificate_message_sent']} "
        f"({latency['learners_told']} learners told): completion → certificate issued "
        f"{latency['completion_to_certificate_issued']}, issued → message sent "
        f"{latency['certificate_issued_to_message_sent']}"
    )
    http = counts["http_calls"]
    print(
        f"per learner: HTTP calls {round(sum(http.values()), 2)} {http}; events published "
        f"{counts['events_published']} ({counts['event_bytes']} bytes); deliveries "
        f"{counts['deliveries']}, acks {counts['acks']}, redeliveries {counts['redeliveries']}"
    )
    for name, sql in counts["sql"].items():
        print(f"  SQL {name}: {sql}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--class-size", type=int, default=CLASS_SIZE)
    parser.add_argument(
        "--rate", type=float, default=None, help="open loop: enrolments started per second"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    # The SQL probe, in every process the platform starts (see bench/sqlprobe).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROBE_DIR), os.environ.get("PYTHONPATH")) if p
    )
    os.environ["FURSA_BENCH_SQL_PROBE"] = "1"
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        urls = stack.enter_context(postgres_databases()) if args.database == "postgres" else None
        env = {f"FURSA_{s.upper()}_DATABASE_URL": url for s, url in (urls or {}).items()}
        platform = Platform.on_free_ports(workdir / "var", **env)
        try:
            platform.start(timeout_s=180)
            result = uvloop.run(
                measure(
                    platform,
                    args.learners,
                    class_size=args.class_size,
                    rate=args.rate,
                    database_urls=urls,
                    workdir=workdir,
                )
            )
        finally:
            platform.stop()
    report(result)


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


if __name__ == "__main__":
    sys.exit(main())

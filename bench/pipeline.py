"""N learners through the whole platform, beside raw JetStream in the same run.

Starts the platform (nats-server with the project's settings, the four services as processes),
enrolls N learners over HTTP, takes each class of open trainings through its sessions and
assessments to completion (``complete_trainings``), and waits for every certificate. Then, on
the same nats-server, raw nats-py JetStream: publish 5,000 messages of the same size
(pipelined, every PubAck awaited) while a pull consumer fetches and acks them, three rounds,
the median round as the baseline.

Latency is enrollment committed → certificate committed, from the CloudEvents ``time`` of each
learner's learner-enrolled and certificate-issued events (stamped inside the committing
transaction). It includes the sessions, assessments and completion calls this benchmark makes
as soon as a class of trainings is open; ``completion_to_certificate_*`` is the machine-only
part.

CPU per learner: each process's CPU time (user + system, from ``/proc``) over the drive, divided
by the learners — the four services, nats-server and this process (the load generator) — beside
what the 0.05 ratio target leaves per learner on this machine's cores at the measured raw rate.

The last line is one JSON object: learners_per_s, p50_ms, p99_ms, raw_msgs_per_s, ratio,
cpu_ms_per_learner, target_cpu_ms_per_learner.
With ``--rate R`` the enrolments are offered open-loop at R per second (latency under a fixed
load); without it, closed-loop at CONCURRENCY in flight (throughput).

Usage: python bench/pipeline.py [--learners 2000] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext

from fursa.cli.demo import CLASS_SIZE, complete_trainings, enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization
from fursa.shared.messaging.streams import StreamSpec, Topology, provision

# Concurrent HTTP calls of each kind (enrolments, completions).
CONCURRENCY = 32

# The pipeline target: learners/s ÷ raw JetStream msgs/s.
TARGET_RATIO = 0.05


async def drive(platform: Platform, learners: int, rate: float | None = None) -> float:
    """Enroll everyone while taking each class of open trainings to completion; wait for
    every certificate. Returns the seconds from the first enrolment to the last certificate.

    Closed loop (``rate`` None): at most CONCURRENCY enrolments in flight. Open loop: enrolment
    n starts at n / rate seconds whatever the platform's state, so a slow platform builds a
    queue that shows in the latency instead of slowing the generator down."""
    limits = httpx.Limits(max_connections=4 * CONCURRENCY + 4)
    async with httpx.AsyncClient(timeout=120, headers=dev_authorization(), limits=limits) as http:

        async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            # A pooled connection the server closed after its keep-alive timeout fails on
            # reuse: try again.
            for attempt in range(3):
                try:
                    response = await http.request(method, url, **kwargs)
                except httpx.TransportError:
                    if attempt == 2:
                        raise
                    continue
                return response.raise_for_status()
            raise AssertionError("unreachable")

        center_id = (await call("GET", f"{platform.url('enrollment')}/centers")).json()[0]["id"]
        started = time.perf_counter()
        enrolling = asyncio.Semaphore(CONCURRENCY if rate is None else learners)
        completing = asyncio.Semaphore(CONCURRENCY)

        async def enroll(n: int) -> None:
            if rate is not None:
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            async with enrolling:
                body = enrollment_body(n, center_id)
                await call("POST", f"{platform.url('enrollment')}/enrollments", json=body)

        async def completer() -> None:
            # What an educator's screen does: list the trainings opened since the last one it
            # holds and, once a class is full (or no one new arrived), take it through its
            # sessions to completion.
            seen = 0
            last: str | None = None
            waiting: list[dict[str, Any]] = []
            tasks: list[asyncio.Task[int]] = []
            while seen < learners:
                params: dict[str, Any] = {"status": "open", "limit": 1000}
                if last is not None:
                    params["after"] = last
                fresh = (
                    await call("GET", f"{platform.url('training')}/trainings", params=params)
                ).json()
                if fresh:
                    last = fresh[-1]["id"]
                seen += len(fresh)
                waiting += fresh
                if waiting and (len(waiting) >= CLASS_SIZE or not fresh):
                    tasks.append(asyncio.create_task(take(waiting)))
                    waiting = []
                if not fresh:
                    await asyncio.sleep(0.05)
            if waiting:
                tasks.append(asyncio.create_task(take(waiting)))
            await asyncio.gather(*tasks)

        async def take(trainings: list[dict[str, Any]]) -> int:
            return await complete_trainings(
                http, platform.url("training"), trainings, limits=completing
            )

        await asyncio.gather(completer(), *(enroll(n) for n in range(learners)))
        while True:
            issued = (
                await call("GET", f"{platform.url('certification')}/certificates/summary")
            ).json()["issued"]
            if issued >= learners:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)


async def event_times(js: JetStreamContext, stream: str, key: str) -> dict[str, datetime]:
    """``data[key]`` → event time for every event in ``stream`` (an ephemeral consumer reads)."""
    info = await js.stream_info(stream)
    sub = await js.pull_subscribe(f"fursa.{stream.lower()}.>", stream=stream)
    times: dict[str, datetime] = {}
    remaining = info.state.messages
    while remaining > 0:
        for msg in await sub.fetch(min(500, remaining), timeout=10):
            event = json.loads(msg.data)
            times[event["data"][key]] = datetime.fromisoformat(event["time"])
            remaining -= 1
            await msg.ack()
    await sub.unsubscribe()
    return times


# The raw baseline: this many messages a round, the median of this many rounds. One short
# round of N messages moved by a third from run to run, and the ratio with it.
RAW_MESSAGES = 5_000
RAW_ROUNDS = 3


async def raw_msgs_per_s(js: JetStreamContext, size: int) -> float:
    """Raw nats-py JetStream msgs/s for messages of ``size`` bytes: the median round."""
    rates = [
        RAW_MESSAGES / await raw_jetstream(js, RAW_MESSAGES, size, round_=n)
        for n in range(RAW_ROUNDS)
    ]
    return statistics.median(rates)


async def raw_jetstream(js: JetStreamContext, count: int, size: int, *, round_: int) -> float:
    """Raw nats-py publish + consume of ``count`` messages of ``size`` bytes, concurrently,
    on a stream of the round's own; returns the seconds taken."""
    stream, subjects = f"BENCHRAW{round_}", f"benchraw{round_}.>"
    await provision(js, Topology(streams=[StreamSpec(stream, (subjects,))], consumers=[]))
    payload = b"x" * size
    sub = await js.pull_subscribe(subjects, durable=f"benchraw{round_}", stream=stream)

    async def consume() -> None:
        seen = 0
        while seen < count:
            try:
                msgs = await sub.fetch(500, timeout=5)
            except TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            seen += len(msgs)

    started = time.perf_counter()
    consumer = asyncio.create_task(consume())
    acks = [
        await js.publish_async(
            f"benchraw{round_}.m", payload, headers={"Nats-Msg-Id": f"raw-{round_}-{i}"}
        )
        for i in range(count)
    ]
    await asyncio.gather(*acks)
    await consumer
    return time.perf_counter() - started


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


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


async def measure(platform: Platform, learners: int, rate: float | None) -> dict[str, Any]:
    assert platform.nats is not None
    assert platform.nats.process is not None
    pids = {name: process.pid for name, process in platform.processes.items()}
    pids |= {"nats-server": platform.nats.process.pid, "load generator": os.getpid()}
    cpu_before = cpu_seconds(pids)
    elapsed = await drive(platform, learners, rate)
    cpu_after = cpu_seconds(pids)
    cpu_ms = {
        name: round((cpu_after[name] - cpu_before[name]) / learners * 1000, 1) for name in pids
    }
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        enrolled = await event_times(js, "ENROLLMENT", "enrollment_id")
        completed = await event_times(js, "TRAINING", "enrollment_id")
        certified = await event_times(js, "CERTIFICATION", "enrollment_id")
        sample = await js.get_msg("ENROLLMENT", 1)
        raw_per_s = await raw_msgs_per_s(js, len(sample.data or b""))
    finally:
        await nc.close()
    latencies = [
        (certified[e] - enrolled[e]).total_seconds() * 1000 for e in certified if e in enrolled
    ]
    machine = [
        (certified[e] - completed[e]).total_seconds() * 1000 for e in certified if e in completed
    ]
    learners_per_s = learners / elapsed
    return {
        "learners": learners,
        "learners_per_s": round(learners_per_s, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "completion_to_certificate_p50_ms": round(percentile(machine, 50), 1),
        "completion_to_certificate_p99_ms": round(percentile(machine, 99), 1),
        "raw_msgs_per_s": round(raw_per_s, 1),
        "ratio": round(learners_per_s / raw_per_s, 4),
        "offered_rate_per_s": rate,
        "cpu_ms_per_learner": {**cpu_ms, "total": round(sum(cpu_ms.values()), 1)},
        # All of this machine's cores, for the learners/s the target asks at this raw rate.
        "target_cpu_ms_per_learner": round(
            (os.cpu_count() or 1) * 1000 / (TARGET_RATIO * raw_per_s), 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=None, help="open loop: enrolments started per second"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        platform = Platform.on_free_ports(Path(workdir) / "var")
        try:
            platform.start(timeout_s=180)
            result = asyncio.run(measure(platform, args.learners, args.rate))
        finally:
            platform.stop()
    mode = f"open loop at {args.rate}/s" if args.rate else "closed loop"
    print(
        f"pipeline ({mode}): {result['learners_per_s']} learners/s, enrollment→certificate "
        f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms | raw JetStream publish+consume "
        f"{result['raw_msgs_per_s']} msgs/s | ratio {result['ratio']}"
    )
    cpu = result["cpu_ms_per_learner"]
    print(
        "CPU per learner: "
        + ", ".join(f"{name} {ms} ms" for name, ms in cpu.items())
        + f" | the {TARGET_RATIO} ratio allows {result['target_cpu_ms_per_learner']} ms on "
        f"{os.cpu_count()} cores at this raw rate"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

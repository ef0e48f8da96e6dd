"""Each service's resident memory idle, after 10,000 and after 100,000 events.

Starts the platform (nats-server and the four services as processes, SQLite) and reads each
service's RSS (VmRSS) once it is ready. Then it publishes learner-enrolled events (as the
enrollment service would) in two steps — up to the first mark, then up to the second — and
reads every RSS again once each durable consumer has caught up. Training, certification and
notify consume those events (each keeps its copy of the learner); enrollment only publishes
them, so its figure shows its runtime idling beside the others.

Target: RSS after the second mark ≤ 1.1 × after the first (no growth with volume).
Usage: python bench/memory.py [--marks 10000 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import nats
from nats.js import JetStreamContext

from fursa.cli.platform import Platform
from fursa.shared.contracts import new_event, to_json_bytes
from fursa.shared.messaging.streams import CONSUMERS
from fursa.shared.testing.builders import learner_enrolled

SUBJECT = "fursa.enrollment.learner-enrolled.v1"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(f"no VmRSS for {pid}")


def rss_of(platform: Platform) -> dict[str, float]:
    return {name: rss_mib(process.pid) for name, process in platform.processes.items()}


async def publish(js: JetStreamContext, first: int, last: int) -> None:
    for start in range(first, last, 1000):
        acks = []
        for n in range(start, min(start + 1000, last)):
            event = new_event(
                learner_enrolled(n), source="fursa/enrollment", subject=f"e-{n}", sequence=1
            )
            acks.append(
                await js.publish_async(
                    SUBJECT, to_json_bytes(event), headers={"Nats-Msg-Id": event.id}
                )
            )
        await asyncio.gather(*acks)


async def caught_up(js: JetStreamContext) -> None:
    while True:
        infos = [await js.consumer_info(spec.stream, spec.durable) for spec in CONSUMERS]
        if not any(info.num_pending or info.num_ack_pending for info in infos):
            return
        await asyncio.sleep(0.5)


async def measure(platform: Platform, marks: list[int]) -> dict[str, dict[str, float]]:
    assert platform.nats is not None
    figures = {"idle": rss_of(platform)}
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        published = 0
        for mark in marks:
            started = time.perf_counter()
            await publish(js, published, mark)
            await caught_up(js)
            published = mark
            figures[f"after_{mark}"] = rss_of(platform)
            print(f"{mark} events consumed ({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        await nc.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--marks", type=int, nargs=2, default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        platform = Platform.on_free_ports(Path(workdir) / "var")
        # Each service imports only itself, as in production, so its resident memory is its own.
        platform.preload = False
        try:
            platform.start(timeout_s=180)
            figures = asyncio.run(measure(platform, args.marks))
        finally:
            platform.stop()
    first, second = (f"after_{mark}" for mark in args.marks)
    for service in figures["idle"]:
        growth = figures[second][service] / figures[first][service]
        print(
            f"{service}: idle {figures['idle'][service]} MiB, {first} {figures[first][service]}"
            f" MiB, {second} {figures[second][service]} MiB (× {growth:.2f})"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

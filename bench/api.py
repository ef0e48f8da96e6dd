"""The enrollment API (POST /enrollments, GET /enrollments/{id}) and the certificate lookup
(GET /certificates/{number}) beside a bare ASGI app answering the same routes, same run.

Starts the platform (nats-server and the four services as processes, SQLite), takes one learner
to a certificate to have an enrollment and a number to look up, and the bare app
(bench/bare_app.py) under the same uvicorn flags; its GET /enrollments/{id} answers the very
bytes the enrollment service answered. Each route is then called N times, CONCURRENCY at a time,
from the lean keep-alive client (bench/keepalive.py): requests/s, p50/p99 latency and the
server's CPU per request (user + system from /proc, over the calls) for the service and the
baseline, and their ratio.

The last line is one JSON object. Usage: python bench/api.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import uvloop
from keepalive import KeepAlive
from pipeline import cpu_seconds, drive, percentile  # bench/ is this script's directory

from fursa.cli.demo import enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization
from fursa.shared.natsserver import free_port

CONCURRENCY = 32


async def load(
    origin: str, method: str, path: str, requests: int, pid: int, body: Any = None
) -> dict[str, float]:
    """``requests`` calls, CONCURRENCY in flight: requests/s, latency percentiles and the CPU
    per request of the process ``pid`` that answers them."""
    client = KeepAlive(origin, dev_authorization(), CONCURRENCY)
    latencies: list[float] = []
    in_flight = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        payload = body(n) if callable(body) else body
        async with in_flight:
            started = time.perf_counter()
            answer = await client.request(method, path, payload)
            latencies.append((time.perf_counter() - started) * 1000)
        answer.checked()

    await idle(pid)
    cpu = cpu_seconds({"server": pid})["server"]
    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(requests)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds({"server": pid})["server"] - cpu
    await client.close()
    return {
        "per_s": round(requests / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "cpu_us_per_request": round(cpu / requests * 1e6),
    }


async def idle(pid: int, *, window_s: float = 0.5, busy_share: float = 0.05) -> None:
    """Wait until the process ``pid`` has finished earlier work (the relay and consumers after
    a burst of enrolments): two windows in a row in which it used under ``busy_share`` of a
    core. Otherwise that work would count in the next route's CPU per request."""
    quiet = 0
    deadline = time.monotonic() + 300
    while quiet < 2 and time.monotonic() < deadline:
        before = cpu_seconds({"server": pid})["server"]
        await asyncio.sleep(window_s)
        used = cpu_seconds({"server": pid})["server"] - before
        quiet = quiet + 1 if used < busy_share * window_s else 0


def start_bare_app(port: int, logs: Path, enrollment: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(Path(__file__).parent),
            "bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-keep-alive",
            "75",
        ],
        stdout=logs.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "FURSA_BENCH_ENROLLMENT_JSON": str(enrollment)},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def first_learner(platform: Platform) -> tuple[str, str]:
    """One learner taken to a certificate: their enrollment id and certificate number."""
    await drive(platform, 1)
    assert platform.nats is not None
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        enrolled = json.loads((await js.get_msg("ENROLLMENT", 1)).data or b"")
        issued = json.loads((await js.get_msg("CERTIFICATION", 1)).data or b"")
        return enrolled["data"]["enrollment_id"], issued["data"]["certificate_number"]
    finally:
        await nc.close()


async def measure(platform: Platform, workdir: Path, requests: int) -> dict[str, Any]:
    enrollment_id, number = await first_learner(platform)
    async with httpx.AsyncClient(headers=dev_authorization(), timeout=30) as http:
        centers = await http.get(f"{platform.url('enrollment')}/centers")
        enrollment = await http.get(f"{platform.url('enrollment')}/enrollments/{enrollment_id}")
    center_id = centers.raise_for_status().json()[0]["id"]
    (workdir / "enrollment.json").write_bytes(enrollment.raise_for_status().content)
    port = free_port()
    bare = start_bare_app(port, workdir / "bare.log", workdir / "enrollment.json")
    try:

        def body(n: int) -> dict[str, Any]:
            return enrollment_body(n, center_id)

        routes = {
            "enrollment": ("enrollment", "POST", "/enrollments", body),
            "enrollment_get": ("enrollment", "GET", f"/enrollments/{enrollment_id}", None),
            "certificate": ("certification", "GET", f"/certificates/{number}", None),
        }
        result: dict[str, Any] = {"requests": requests}
        for name, (service, method, path, payload) in routes.items():
            result[name] = await load(
                platform.url(service),
                method,
                path,
                requests,
                platform.processes[service].pid,
                payload,
            )
            result[f"{name}_bare_asgi"] = await load(
                f"http://127.0.0.1:{port}", method, path, requests, bare.pid, payload
            )
        return result
    finally:
        bare.terminate()
        bare.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        platform = Platform.on_free_ports(Path(workdir) / "var")
        try:
            platform.start(timeout_s=180)
            result = uvloop.run(measure(platform, Path(workdir), args.requests))
        finally:
            platform.stop()
    for route, service, baseline in (
        ("POST /enrollments", "enrollment", "enrollment_bare_asgi"),
        ("GET /enrollments/{id}", "enrollment_get", "enrollment_get_bare_asgi"),
        ("GET /certificates/{number}", "certificate", "certificate_bare_asgi"),
    ):
        mine, bare_figures = result[service], result[baseline]
        print(
            f"{route}: {mine['per_s']} req/s (p50 {mine['p50_ms']} ms, p99 {mine['p99_ms']} ms)"
            f" | bare ASGI {bare_figures['per_s']} req/s (p50 {bare_figures['p50_ms']} ms,"
            f" p99 {bare_figures['p99_ms']} ms) | ratio "
            f"{round(mine['per_s'] / bare_figures['per_s'], 3)} | CPU per request "
            f"{mine['cpu_us_per_request']} µs vs {bare_figures['cpu_us_per_request']} µs: × "
            f"{round(mine['cpu_us_per_request'] / max(bare_figures['cpu_us_per_request'], 1), 1)}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The enrollment API (POST /enrollments) and the certificate lookup (GET /certificates/{number})
beside a bare ASGI app answering the same routes, measured in the same run.

Starts the platform (nats-server and the four services as processes, SQLite), issues one
certificate to have a number to look up, and the bare app (bench/bare_app.py) under the same
uvicorn flags. Each route is then called N times, CONCURRENCY at a time, from one httpx client;
requests/s and p50/p99 latency are printed for the service and the baseline.

The last line is one JSON object. Usage: python bench/api.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats
from pipeline import drive, percentile  # bench/ is this script's directory

from fursa.cli.demo import enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization
from fursa.shared.natsserver import free_port

CONCURRENCY = 32


async def load(method: str, url: str, requests: int, body: Any = None) -> dict[str, float]:
    """``requests`` calls, CONCURRENCY in flight; requests/s and latency percentiles."""
    limits = httpx.Limits(max_connections=CONCURRENCY)
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=60, headers=dev_authorization(), limits=limits) as http:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> None:
            payload = body(n) if callable(body) else body
            async with gate:
                started = time.perf_counter()
                response = await http.request(method, url, json=payload)
                latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(requests)))
        elapsed = time.perf_counter() - started
    return {
        "per_s": round(requests / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


def start_bare_app(port: int, logs: Path) -> subprocess.Popen[bytes]:
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


async def certificate_number(platform: Platform) -> str:
    await drive(platform, 1)
    assert platform.nats is not None
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        message = await nc.jetstream().get_msg("CERTIFICATION", 1)
        number: str = json.loads(message.data or b"")["data"]["certificate_number"]
        return number
    finally:
        await nc.close()


async def measure(platform: Platform, bare_url: str, requests: int) -> dict[str, Any]:
    number = await certificate_number(platform)
    async with httpx.AsyncClient(headers=dev_authorization(), timeout=30) as http:
        centers = await http.get(f"{platform.url('enrollment')}/centers")
    center_id = centers.raise_for_status().json()[0]["id"]

    def body(n: int) -> dict[str, Any]:
        return enrollment_body(n, center_id)

    return {
        "requests": requests,
        "enrollment": await load(
            "POST", f"{platform.url('enrollment')}/enrollments", requests, body
        ),
        "enrollment_bare_asgi": await load("POST", f"{bare_url}/enrollments", requests, body),
        "certificate": await load(
            "GET", f"{platform.url('certification')}/certificates/{number}", requests
        ),
        "certificate_bare_asgi": await load("GET", f"{bare_url}/certificates/{number}", requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        platform = Platform.on_free_ports(Path(workdir) / "var")
        port = free_port()
        bare = None
        try:
            platform.start(timeout_s=180)
            bare = start_bare_app(port, Path(workdir) / "bare.log")
            result = asyncio.run(measure(platform, f"http://127.0.0.1:{port}", args.requests))
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait()
            platform.stop()
    for route, service, baseline in (
        ("POST /enrollments", "enrollment", "enrollment_bare_asgi"),
        ("GET /certificates/{number}", "certificate", "certificate_bare_asgi"),
    ):
        mine, bare_figures = result[service], result[baseline]
        print(
            f"{route}: {mine['per_s']} req/s (p50 {mine['p50_ms']} ms, p99 {mine['p99_ms']} ms)"
            f" | bare ASGI {bare_figures['per_s']} req/s (p50 {bare_figures['p50_ms']} ms,"
            f" p99 {bare_figures['p99_ms']} ms) | ratio "
            f"{round(mine['per_s'] / bare_figures['per_s'], 3)}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

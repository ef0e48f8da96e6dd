"""Crash test: kill -9 of the certification service while it issues 500 certificates."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from fursa.cli.demo import complete_trainings, enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization
from tests.reliability.flow import contact_messages_sent

LEARNERS = 500


def certificates_in(db: Path) -> list[str]:
    """Certificate numbers in the certification service's own database file."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as connection:
            return [row[0] for row in connection.execute("SELECT number FROM certificate")]
    except sqlite3.OperationalError:  # the service has not created its tables yet
        return []


async def enroll_and_complete_all(platform: Platform) -> list[dict[str, Any]]:
    limits = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30, headers=dev_authorization()) as http:
        center_id = (await http.get(f"{platform.url('enrollment')}/centers")).json()[0]["id"]

        async def one(n: int) -> dict[str, Any]:
            body = enrollment_body(n, center_id)
            body["consent"]["notifications"] = True
            async with limits:
                enrolled = (
                    (await http.post(f"{platform.url('enrollment')}/enrollments", json=body))
                    .raise_for_status()
                    .json()
                )
            return dict(enrolled)

        enrollments = await asyncio.gather(*(one(n) for n in range(LEARNERS)))

        async def training_of(enrollment: dict[str, Any]) -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while True:
                async with limits:
                    found = (
                        await http.get(
                            f"{platform.url('training')}/trainings",
                            params={"enrollment_id": enrollment["enrollment_id"]},
                        )
                    ).json()
                if found or time.monotonic() > deadline:
                    return dict(found[0])
                await asyncio.sleep(0.2)

        trainings = await asyncio.gather(*(training_of(e) for e in enrollments))
        completed = await complete_trainings(
            http, platform.url("training"), trainings, limits=limits
        )
        assert completed == LEARNERS
    return list(enrollments)


@pytest.mark.slow
async def test_certification_killed_mid_issuance_issues_each_certificate_once(
    platform: Platform,
) -> None:
    db = platform.var_dir / "certification.db"
    flow = asyncio.create_task(enroll_and_complete_all(platform))
    deadline = time.monotonic() + 120
    while not certificates_in(db):
        assert time.monotonic() < deadline, "no certificate issued in time"
        await asyncio.sleep(0.01)
    platform.kill("certification")
    issued_at_kill = len(certificates_in(db))
    assert 0 < issued_at_kill < LEARNERS

    await flow
    platform.start_service("certification")
    platform.wait_ready(services=["certification"])

    deadline = time.monotonic() + 120
    while len(certificates_in(db)) < LEARNERS and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    numbers = sorted(certificates_in(db))
    assert len(numbers) == LEARNERS
    year = numbers[0].split("-")[1]
    assert numbers == [f"MS-{year}-{n:06d}" for n in range(1, LEARNERS + 1)]

    assert platform.nats is not None
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        # Committed certificates reach the stream once the restarted relay has drained.
        deadline = time.monotonic() + 60
        while (await js.stream_info("CERTIFICATION")).state.messages < LEARNERS:
            assert time.monotonic() < deadline, "certificate-issued events missing"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        assert (await js.stream_info("CERTIFICATION")).state.messages == LEARNERS
    finally:
        await nc.close()

    async with httpx.AsyncClient(timeout=30, headers=dev_authorization()) as http:

        async def get(service: str, path: str, **params: str) -> Any:
            return (await http.get(f"{platform.url(service)}{path}", params=params)).json()

        deadline = time.monotonic() + 60
        while True:
            # Each learner's contact: the guardian, or the adult learner themself.
            sent = await contact_messages_sent(
                get, cause_type="fursa.certification.certificate-issued.v1"
            )
            if sent >= LEARNERS or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert sent == LEARNERS

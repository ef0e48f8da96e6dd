"""The broker crashes (kill -9) or is stopped for a minute under load: the services ride it out
without being restarted, and every count is exact afterwards."""

from __future__ import annotations

import asyncio
import os

import pytest

from fursa.cli.platform import Platform
from tests.reliability.flow import (
    Journey,
    Ledger,
    admin_client,
    journey_of,
    ledger,
    notifications_sent,
    settled,
    wait_for,
)

LEARNERS = int(os.environ.get("FURSA_RELIABILITY_LEARNERS", "400")) // 2
OUTAGE_S = float(os.environ.get("FURSA_RELIABILITY_OUTAGE_S", "60"))


async def certificates_issued(journey: Journey) -> int:
    return int((await journey.get("certification", "/certificates/summary"))["issued"])


async def flow_with_broker_fault(platform: Platform, fault: str) -> None:
    service_pids = {name: process.pid for name, process in platform.processes.items()}
    assert platform.nats is not None
    async with admin_client() as http:
        journey = journey_of(platform, http)
        enrollments = await journey.enroll(range(LEARNERS))
        flow = asyncio.create_task(journey.complete_all(enrollments))
        await wait_for(lambda: _at_least(journey, 10), "the first certificates")
        if fault == "kill":
            platform.nats.kill()
            await asyncio.sleep(1)
        else:
            platform.nats.stop()
            # Completions keep committing (to the outbox) while the broker is away.
            await asyncio.sleep(OUTAGE_S)
        # Too late would be a flow with nothing left to cross the broker. Certification may
        # already hold every training-completed (fetched in one batch before the stop) and
        # issue every certificate during the outage; its certificate-issued events still wait
        # in its outbox, so the guardians cannot all have been told yet.
        expected = Ledger.expected(LEARNERS)
        assert await notifications_sent(journey) < expected.notifications_sent, (
            "the fault came too late"
        )
        await asyncio.to_thread(platform.nats.restart)
        await flow
        final = await settled(platform, lambda: ledger(journey, platform, enrollments), expected)
    assert final == expected
    # Resumed by themselves: the very same processes, still running.
    assert {name: process.pid for name, process in platform.processes.items()} == service_pids
    assert all(process.poll() is None for process in platform.processes.values())


async def _at_least(journey: Journey, count: int) -> bool:
    return await certificates_issued(journey) >= count


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_broker_killed_and_restarted_under_load_loses_and_repeats_nothing(
    platform: Platform,
) -> None:
    await flow_with_broker_fault(platform, "kill")


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_broker_stopped_a_minute_under_load_services_resume_without_restart(
    platform: Platform,
) -> None:
    await flow_with_broker_fault(platform, "stop")

"""kill -9 of each service in turn while learners flow through: nothing lost, nothing twice.

The learners are enrolled first, then their trainings are completed while each service is
killed in turn — at a moment when it has work in hand (a completion, certificate, notification
or enrolment closing in flight) — and started again. Enrolment itself is not killed during its
POSTs: a lost answer to a committed POST cannot be told from a failed one by an HTTP client, so
the driver could not know the expected count; the outbox's atomicity under a crash is proven by
the kernel's relay tests.

``FURSA_RELIABILITY_LEARNERS`` (default 400) sets the flow's size: the crashes land in the
middle of it either way, and 2,000 learners only make the run three times longer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from functools import partial

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

LEARNERS = int(os.environ.get("FURSA_RELIABILITY_LEARNERS", "400"))


def progress(journey: Journey) -> dict[str, Callable[[], Awaitable[int]]]:
    """For each service, a count that grows while it works through this flow."""

    async def completed() -> int:
        return int((await journey.get("training", "/trainings/summary"))["completed"])

    async def issued() -> int:
        return int((await journey.get("certification", "/certificates/summary"))["issued"])

    async def sent() -> int:
        return await notifications_sent(journey)

    async def closed() -> int:
        return int((await journey.get("enrollment", "/enrollments/summary"))["completed"])

    return {"training": completed, "certification": issued, "notify": sent, "enrollment": closed}


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_each_service_killed_mid_flow_loses_nothing_and_repeats_nothing(
    platform: Platform,
) -> None:
    async with admin_client() as http:
        journey = journey_of(platform, http)
        enrollments = await journey.enroll(range(LEARNERS))
        # One wave of completions per service killed, and a last one after the crashes: each
        # kill lands while the wave in flight gives the service work in hand.
        counts = progress(journey)
        waves = [enrollments[i :: len(counts) + 1] for i in range(len(counts) + 1)]
        flows: list[asyncio.Task[None]] = []
        for (service, count), wave in zip(counts.items(), waves[:-1], strict=True):
            before = await count()
            flows.append(asyncio.create_task(journey.complete_all(wave)))
            await wait_for(partial(grew, count, before + 5), f"{service} at work")
            platform.kill(service)
            platform.start_service(service)
            await asyncio.to_thread(platform.wait_ready, 120, [service])
        flows.append(asyncio.create_task(journey.complete_all(waves[-1])))
        await asyncio.gather(*flows)

        expected = Ledger.expected(LEARNERS)
        final = await settled(platform, lambda: ledger(journey, platform, enrollments), expected)
    assert final == expected


async def grew(count: Callable[[], Awaitable[int]], at_least: int) -> bool:
    return await count() >= at_least

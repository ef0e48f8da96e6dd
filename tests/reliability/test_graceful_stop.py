"""SIGTERM in the middle of a batch: the service finishes and acks the batch in hand, exits
cleanly, and the rest of the backlog is applied once after it starts again."""

from __future__ import annotations

import asyncio
import os
import signal

import nats
import pytest

from fursa.cli.platform import Platform
from tests.reliability.flow import (
    Journey,
    Ledger,
    admin_client,
    journey_of,
    ledger,
    settled,
    wait_for,
)

LEARNERS = int(os.environ.get("FURSA_RELIABILITY_LEARNERS", "400"))


async def certification_backlog(platform: Platform) -> tuple[int, int]:
    """(messages waiting, messages handed out and not yet acked) of certification's consumer
    of TRAINING."""
    assert platform.nats is not None
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        info = await nc.jetstream().consumer_info("TRAINING", "certification-training")
        return info.num_pending, info.num_ack_pending
    finally:
        await nc.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_sigterm_mid_batch_drains_the_batch_and_loses_nothing(platform: Platform) -> None:
    certification = platform.processes["certification"]
    async with admin_client() as http:
        journey = journey_of(platform, http)
        enrollments = await journey.enroll(range(LEARNERS))
        await wait_for(
            lambda: _trainings_open(journey, LEARNERS), "every training opened", timeout_s=300
        )
        # A backlog of completions builds up while certification is away...
        platform.kill("certification")
        await journey.complete_all(enrollments)
        # ...and SIGTERM arrives while it works through it, in batches of 20.
        platform.extra_env["FURSA_CERTIFICATION_CONSUMER_BATCH_SIZE"] = "20"
        platform.start_service("certification")
        certification = platform.processes["certification"]

        async def working() -> bool:
            summary = await journey.get("certification", "/certificates/summary")
            return int(summary["issued"]) > 0

        await wait_for(working, "certification at work on its backlog", timeout_s=300)
        log = platform.var_dir / "logs" / "certification.log"
        logged_before = log.stat().st_size
        certification.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(certification.wait, 60)
        with log.open("rb") as lines:
            lines.seek(logged_before)
            shutdown_log = lines.read().decode()
        waiting, unacked = await certification_backlog(platform)

        platform.start_service("certification")
        await asyncio.to_thread(platform.wait_ready, 180, ["certification"])
        expected = Ledger.expected(LEARNERS)
        final = await settled(platform, lambda: ledger(journey, platform, enrollments), expected)
    # uvicorn re-raises the signal once its graceful shutdown has finished.
    assert exit_code in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in shutdown_log
    assert "batch transaction failed" not in shutdown_log
    assert waiting > 0, "the backlog was gone before SIGTERM: not mid-flow"
    assert unacked == 0, "a message handed to the stopping service was left unacknowledged"
    assert final == expected


async def _trainings_open(journey: Journey, count: int) -> bool:
    return int((await journey.get("training", "/trainings/summary"))["open"]) >= count

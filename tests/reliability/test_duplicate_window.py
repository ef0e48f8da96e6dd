"""The same event published again after the stream's duplicate window: the inbox still makes
it a no-op in every consumer (the broker no longer can)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import nats
import pytest

from fursa.cli.platform import Platform
from fursa.shared.messaging.streams import STREAMS, Topology, provision
from tests.reliability.flow import (
    Ledger,
    admin_client,
    handled,
    journey_of,
    ledger,
    settled,
)

LEARNERS = 20
WINDOW_S = 1


@dataclasses.dataclass
class ShortWindowPlatform(Platform):
    """The platform with a one-second duplicate window on every stream (a test topology)."""

    async def provision(self) -> None:
        assert self.nats is not None
        nc = await nats.connect(self.nats.url, user="admin", password=self.passwords["admin"])
        try:
            streams = [dataclasses.replace(s, duplicate_window_s=WINDOW_S) for s in STREAMS]
            await provision(nc.jetstream(), Topology(streams=streams))
        finally:
            await nc.close()


@pytest.fixture
def short_window_platform(tmp_path: Path) -> Platform:
    running = ShortWindowPlatform.on_free_ports(tmp_path / "var")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_event_republished_after_duplicate_window_has_one_effect(
    short_window_platform: Platform,
) -> None:
    platform = short_window_platform
    async with admin_client() as http:
        journey = journey_of(platform, http)
        enrollments = await journey.enroll(range(LEARNERS))
        await journey.complete_all(enrollments)
        expected = Ledger.expected(LEARNERS)
        assert await settled(
            platform, lambda: ledger(journey, platform, enrollments), expected
        ) == (expected)

        assert platform.nats is not None
        nc = await nats.connect(
            platform.nats.url, user="admin", password=platform.passwords["admin"]
        )
        try:
            js = nc.jetstream()
            # The first learner's enrolment, completion and certificate, as stored.
            originals = [
                await js.get_msg(stream, 1)
                for stream in ("ENROLLMENT", "TRAINING", "CERTIFICATION")
            ]
            await asyncio.sleep(WINDOW_S + 1)
            for original in originals:
                assert original.subject is not None
                assert original.headers is not None
                ack = await js.publish(
                    original.subject,
                    original.data or b"",
                    headers={"Nats-Msg-Id": original.headers["Nats-Msg-Id"]},
                )
                assert not ack.duplicate, "the broker still dropped it: the window had not passed"
        finally:
            await nc.close()

        again = dataclasses.replace(
            expected,
            stream_messages={
                **expected.stream_messages,
                "ENROLLMENT": LEARNERS + 1,
                "TRAINING": LEARNERS + 1,
                "CERTIFICATION": LEARNERS + 1,
            },
        )
        assert (
            await settled(platform, lambda: ledger(journey, platform, enrollments), again) == again
        )
        # Every consumer of the three events received its copy and recognised it.
        duplicates = {
            **await handled(journey, "training", "duplicates"),
            **await handled(journey, "certification", "duplicates"),
            **await handled(journey, "enrollment", "duplicates"),
            **await handled(journey, "notify", "duplicates"),
        }
        assert duplicates == {
            "training-enrollment": 1,
            "certification-enrollment": 1,
            "certification-training": 1,
            "enrollment-training": 1,
            "notify-enrollment": 1,
            "notify-training": 1,
            "notify-certification": 1,
        }

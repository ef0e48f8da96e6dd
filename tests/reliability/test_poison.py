"""50 poison messages among 5,000 good learner-enrolled events: every good one is applied by
each consumer, every poison one is dead-lettered by each consumer, and nothing waits."""

from __future__ import annotations

import json
import os

import nats
import pytest

from fursa.cli.platform import Platform
from fursa.shared.contracts import new_event, to_json_bytes
from fursa.shared.messaging.streams import CONSUMERS
from fursa.shared.testing.builders import learner_enrolled
from tests.reliability.flow import (
    acknowledged_by,
    admin_client,
    consumers_caught_up,
    handled,
    journey_of,
    wait_for,
)

GOOD = int(os.environ.get("FURSA_RELIABILITY_GOOD", "5000"))
POISON = 50
SUBJECT = "fursa.enrollment.learner-enrolled.v1"
CONSUMERS_OF_ENROLLMENT = {
    "training": "training-enrollment",
    "certification": "certification-enrollment",
    "notify": "notify-enrollment",
}


def poison(n: int) -> bytes:
    """Three kinds of bad message: not JSON, not a CloudEvent, a CloudEvent with bad data."""
    if n % 3 == 0:
        return b"\xff not json " + str(n).encode()
    if n % 3 == 1:
        return json.dumps({"hello": n}).encode()
    event = json.loads(
        to_json_bytes(
            new_event(learner_enrolled(n), source="fursa/enrollment", subject=f"p-{n}", sequence=1)
        )
    )
    event["data"]["enrolled_on"] = "2025-02-30"  # an impossible date
    return json.dumps(event).encode()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_poison_is_dead_lettered_and_every_good_event_applied(platform: Platform) -> None:
    assert platform.nats is not None
    nc = await nats.connect(platform.nats.url, user="admin", password=platform.passwords["admin"])
    try:
        js = nc.jetstream()
        acks = []
        every = GOOD // POISON
        for n in range(GOOD):
            event = new_event(
                learner_enrolled(n), source="fursa/enrollment", subject=f"e-{n}", sequence=1
            )
            acks.append(
                await js.publish_async(
                    SUBJECT, to_json_bytes(event), headers={"Nats-Msg-Id": event.id}
                )
            )
            if n % every == every // 2:
                acks.append(
                    await js.publish_async(
                        SUBJECT, poison(n), headers={"Nats-Msg-Id": f"poison-{n}"}
                    )
                )
        last = max([(await ack).seq for ack in acks])
        assert (await js.stream_info("ENROLLMENT")).state.messages == GOOD + POISON
    finally:
        await nc.close()

    of_enrollment = [spec for spec in CONSUMERS if spec.durable in CONSUMERS_OF_ENROLLMENT.values()]

    async def caught_up() -> bool:
        # Through the last publish first: right after it, "nothing pending" can read true
        # before the server has counted the message.
        return await acknowledged_by(platform, of_enrollment, last) and await consumers_caught_up(
            platform
        )

    await wait_for(caught_up, "every consumer caught up", 600)
    async with admin_client() as http:
        journey = journey_of(platform, http)
        trainings = await journey.get("training", "/trainings/summary")
        applied = {}
        dead = {}
        for service, consumer in CONSUMERS_OF_ENROLLMENT.items():
            applied[service] = (await handled(journey, service, "applied")).get(consumer, 0)
            letters = await journey.get(service, "/dead-letters", consumer=consumer, limit=1000)
            dead[service] = len(letters)
    assert trainings["open"] == GOOD
    assert applied == dict.fromkeys(CONSUMERS_OF_ENROLLMENT, GOOD)
    assert dead == dict.fromkeys(CONSUMERS_OF_ENROLLMENT, POISON)

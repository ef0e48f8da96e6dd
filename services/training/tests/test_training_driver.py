"""The flow driver that the demo, the benchmark and the end-to-end tests share reaches
completion through the rules (sessions, attendance, assessments) of the seeded curriculum."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from fursa.cli.demo import complete_trainings
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S
from fursa.training.settings import TrainingSettings

OpenTraining = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> TrainingSettings:
    """The development defaults: the seeded curriculum and the configured rules."""
    return TrainingSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
    )


async def test_the_driver_takes_classes_of_two_centers_to_a_passed_completion(
    client: httpx.AsyncClient, open_training: OpenTraining
) -> None:
    trainings = [
        await open_training(n, place=place) for n, place in ((1, "A1"), (2, "A1"), (3, "B"))
    ]

    completed = await complete_trainings(client, "", trainings)

    assert completed == 3
    for training in trainings:
        record = (await client.get(f"/trainings/{training['id']}")).json()
        assert (record["status"], record["result"]) == ("completed", "passed")
        # The seed: five 20-hour modules and one 80-hour workshop, everyone present.
        assert (record["hours_attended"], record["attendance_rate"]) == (180, 1.0)
        assert record["workshops"] == ["tailoring"]

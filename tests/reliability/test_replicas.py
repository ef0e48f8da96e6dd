"""Two replicas of every service, competing on the same durable consumers and sharing each
service's database: every effect still happens exactly once and numbers stay gap-free."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fursa.cli.platform import Platform
from fursa.shared.natsserver import free_port
from tests.reliability.flow import (
    SERVICES,
    Journey,
    Ledger,
    admin_client,
    handled,
    ledger,
    settled,
)

LEARNERS = int(os.environ.get("FURSA_RELIABILITY_LEARNERS", "400"))


@pytest.fixture
def twins(platform: Platform) -> Iterator[Platform]:
    """A second process of each service: same databases, same broker, other ports."""
    twin = Platform(
        var_dir=platform.var_dir,
        ports={name: free_port() for name in SERVICES},
        nats=platform.nats,
        passwords=platform.passwords,
    )
    try:
        for service in SERVICES:
            twin.start_service(service)
        twin.wait_ready(180)
        yield twin
    finally:
        twin.nats = None  # the broker belongs to the first platform, which stops it
        twin.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_two_replicas_of_every_service_apply_each_event_once(
    platform: Platform, twins: Platform
) -> None:
    replicas = {name: [platform.url(name), twins.url(name)] for name in SERVICES}
    async with admin_client() as http:
        journey = Journey(http, replicas)
        enrollments = await journey.enroll(range(LEARNERS))
        await journey.complete_all(enrollments)
        expected = Ledger.expected(LEARNERS)
        final = await settled(platform, lambda: ledger(journey, platform, enrollments), expected)
        # Both replicas took a share of the certification work (competing consumers).
        shares = [
            (
                await handled(Journey(http, {"certification": [url]}), "certification", "applied")
            ).get("certification-training", 0)
            for url in replicas["certification"]
        ]
    assert final == expected
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == LEARNERS

"""One running platform for the security suites, seeded with one learner who went all the way
(enrolled, training completed, certificate issued, guardian notified)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fursa.cli.platform import Platform
from tests.reliability.flow import admin_client, journey_of, wait_for


@dataclass(frozen=True)
class Seeded:
    """The platform and the ids of the demo association's one learner, by path parameter name."""

    platform: Platform
    ids: dict[str, str]


async def _seed(platform: Platform) -> dict[str, str]:
    async with admin_client() as http:
        journey = journey_of(platform, http)
        (enrollment,) = await journey.enroll([0])
        await journey.complete_all([enrollment])
        training_id = (await journey.training_of(enrollment["enrollment_id"]))["id"]

        async def certified() -> bool:
            found = await journey.get(
                "certification", "/certificates", enrollment_id=enrollment["enrollment_id"]
            )
            return bool(found)

        await wait_for(certified, "the seeded learner's certificate")
        (certificate,) = await journey.get(
            "certification", "/certificates", enrollment_id=enrollment["enrollment_id"]
        )
        centers = await journey.get("enrollment", "/centers")
    return {
        "enrollment_id": enrollment["enrollment_id"],
        "learner_id": enrollment["learner_id"],
        "training_id": training_id,
        "number": certificate["number"],
        "center_id": centers[0]["id"],
        "association_id": centers[0]["association_id"],
    }


def seeded_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A platform with one learner taken to a certificate (see ``_seed``), stopped after."""
    platform = Platform.on_free_ports(Path(tmp_path_factory.mktemp("security")) / "var")
    try:
        platform.start(timeout_s=180)
        yield Seeded(platform, asyncio.run(_seed(platform)))
    finally:
        platform.stop()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    yield from seeded_platform(tmp_path_factory)

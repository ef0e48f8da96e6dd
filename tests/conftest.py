"""Cross-service tests run the real platform: nats-server and the four service processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fursa.cli.platform import Platform

HERE = Path(__file__).parent
# Suites that run whole platforms (four services and a broker, under load, killed and restarted,
# or on the development ports) each keep both cores busy: under pytest-xdist they form one
# group, run one after another on one worker (``--dist loadgroup`` hands out the largest group
# first) while the other workers take the rest. Two of them side by side only made each slower.
# The security suites share one seeded platform per worker and do not wait on the clock: they
# are spread like any other test, which keeps the group from being the run's longest path.
PLATFORM_SUITES = ("reliability", "e2e", "browser")


def pytest_itemcollected(item: pytest.Item) -> None:
    # At collection, before pytest-xdist reads the groups in pytest_collection_modifyitems.
    if not item.path.is_relative_to(HERE):
        return
    if item.path.relative_to(HERE).parts[0] in PLATFORM_SUITES:
        item.add_marker(pytest.mark.xdist_group("platform"))


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Extra environment for the services (a test module overrides it, e.g. for tracing)."""
    return {}


@pytest.fixture
def platform(tmp_path: Path, platform_env: dict[str, str]) -> Iterator[Platform]:
    running = Platform.on_free_ports(tmp_path / "var", **platform_env)
    try:
        # Generous: on a loaded 2-core machine a service takes seconds just to import.
        running.start(timeout_s=180)
        yield running
    finally:
        running.stop()

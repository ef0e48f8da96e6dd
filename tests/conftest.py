"""Cross-service tests run the real platform: nats-server and the four service processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fursa.cli.platform import Platform


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

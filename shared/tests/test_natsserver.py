"""The test and development nats-server: a recent enough binary, our JetStream settings."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from fursa.shared import natsserver
from fursa.shared.natsserver import MINIMUM_VERSION, NatsServer, NatsServerError, find_binary


def fake_binary(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True)
    binary = directory / "nats-server"
    binary.write_text(f"#!/bin/sh\necho 'nats-server: v{version}'\n")
    binary.chmod(0o755)
    return binary


def test_servers_older_than_2_11_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_binary(tmp_path / "venv" / "bin", "2.9.10")
    monkeypatch.setattr(sys, "executable", str(old.parent / "python"))
    monkeypatch.setenv("PATH", str(old.parent))
    with pytest.raises(NatsServerError, match=r">= 2\.11"):
        find_binary()


def test_the_wheel_binary_is_preferred_and_recent() -> None:
    binary = find_binary()
    assert natsserver.version_of(binary) >= MINIMUM_VERSION


def test_server_runs_jetstream_with_fsync_on_every_write(nats_server: NatsServer) -> None:
    varz = httpx.get(f"http://127.0.0.1:{nats_server.http_port}/varz", timeout=5).json()
    jetstream = varz["jetstream"]["config"]
    assert jetstream["sync_always"] is True
    assert jetstream["store_dir"].startswith(str(nats_server.store_dir))
    assert nats_server.port != 4222

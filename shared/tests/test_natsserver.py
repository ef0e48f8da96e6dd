"""The test and development nats-server: a recent enough binary, our JetStream settings."""

from __future__ import annotations

import socket
import sys
import threading
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


def _ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_the_server_binds_ports_it_chose_itself_and_we_read_them_back(
    nats_server: NatsServer,
) -> None:
    assert "port: -1" in nats_server.config_path.read_text()
    assert nats_server.port > 0
    assert nats_server.http_port > 0
    assert nats_server.url == f"nats://127.0.0.1:{nats_server.port}"
    varz = httpx.get(f"http://127.0.0.1:{nats_server.http_port}/varz", timeout=5).json()
    assert varz["port"] == nats_server.port


def test_free_ports_are_distinct_and_outside_the_ephemeral_range() -> None:
    ports = [natsserver.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert max(ports) < _ephemeral_low()


def test_a_restart_waits_until_its_port_is_released(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats").start()
    port = server.port
    try:
        server.kill()
        squatter = socket.create_server(("127.0.0.1", port))
        threading.Timer(0.5, squatter.close).start()
        server.start(timeout_s=10)
        assert server.port == port
        varz = httpx.get(f"http://127.0.0.1:{server.http_port}/varz", timeout=5).json()
        assert varz["port"] == port
    finally:
        server.stop()


def test_a_port_that_stays_taken_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", natsserver.free_port())) as squatter:
        port = squatter.getsockname()[1]
        server = NatsServer(tmp_path / "nats", port=port)
        with pytest.raises(NatsServerError, match=f"{port}.* stayed in use"):
            server.start(timeout_s=1)
        assert server.process is not None
        assert server.process.poll() is not None

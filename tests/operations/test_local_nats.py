"""The local platform's nats-server as ``fursa up`` starts it (``Platform.start_nats``).

* On a fixed port (``fursa up --nats-port``, 4223 by default) it comes back on the same port
  after a restart, so a partner's development connection settings keep working; a port taken
  by another program gives way to one the server chooses, and the platform says so.
* Its configuration holds bcrypt hashes only: no "Plaintext passwords" warning, and every
  service user still connects — with nats-py's default 2 s connect timeout, as services do.
* Readiness trusts only a port the service's own process listens on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import nats
from typer.testing import CliRunner

from fursa.cli.main import app
from fursa.cli.platform import Platform, listens_on
from fursa.shared.contracts.registry import SERVICES
from fursa.shared.natsauth import enroll_partner, inbox_prefix
from fursa.shared.natsserver import free_port


async def _connect_as(url: str, user: str, password: str, **options: object) -> None:
    nc = await nats.connect(
        url,
        user=user,
        password=password,
        inbox_prefix=inbox_prefix(user),
        allow_reconnect=False,
        **options,
    )
    await nc.close()


async def test_a_fixed_nats_port_and_a_partner_s_settings_survive_a_restart(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    port = free_port()
    password = enroll_partner(var_dir / "nats", "acme")
    for _ in range(2):  # `fursa up`, Ctrl-C, `fursa up` again
        platform = Platform(var_dir=var_dir, nats_port=port)
        platform.start_nats()
        assert platform.nats is not None
        try:
            await platform.provision()
            assert platform.nats.url == f"nats://127.0.0.1:{port}"
            assert platform.notices == []
            # The partner's settings, unchanged: same URL, user, password and inbox prefix.
            await _connect_as(f"nats://127.0.0.1:{port}", "acme", password, connect_timeout=10)
        finally:
            platform.stop()


def test_a_taken_nats_port_gives_way_to_one_the_server_chooses(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        platform = Platform(var_dir=tmp_path / "var", nats_port=taken)
        platform.start_nats()
        try:
            assert platform.nats is not None
            assert platform.nats.port != taken
            [notice] = platform.notices
            assert f"NATS port {taken} is taken" in notice
            assert f"listens on {platform.nats.port} instead" in notice
        finally:
            platform.stop()


async def test_nats_starts_without_plaintext_passwords_and_every_service_connects(
    tmp_path: Path,
) -> None:
    platform = Platform.on_free_ports(tmp_path / "var")
    platform.start_nats()
    assert platform.nats is not None
    try:
        await platform.provision()
        log = platform.nats.log_path.read_text()
        assert "Server is ready" in log
        assert "Plaintext passwords" not in log
        for password in platform.passwords.values():
            assert password not in platform.nats.config_path.read_text()
        # nats-py's default connect timeout (2 s), as each service's broker connects.
        await asyncio.gather(
            *(
                _connect_as(platform.nats.url, service, platform.passwords[service])
                for service in SERVICES
            )
        )
    finally:
        platform.stop()


def test_only_the_process_that_listens_on_a_port_counts_as_listening() -> None:
    with socket.socket() as mine:
        mine.bind(("127.0.0.1", 0))
        mine.listen()
        port = mine.getsockname()[1]
        assert listens_on(os.getpid(), port)
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            assert not listens_on(other.pid, port)
        finally:
            other.kill()
            other.wait()
    assert not listens_on(os.getpid(), port)


def test_a_service_port_taken_by_another_program_is_replaced(tmp_path: Path) -> None:
    service = "enrollment"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        platform = Platform(var_dir=tmp_path / "var", ports={service: taken})
        port = platform.claim_port(service)
        assert port != taken
        assert platform.ports[service] == port
        assert platform.url(service) == f"http://127.0.0.1:{port}"
        [notice] = platform.notices
        assert f"{service}: port {taken} is taken by another program" in notice


def test_up_refuses_a_var_dir_another_fursa_up_runs_with(tmp_path: Path) -> None:
    """Two platforms on one var/ would share its databases: the second stops at once."""
    first = Platform.on_free_ports(tmp_path / "var")
    first.start_nats()
    try:
        assert first.nats is not None
        assert first.nats.process is not None
        result = CliRunner().invoke(app, ["up", "--var-dir", str(tmp_path / "var")])
        assert result.exit_code == 1, result.output
        said = " ".join(result.output.split())
        assert f"its nats-server has pid {first.nats.process.pid}" in said
    finally:
        first.stop()

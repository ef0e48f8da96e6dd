"""``fursa partner add`` against a local stand-in for notify's admin API and a real nats-server.

The stand-in answers exactly as notify's contract says (``POST /partners``, ``POST
/partners/{id}/endpoints``) and records what it was sent; the real notify is exercised end to
end at merge. The nats-server runs the development configuration of ``var/nats``: the command
enrolls the partner in the roster, renders ``partners.conf`` and signals the server to reload,
after which the printed password opens a connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from typer.testing import CliRunner

from fursa.cli.main import app
from fursa.cli.platform import Platform
from fursa.shared.auth import TokenVerifier
from fursa.shared.natsauth import (
    DEV_CONFIG_NAME,
    USERS,
    enroll_partner,
    inbox_prefix,
    load_roster,
    write_dev_config,
)
from fursa.shared.natsserver import NatsServer
from fursa.shared.settings import DEV_TOKEN_KEY


@dataclass
class StandIn:
    """notify's partner admin API, as its contract says; ``refuse`` makes it answer 409."""

    url: str = ""
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    refuse: bool = False


@pytest.fixture
def notify() -> Iterator[StandIn]:
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stand_in.requests.append((self.path, body, self.headers["Authorization"]))
            if stand_in.refuse:
                self.answer(409, {"title": "Conflict", "detail": "name already registered"})
            elif self.path == "/partners":
                self.answer(201, {"partner_id": "p-123", "name": body["name"]})
            else:
                self.answer(201, {"endpoint_id": "e-9", **body, "secret": "whsec_abc"})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def nats_dir(tmp_path: Path) -> Iterator[Path]:
    """A running development nats-server whose configuration lives in the returned directory."""
    directory = tmp_path / "nats"
    write_dev_config(directory, {user: f"{user}-secret" for user in USERS})
    server = NatsServer(directory, include=f"include ./{DEV_CONFIG_NAME}").start()
    try:
        yield directory
    finally:
        server.stop()


def _server_url(nats_dir: Path) -> str:
    """The address the server chose for itself, from the ports file it writes beside its
    configuration (which says ``port: -1``)."""
    (ports_file,) = nats_dir.glob("nats-server_*.ports")
    url: str = json.loads(ports_file.read_text())["nats"][0]
    return url


async def connects(url: str, user: str, password: str, *, expected: bool) -> bool:
    """Whether ``user`` can connect, polled until it is ``expected``: the server applies a
    reload signal asynchronously."""
    deadline = time.monotonic() + 20
    while True:
        try:
            nc = await nats.connect(
                url,
                user=user,
                password=password,
                inbox_prefix=inbox_prefix(user),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=10,  # bcrypt: the server takes a moment on a busy machine
            )
        # A refused login may also show as the server closing the socket mid-handshake.
        except (nats.errors.Error, TimeoutError, ConnectionError):
            result = False
        else:
            await nc.close()
            result = True
        if result == expected or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_partner_add_registers_with_notify_and_opens_the_feed(
    notify: StandIn, nats_dir: Path
) -> None:
    url = _server_url(nats_dir)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(url, user="acme", password="x", allow_reconnect=False)

    result = CliRunner().invoke(
        app,
        [
            "partner",
            "add",
            "acme",
            "--nats-dir",
            str(nats_dir),
            "--notify-url",
            notify.url,
            "--webhook-url",
            "https://acme.example/hooks",
            "--events",
            "fursa.partner.certificate-issued.v1",
        ],
    )
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert credentials["partner_id"] == "p-123"
    assert credentials["webhook_secret"] == "whsec_abc"
    assert (credentials["nats_user"], credentials["inbox_prefix"]) == ("acme", "_INBOX_acme")

    [(path1, body1, auth1), (path2, body2, _)] = notify.requests
    assert (path1, body1) == ("/partners", {"name": "acme"})
    claims = TokenVerifier(dev_secret=DEV_TOKEN_KEY).verify(auth1.removeprefix("Bearer "))
    assert claims.role.value == "admin"
    assert path2 == "/partners/p-123/endpoints"
    assert body2 == {
        "url": "https://acme.example/hooks",
        "event_types": ["fursa.partner.certificate-issued.v1"],
    }

    # The server re-read partners.conf: the printed password works (and is not kept).
    assert await connects(url, "acme", credentials["nats_password"], expected=True)
    assert credentials["nats_password"] not in (nats_dir / "partners.json").read_text()
    assert credentials["nats_password"] not in (nats_dir / "partners.conf").read_text()


def test_a_refusal_by_notify_creates_no_nats_user(notify: StandIn, nats_dir: Path) -> None:
    notify.refuse = True
    result = CliRunner().invoke(
        app, ["partner", "add", "acme", "--nats-dir", str(nats_dir), "--notify-url", notify.url]
    )
    assert result.exit_code == 1
    assert "name already registered" in result.output
    assert load_roster(nats_dir) == {}
    assert "acme" not in (nats_dir / "partners.conf").read_text()


def test_a_bad_or_taken_name_is_refused_before_anything_happens(
    notify: StandIn, nats_dir: Path
) -> None:
    for name in ("notify", "Bad Name"):
        result = CliRunner().invoke(
            app, ["partner", "add", name, "--nats-dir", str(nats_dir), "--notify-url", notify.url]
        )
        assert result.exit_code == 2, result.output
        assert "partner name" in result.output
    assert notify.requests == []


async def test_enrolled_partners_survive_a_restart_of_the_local_platform(tmp_path: Path) -> None:
    """``fursa up`` draws fresh service passwords at each start, yet keeps the roster's
    partners, and provisions the feed's mirror with partner_admin."""
    password = enroll_partner(tmp_path / "var" / "nats", "acme")
    platform = Platform.on_free_ports(tmp_path / "var")
    platform.start_nats()
    assert platform.nats is not None
    try:
        await platform.provision()
        nc = await nats.connect(
            platform.nats.url,
            user="acme",
            password=password,
            inbox_prefix="_INBOX_acme",
            allow_reconnect=False,
            connect_timeout=10,
        )
        info = await nc.jetstream().stream_info("PARTNER")
        await nc.close()
        assert info.config.mirror is not None
        assert info.config.mirror.name == "PARTNER"
        assert (
            platform.passwords["partner_admin"]
            not in (tmp_path / "var" / "nats" / "partners.json").read_text()
        )
    finally:
        platform.nats.stop()


async def test_partner_remove_withdraws_access_at_the_reload(
    notify: StandIn, nats_dir: Path
) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app, ["partner", "add", "acme", "--nats-dir", str(nats_dir), "--notify-url", notify.url]
    )
    assert added.exit_code == 0, added.output
    password = json.loads(added.stdout)["nats_password"]
    url = _server_url(nats_dir)
    assert await connects(url, "acme", password, expected=True)

    removed = runner.invoke(app, ["partner", "remove", "acme", "--nats-dir", str(nats_dir)])
    assert removed.exit_code == 0, removed.output
    assert load_roster(nats_dir) == {}
    assert not await connects(url, "acme", password, expected=False)
    again = runner.invoke(app, ["partner", "remove", "acme", "--nats-dir", str(nats_dir)])
    assert again.exit_code == 2

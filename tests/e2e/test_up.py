"""``fursa up`` as a developer runs it, in a 40-column terminal, with the enrollment port taken.

Another program listens on enrollment's port and answers every request with 200, /readyz
included — what an earlier ``fursa up`` left running looks like. The command must start
enrollment on another port, say so, print that port's URL, and report "Fursa is up" only once
each service's own process answers /readyz with 200. NATS listens on the port asked for, with
no plaintext password in its configuration (and no warning about it in its log), and the
development admin token is printed whole on one line, whatever the terminal's width.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from fursa.cli.platform import SERVICES
from fursa.shared.auth import Role, TokenVerifier
from fursa.shared.natsauth import is_bcrypt_hash
from fursa.shared.natsserver import free_port
from fursa.shared.settings import DEV_TOKEN_KEY

FURSA = Path(sys.executable).parent / "fursa"
READY_LINE = "Ctrl-C stops everything."
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


class Occupant(BaseHTTPRequestHandler):
    """Another program on the port: it answers 200 to everything."""

    def do_GET(self) -> None:
        body = b'{"occupant": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@dataclass
class Up:
    output: str
    var_dir: Path
    taken_port: int
    nats_port: int

    def url(self, service: str) -> str:
        match = re.search(rf"^\s*{service}\s+(http://127\.0\.0\.1:\d+)\s", self.output, re.M)
        assert match, self.output
        return match.group(1)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    var_dir = tmp_path_factory.mktemp("up") / "var"
    occupant = ThreadingHTTPServer(("127.0.0.1", free_port()), Occupant)
    threading.Thread(target=occupant.serve_forever, daemon=True).start()
    taken = occupant.server_address[1]
    nats_port = free_port()
    ports = {name: free_port() for name in SERVICES}
    ports["enrollment"] = taken
    log = var_dir.parent / "up.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(FURSA),
                "up",
                "--var-dir",
                str(var_dir),
                *(f"--{name}-port={port}" for name, port in ports.items()),
                f"--nats-port={nats_port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "40"},
        )
    try:
        deadline = time.monotonic() + 240
        while READY_LINE not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        output = log.read_text()
        assert READY_LINE in output, output
        yield Up(output, var_dir, taken, nats_port)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        occupant.shutdown()
        occupant.server_close()


@pytest.mark.slow
def test_a_taken_service_port_is_replaced_and_the_printed_url_is_the_service(up: Up) -> None:
    url = up.url("enrollment")
    port = int(url.rsplit(":", 1)[1])
    assert port != up.taken_port
    notice = f"enrollment: port {up.taken_port} is taken by another program; it listens on {port}"
    assert notice in up.output
    assert up.output.index(notice) < up.output.index("Fursa is up")
    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": True, "nats": True, "relay": True}
    # The other program still holds its port: it was never taken for enrollment.
    assert httpx.get(f"http://127.0.0.1:{up.taken_port}/readyz").json() == {"occupant": True}
    # The demo is told where enrollment is.
    assert f"--enrollment-port {port}" in up.output


@pytest.mark.slow
def test_every_printed_service_answers_ready_and_nats_listens_on_its_port(up: Up) -> None:
    for service in SERVICES:
        ready = httpx.get(f"{up.url(service)}/readyz", timeout=10)
        assert ready.status_code == 200, (service, ready.text)
        assert ready.json()["nats"] is True
    assert f"NATS: nats://127.0.0.1:{up.nats_port} " in up.output
    ports = json.loads(next((up.var_dir / "nats").glob("nats-server_*.ports")).read_text())
    assert ports["nats"] == [f"nats://127.0.0.1:{up.nats_port}"]


@pytest.mark.slow
def test_the_admin_token_is_printed_whole_on_one_line(up: Up) -> None:
    lines = [line for line in up.output.splitlines() if JWT.search(line)]
    assert len(lines) == 1, up.output
    token = JWT.search(lines[0])
    assert token is not None
    claims = TokenVerifier(dev_secret=DEV_TOKEN_KEY).verify(token.group(0))
    assert claims.role is Role.ADMIN


@pytest.mark.slow
def test_nats_holds_no_plaintext_password_and_does_not_warn(up: Up) -> None:
    nats_dir = up.var_dir / "nats"
    log = (nats_dir / "nats-server.log").read_text()
    assert "Server is ready" in log
    assert "Plaintext passwords" not in log
    files = [nats_dir / "nats-server.conf", nats_dir / "partners.conf"]
    passwords = [
        json.loads(value)
        for path in files
        for value in re.findall(r"password: (\".*\")", path.read_text())
    ]
    assert len(passwords) == 6  # admin, the four services; partner_admin (no partner yet)
    assert all(is_bcrypt_hash(password) for password in passwords)

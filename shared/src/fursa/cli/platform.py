"""The whole platform on one machine: a nats-server, provisioning and the four services.

Used by ``fursa up`` and by the end-to-end and crash tests. It starts services as separate
processes by module path and talks to them over HTTP only — it never imports service code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from fursa.cli.launcher import ServiceProcess, shared_launcher
from fursa.shared.contracts import Pathway
from fursa.shared.messaging.streams import Topology, provision, provision_partner_feed
from fursa.shared.natsauth import (
    ADMIN,
    MACHINE_BCRYPT_COST,
    PARTNER_ADMIN,
    USERS,
    hash_password,
    render_authorization,
    write_partners_config,
)
from fursa.shared.natsserver import RANDOM_PORT, NatsServer, free_port, port_is_free
from fursa.shared.observability import LOG_CONFIG

CONNECT_TIMEOUT_S = 10

# What uvicorn logs when its port is taken (it exits 1 after its application started).
_ADDRESS_IN_USE = b"address already in use"

SERVICES: dict[str, int] = {
    "enrollment": 8001,
    "training": 8002,
    "certification": 8003,
    "notify": 8004,
}

# The staff console: a web application over the four services' APIs (no database, no NATS).
# A platform starts it when its ports name it (``fursa up`` does).
CONSOLE = "console"
CONSOLE_PORT = 8005


@dataclass
class Platform:
    """Processes and data of one local platform; data lives under ``var_dir``."""

    var_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    nats_port: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess | subprocess.Popen[bytes]] = field(default_factory=dict)
    # Service processes are forked by the launcher, which imported the services once (see
    # fursa.cli.launcher); without preloading each runs ``python -m uvicorn`` and imports all by
    # itself (what a memory benchmark wants: no other service's modules in its pages).
    preload: bool = True
    nats: NatsServer | None = None
    # The local SMTP sink: notify's e-mail goes over real SMTP into a Maildir under var_dir.
    smtp_port: int | None = None
    smtp_sink: subprocess.Popen[bytes] | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    # What the platform had to decide by itself, for whoever started it to read (``fursa up``
    # prints them): a port that was taken, and the one used instead.
    notices: list[str] = field(default_factory=list)
    _log_offsets: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def on_free_ports(cls, var_dir: Path, **extra_env: str) -> Platform:
        """A platform on free ports (tests, benchmarks): nothing else on the machine matters."""
        return cls(
            var_dir=var_dir,
            ports={name: free_port() for name in SERVICES},
            extra_env=dict(extra_env),
        )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout_s: float = 180) -> None:
        """Start nats-server, provision streams and consumers, start the four services."""
        self.start_nats()
        asyncio.run(self.provision())
        self.start_smtp_sink()
        for service in self.ports:
            self.start_service(service)
        self.wait_ready(timeout_s)

    def start_nats(self) -> None:
        """Start nats-server on ``nats_port`` (a port that stays the same across restarts, so
        that a partner's connection settings do), or on a port it chooses itself when none is
        given or the given one is taken (said in :attr:`notices`)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.passwords = {name: secrets.token_urlsafe(18) for name in USERS}
        # Partners enrolled by `fursa partner add` stay in var/nats/partners.json across runs.
        # Only the hash is written: fursa partner add re-renders partners.conf from the roster.
        write_partners_config(
            self.var_dir / "nats",
            hash_password(self.passwords[PARTNER_ADMIN], cost=MACHINE_BCRYPT_COST),
        )
        port = self.nats_port or RANDOM_PORT
        if port != RANDOM_PORT and not port_is_free(port):
            port = RANDOM_PORT
        self.nats = NatsServer(
            self.var_dir / "nats",
            include=render_authorization(self.passwords),
            port=port,
        ).start()
        if self.nats_port and self.nats.port != self.nats_port:
            self.notices.append(
                f"NATS port {self.nats_port} is taken by another program: nats-server listens "
                f"on {self.nats.port} instead (partners' development settings must say so; "
                f"free {self.nats_port} or choose another with --nats-port)"
            )

    def start_smtp_sink(self, timeout_s: float = 10) -> None:
        """Run aiosmtpd on loopback, keeping every e-mail in ``notify-sink/mail`` (a Maildir)."""
        self.smtp_port = self.smtp_port or free_port()
        logs = self.var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = (logs / "smtp-sink.log").open("ab")
        mail_dir = self.var_dir / "notify-sink" / "mail"
        mail_dir.parent.mkdir(parents=True, exist_ok=True)  # Maildir creates only its own
        self.smtp_sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "--nosetuid",
                "--smtputf8",
                "--class",
                "aiosmtpd.handlers.Mailbox",
                "--listen",
                f"127.0.0.1:{self.smtp_port}",
                str(mail_dir),
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1),
            ):
                return
            if self.smtp_sink.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the SMTP sink did not start; see {logs / 'smtp-sink.log'}")
            time.sleep(0.05)

    async def provision(self) -> None:
        assert self.nats is not None
        nc = await nats.connect(self.nats.url, user=ADMIN, password=self.passwords[ADMIN])
        try:
            await provision(nc.jetstream(), Topology())
        finally:
            await nc.close()
        # Its password is a bcrypt hash in partners.conf: checking it takes the server a
        # moment, longer on a busy machine than nats-py's 2 s default.
        nc = await nats.connect(
            self.nats.url,
            user=PARTNER_ADMIN,
            password=self.passwords[PARTNER_ADMIN],
            connect_timeout=CONNECT_TIMEOUT_S,
        )
        try:
            await provision_partner_feed(nc.jetstream())
        finally:
            await nc.close()

    def service_env(self, service: str) -> dict[str, str]:
        if service == CONSOLE:
            return self.console_env()
        assert self.nats is not None
        prefix = f"FURSA_{service.upper()}_"
        env = {
            # Diplomas await an officer's approval wherever this is not set (production's
            # default). A local platform issues every certificate on completion, so that the
            # demo, the cross-service tests and the benchmarks see them without an officer; a
            # policy in the environment (e.g. '{}' for the default) takes precedence.
            "FURSA_CERTIFICATION_ISSUANCE_POLICY": json.dumps(dict.fromkeys(Pathway, "automatic")),
            **os.environ,
            f"{prefix}DATABASE_URL": f"sqlite:///{self.var_dir / f'{service}.db'}",
            f"{prefix}NATS_URL": self.nats.url,
            f"{prefix}NATS_USER": service,
            f"{prefix}NATS_PASSWORD": self.passwords[service],
            f"{prefix}PORT": str(self.ports[service]),
            f"{prefix}PUBLIC_BASE_URL": self.url(service),
            "FURSA_NOTIFY_SINK_DIR": str(self.var_dir / "notify-sink"),
            # The development signing key of diplomas lives with the rest of the platform's data.
            "FURSA_CERTIFICATION_SIGNING_KEYS_FILE": str(
                self.var_dir / "certification-signing-keys.json"
            ),
        }
        if self.smtp_port is not None:
            env["FURSA_NOTIFY_SMTP_PORT"] = str(self.smtp_port)
        if service == "notify":
            # Named by its port, which a restart keeps and a replica does not share: a notify
            # started again takes back at once what its killed predecessor had claimed.
            env["FURSA_NOTIFY_DELIVERY_WORKER"] = f"notify:{self.ports[service]}"
        env.update(self.extra_env)
        return env

    def console_env(self) -> dict[str, str]:
        """The console reaches the services where this platform runs them."""
        env = {
            **os.environ,
            "FURSA_CONSOLE_PORT": str(self.ports[CONSOLE]),
            "FURSA_CONSOLE_PUBLIC_BASE_URL": self.url(CONSOLE),
            **{f"FURSA_CONSOLE_{name.upper()}_URL": self.url(name) for name in SERVICES},
        }
        env.update(self.extra_env)
        return env

    def claim_port(self, service: str) -> int:
        """The service's port, or a free one in its place when another program listens on it
        (said in :attr:`notices`): a service must never start on a port it cannot get, and
        another program's answers must never be taken for the service's."""
        port = self.ports[service]
        if not port_is_free(port):
            taken, port = port, free_port()
            self.ports[service] = port
            self.notices.append(
                f"{service}: port {taken} is taken by another program; it listens on {port} "
                f"instead (other commands need --{service}-port {port} or "
                f"FURSA_{service.upper()}_PORT={port})"
            )
        return port

    def start_service(self, service: str) -> None:
        self.claim_port(service)
        logs = self.var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{service}.log"
        self._log_offsets[service] = log.stat().st_size if log.exists() else 0
        argv = [
            "--factory",
            f"fursa.{service}.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[service]),
            "--no-access-log",
            "--log-config",
            str(LOG_CONFIG),
            "--timeout-graceful-shutdown",
            "15",
            # Longer than clients keep idle connections (httpx: 5 s), so a client never
            # reuses a connection the server is closing at that moment.
            "--timeout-keep-alive",
            "75",
        ]
        if self.preload:
            self.processes[service] = shared_launcher().start(argv, self.service_env(service), log)
        else:
            with log.open("ab") as output:
                self.processes[service] = subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", *argv],
                    env=self.service_env(service),
                    stdout=output,
                    stderr=output,
                )

    def wait_ready(self, timeout_s: float = 180, services: list[str] | None = None) -> None:
        """Wait until every service answers /readyz with 200 (database and NATS reachable) —
        the service itself: an answer counts only once the service's own process listens on
        the port (whatever another program on that port says counts for nothing)."""
        deadline = time.monotonic() + timeout_s
        for service in services or list(self.ports):
            while True:
                process = self.processes[service]
                if process.poll() is not None:
                    raise RuntimeError(self._exit_reason(service, process))
                port = self.ports[service]
                try:
                    if (
                        listens_on(process.pid, port)
                        and httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{service} not ready after {timeout_s}s; "
                        f"see {self.var_dir / 'logs' / f'{service}.log'}"
                    )
                time.sleep(0.1)

    def _exit_reason(self, service: str, process: ServiceProcess | subprocess.Popen[bytes]) -> str:
        log = self.var_dir / "logs" / f"{service}.log"
        with contextlib.suppress(OSError), log.open("rb") as file:
            file.seek(self._log_offsets.get(service, 0))
            if _ADDRESS_IN_USE in file.read().lower():
                return (
                    f"{service} could not listen on port {self.ports[service]}: another program "
                    f"took it after it was found free; start again (see {log})"
                )
        return f"{service} exited with {process.returncode}; see {log}"

    def kill(self, service: str) -> None:
        """kill -9 one service: what a crash looks like."""
        process = self.processes[service]
        process.kill()
        process.wait()

    def stop(self) -> None:
        """SIGTERM every service (they drain in-flight work), then stop nats-server."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.smtp_sink is not None and self.smtp_sink.poll() is None:
            self.smtp_sink.terminate()
            self.smtp_sink.wait(10)
        if self.nats is not None:
            self.nats.stop()


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a TCP socket listening on ``port`` (Linux: /proc).

    Where /proc cannot tell (another system), the answer is yes: readiness then rests on the
    port check made before the service started.
    """
    if not Path("/proc/net/tcp").exists():
        return True
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False  # the process is gone (or not ours to inspect)
    own: set[str] = set()
    for fd in fds:
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                own.add(link[8:-1])
    return bool(own & _listening_inodes(port))


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on TCP ``port`` (IPv4 and IPv6)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the 10th field.
            if len(fields) < 10 or fields[3] != "0A":
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes

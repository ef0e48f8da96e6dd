"""The SMSC side of notify's SMPP tests: the Jasmin SMS gateway (PyPI ``jasmin``, pinned with
its hashes in ``requirements.txt`` and installed by ``make`` in a virtualenv of its own,
``.tools/jasmin``), with the Redis and RabbitMQ it needs (Debian packages), each started here on
free loopback ports with its data under the test session's directory.

Our client binds to Jasmin's SMPP server as a user of its own. Jasmin routes every message to
an SMPP client connector bound to the carrier (``carrier.js`` on node-smpp's server: the mobile
network behind the SMSC, which records what reaches it and decides each receipt's state), and
relays the carrier's delivery receipts to our bind under its own message ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fursa.shared.natsserver import free_port

HERE = Path(__file__).parent
JASMIN_VENV = HERE.parents[3] / ".tools" / "jasmin"
SYSTEM_ID, PASSWORD = "fursa", "s3cret"
CARRIER_ID, CARRIER_PASSWORD = "jasmin", "c4rrier"
JCLI_USER, JCLI_PASSWORD = "jcliadmin", "jclipwd"  # Jasmin's defaults
START_TIMEOUT_S = 90.0


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{process.args!r} never listened on {port}"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a process started in a session of its own, with every child it forked."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def spawn(args: list[str], log: Path, **options: Any) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            args, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
        )


@dataclass
class Carrier:
    """The mobile network behind the SMSC: node-smpp's server run by ``carrier.js``."""

    port: int
    received_path: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        node = shutil.which("node")
        assert node, "node is needed for the carrier behind the SMSC"
        if not (HERE / "node_modules" / "smpp").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
        args = [node, str(HERE / "carrier.js"), str(self.port), CARRIER_ID, CARRIER_PASSWORD]
        self.process = spawn([*args, str(self.received_path)], self.log)
        wait_for_port(self.port, self.process, START_TIMEOUT_S)

    def received(self) -> list[dict[str, Any]]:
        if not self.received_path.exists():
            return []
        lines = self.received_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def forget(self) -> None:
        self.received_path.unlink(missing_ok=True)


class JCli:
    """Jasmin's management console (telnet) driven line by line."""

    def __init__(self, port: int) -> None:
        self.connection = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.pending = b""
        self._until(b"Authentication required.")
        self._line(JCLI_USER, b"Password: ")
        self._line(JCLI_PASSWORD, b"jcli : ")

    def _until(self, prompt: bytes) -> str:
        while prompt not in self.pending:
            chunk = self.connection.recv(4096)
            assert chunk, f"jCli closed before {prompt!r}: {self.pending!r}"
            self.pending += chunk
        answer, _, self.pending = self.pending.partition(prompt)
        return answer.decode(errors="replace")

    def _line(self, line: str, prompt: bytes) -> str:
        self.connection.sendall(line.encode() + b"\r\n")
        return self._until(prompt)

    def run(self, command: str) -> str:
        return self._line(command, b"jcli : ")

    def add(self, command: str, **settings: object) -> None:
        """An ``-a`` command: each setting, then ``ok``, which must report success."""
        self._line(command, b"> ")
        for key, value in settings.items():
            self._line(f"{key} {value}", b"> ")
        answer = self.run("ok")
        assert "Successfully added" in answer, answer

    def close(self) -> None:
        self.connection.close()


@dataclass
class Jasmin:
    """``jasmind``: its SMPP server (our client's SMSC), jCli, router and connectors."""

    home: Path
    redis_port: int
    amqp_port: int
    smpp_port: int = field(default_factory=free_port)
    jcli_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _intake_from: int = 0

    def write_config(self) -> Path:
        spec = next(JASMIN_VENV.glob("lib/python3*/site-packages/txamqp/specs/standard/amqp0-9-1*"))
        (self.home / "etc" / "jasmin" / "store").mkdir(parents=True, exist_ok=True)
        (self.home / "log").mkdir(exist_ok=True)
        listeners = {
            "smpp-server": self.smpp_port,
            "smpp-server-pb": free_port(),
            "client-management": free_port(),
            "router": free_port(),
            "jcli": self.jcli_port,
        }
        settings = {name: f"bind = 127.0.0.1\nport = {port}" for name, port in listeners.items()}
        settings["smpp-server"] += "\nbilling_feature = False\nlog_privacy = True"
        settings["amqp-broker"] = f"port = {self.amqp_port}\nspec = {spec}"
        settings["redis-client"] = f"port = {self.redis_port}"
        # A receipt can come before the acceptance it answers is mapped: look again soon.
        settings["dlr"] = "dlr_lookup_retry_delay = 1\ndlr_lookup_max_retries = 10"
        # A message accepted while the carrier is not bound (yet again) waits a second for it.
        settings["sm-listener"] = "submit_retrial_delay_smppc_not_ready = 1"
        # A receipt for a user not bound (yet again) is thrown again soon.
        settings["dlr-thrower"] = "retry_delay = 1\nmax_retries = 30"
        config = self.home / "jasmin.cfg"
        config.write_text(
            "".join(f"[{name}]\n{lines}\n\n" for name, lines in settings.items()),
            encoding="utf-8",
        )
        return config

    def start(self) -> None:
        """Start ``jasmind``; it loads the configuration persisted by :meth:`configure`."""
        config = self.home / "jasmin.cfg"
        if not config.exists():
            config = self.write_config()
        jasmind = JASMIN_VENV / "bin" / "jasmind.py"
        assert jasmind.exists(), "Jasmin is installed by `make` (.tools/jasmin)"
        args = [str(jasmind), "--config", str(config), "--disable-http-api"]
        # Receipts are looked up and relayed inside jasmind (no dlrd/dlrlookupd daemons).
        args += ["--enable-dlr-thrower", "--enable-dlr-lookup"]
        environment = {
            **os.environ,
            "ROOT_PATH": str(self.home),
            "LOG_PATH": str(self.home / "log"),
        }
        self.process = spawn(args, self.home / "jasmind.out", env=environment, cwd=self.home)
        wait_for_port(self.smpp_port, self.process, START_TIMEOUT_S)
        wait_for_port(self.jcli_port, self.process, START_TIMEOUT_S)

    def stop(self) -> None:
        stop(self.process)
        self.process = None

    def configure(self, carrier: Carrier) -> None:
        """Our account, the connector to the carrier and the route to it, kept on disk so a
        restarted ``jasmind`` has them again."""
        jcli = JCli(self.jcli_port)
        try:
            jcli.add("group -a", gid="fursa")
            jcli.add("user -a", username=SYSTEM_ID, password=PASSWORD, gid="fursa", uid="fursa")
            jcli.add(
                "smppccm -a",
                cid="carrier",
                host="127.0.0.1",
                port=carrier.port,
                username=CARRIER_ID,
                password=CARRIER_PASSWORD,
                submit_throughput=0,
            )
            assert "Successfully started" in jcli.run("smppccm -1 carrier")
            jcli.add("mtrouter -a", type="DefaultRoute", connector="smppc(carrier)", rate="0.00")
            assert "smppcc configuration persisted" in jcli.run("persist")
        finally:
            jcli.close()
        self.wait_bound()

    def wait_bound(self) -> None:
        """Until the connector to the carrier is bound (routing to it before would queue)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        jcli = JCli(self.jcli_port)
        try:
            while "BOUND_TRX" not in jcli.run("smppccm -l"):
                assert time.monotonic() < deadline, "Jasmin never bound to the carrier"
                time.sleep(0.1)
        finally:
            jcli.close()

    def accepted(self) -> list[str]:
        """The destination of each message Jasmin took from our bind since :meth:`forget`.

        From its own log: its SMPP server writes one ``SMS-MT [uid:…]`` line per submit_sm it
        queued, before it answers. What it then sends on to the carrier may come out twice
        (after a restart it sends again what it had taken from its queue but not marked done):
        this is what reached the SMSC from us, not what the SMSC passed on.
        """
        log = self.intake_log
        if not log.exists():
            return []
        with log.open("rb") as lines:
            lines.seek(self._intake_from)
            text = lines.read().decode("utf-8", "replace")
        return re.findall(rf"SMS-MT \[uid:{SYSTEM_ID}\] .*? \[to:b'(\d+)'\]", text)

    @property
    def intake_log(self) -> Path:
        """The log of Jasmin's SMPP server (its id is ``smpps_01``)."""
        return self.home / "log" / "default-smpps_01.log"

    def forget(self) -> None:
        log = self.intake_log
        self._intake_from = log.stat().st_size if log.exists() else 0

    def restart(self) -> None:
        """The SMSC goes down (its binds drop) and comes back with the same configuration."""
        self.stop()
        self.start()
        self.wait_bound()


@dataclass
class SmscPlatform:
    """Redis, RabbitMQ, the carrier and Jasmin, started once for the tests that need them."""

    home: Path
    carrier: Carrier
    jasmin: Jasmin
    redis: subprocess.Popen[bytes] | None = None
    rabbitmq: subprocess.Popen[bytes] | None = None
    epmd_port: int = field(default_factory=free_port)

    def start(self) -> None:
        redis = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.jasmin.redis_port)]
        in_memory = ["--dir", str(self.home), "--save", "", "--appendonly", "no"]
        self.redis = spawn([*redis, *in_memory], self.home / "redis.log")
        self.rabbitmq = self._start_rabbitmq()
        wait_for_port(self.jasmin.redis_port, self.redis, START_TIMEOUT_S)
        wait_for_port(self.jasmin.amqp_port, self.rabbitmq, START_TIMEOUT_S)
        self.carrier.start()
        self.jasmin.start()
        self.jasmin.configure(self.carrier)

    def _start_rabbitmq(self) -> subprocess.Popen[bytes]:
        node = self.home / "rabbitmq"
        node.mkdir()
        (node / "enabled_plugins").write_text("[].\n", encoding="ascii")
        environment = {
            **os.environ,
            "HOME": str(node),  # the node's Erlang cookie
            "ERL_EPMD_PORT": str(self.epmd_port),  # a port mapper of its own
            "RABBITMQ_NODENAME": f"fursa{self.jasmin.amqp_port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.jasmin.amqp_port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(node / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(node / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(node / "rabbitmq.pid"),
        }
        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        return spawn([server], self.home / "rabbitmq.out", env=environment, cwd=node)

    def stop(self) -> None:
        self.jasmin.stop()
        stop(self.carrier.process)
        stop(self.rabbitmq)
        stop(self.redis)
        # The port mapper the Erlang node started as a daemon outlives it.
        subprocess.run(
            ["epmd", "-port", str(self.epmd_port), "-kill"], capture_output=True, check=False
        )


@contextlib.contextmanager
def smsc_platform(home: Path) -> Iterator[SmscPlatform]:
    carrier = Carrier(free_port(), home / "received.jsonl", home / "carrier.out")
    platform = SmscPlatform(home, carrier, Jasmin(home / "jasmin", free_port(), free_port()))
    platform.jasmin.home.mkdir()
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()

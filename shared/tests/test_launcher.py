"""The launcher forks service processes that behave like ``python -m uvicorn`` started alone."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fursa.cli import launcher as launcher_module
from fursa.cli.launcher import Launcher
from fursa.shared.natsserver import free_port


@pytest.fixture
def launcher() -> Iterator[Launcher]:
    running = Launcher()
    try:
        yield running
    finally:
        running.stop()


def _serve_app(port: int) -> list[str]:
    # An application with no broker or database: the launcher is what is under test.
    return ["--factory", "fursa.shared.testing.launched:create_app", "--port", str(port)]


def test_a_service_that_cannot_start_exits_with_its_reason_in_its_own_log(
    launcher: Launcher, tmp_path: Path
) -> None:
    log = tmp_path / "broken.log"
    process = launcher.start(["--factory", "fursa.nowhere:create_app"], dict(os.environ), log)
    assert process.wait(60) != 0
    assert "fursa.nowhere" in log.read_text()


def test_the_forked_process_has_its_own_environment_and_dies_of_its_own_signal(
    launcher: Launcher, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "FURSA_LAUNCHER_TEST_GREETING": "salam"}
    process = launcher.start(_serve_app(port), env, tmp_path / "app.log")
    for _ in range(600):
        assert process.poll() is None, (tmp_path / "app.log").read_text()
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        pytest.fail("the forked service never answered")
    assert answer.json() == {"greeting": "salam", "pid": process.pid}
    assert process.pid != os.getpid()
    process.kill()
    assert process.wait(30) == -signal.SIGKILL


def test_a_pid_the_system_hands_out_again_does_not_inherit_the_exit_of_its_first_holder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a child is reaped, Linux gives its pid to a later process: the fresh-clone run met
    a running twin service reported as "exited with -15", the code of an earlier service that
    had had the same pid. The launcher's loop is driven here with the system calls faked to hand
    out one pid twice (no real process can be made to reuse a pid on demand)."""
    # The first holder of pid 4242 is found dead of SIGTERM (raw wait status 15); the second
    # holder, asked about next, still runs.
    waits = iter([(4242, signal.SIGTERM), (0, 0)])
    monkeypatch.setattr(launcher_module.os, "fork", lambda: 4242)
    monkeypatch.setattr(launcher_module.os, "waitpid", lambda pid, options: next(waits))
    monkeypatch.setattr(launcher_module.importlib, "import_module", lambda name: None)
    monkeypatch.setattr(launcher_module.signal, "signal", lambda signum, handler: None)
    start = {"start": [], "env": {}, "log": "unused"}
    requests = [start, {"poll": 0}, start, {"poll": 1}, {"poll": 0}]
    answers = io.StringIO()
    launcher_module.serve(io.StringIO("".join(json.dumps(r) + "\n" for r in requests)), answers)

    first, gone, second, running, still_gone = map(json.loads, answers.getvalue().splitlines())
    assert first["pid"] == second["pid"] == 4242
    assert first["child"] != second["child"]
    assert gone["code"] == -signal.SIGTERM
    assert running["code"] is None
    assert still_gone["code"] == -signal.SIGTERM

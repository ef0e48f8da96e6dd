"""Service processes forked from one process that has already imported the four services.

A service spends about 3 s of CPU importing FastAPI, SQLAlchemy, Alembic, FastStream and its own
code before it can serve. A platform starts four, the crash tests start them again and again, and
on a 2-core machine those imports were a fifth of the test suite. The launcher pays the imports
once: it imports every service's application module, then forks a process per start. Each service
is still a process of its own (its own pid, memory, environment, log and signals, killed alone)
that runs uvicorn exactly as ``python -m uvicorn`` would; it is ready in a fraction of a second.

The launcher talks over its stdin and stdout, one JSON object per line: ``start`` answers the
new process's pid, ``poll`` answers its exit code once it has ended (``null`` while it runs). It
starts no thread before forking (a fork copies only the forking thread), ignores Ctrl-C (the
services, in the same process group, receive it and stop gracefully, then the platform stops the
launcher) and ends when its stdin closes. One launcher serves every platform of a process
(:func:`shared_launcher`): a test session pays the imports once, not once per platform.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

# The applications whose modules the launcher imports before forking: the services, the console.
APPLICATIONS = ("enrollment", "training", "certification", "notify", "console")


class ServiceProcess:
    """A service process forked by the launcher, with the parts of ``subprocess.Popen`` the
    platform uses (``pid``, ``poll``, ``wait``, ``send_signal``, ``kill``, ``returncode``)."""

    def __init__(self, launcher: Launcher, pid: int, child: int) -> None:
        self.launcher = launcher
        self.pid = pid
        self.child = child
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.launcher.poll(self.child)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"service process {self.pid}", timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Launcher:
    """The platform's side of one launcher process (its errors go to this process's stderr)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fursa.cli.launcher"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def start(self, argv: list[str], env: dict[str, str], log: Path) -> ServiceProcess:
        """Fork a process that runs uvicorn with ``argv`` and ``env``, writing to ``log``."""
        answer = self._ask({"start": argv, "env": env, "log": str(log)})
        return ServiceProcess(self, int(answer["pid"]), int(answer["child"]))

    def poll(self, child: int) -> int | None:
        """The exit code of the launcher's ``child``-th process, ``None`` while it runs."""
        code = self._ask({"poll": child})["code"]
        return None if code is None else int(code)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            try:
                self._process.stdin.write(json.dumps(request).encode() + b"\n")
                self._process.stdin.flush()
                line = self._process.stdout.readline()
            except OSError as exc:
                raise RuntimeError("the service launcher is gone (its error is above)") from exc
            if not line:
                raise RuntimeError("the service launcher is gone (its error is above)")
            answer: dict[str, Any] = json.loads(line)
            return answer

    def stop(self) -> None:
        with self._lock:
            if self._process.stdin is not None:
                with contextlib.suppress(OSError):
                    self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()

    @property
    def running(self) -> bool:
        return self._process.poll() is None


_shared: Launcher | None = None
_shared_lock = threading.Lock()


def shared_launcher() -> Launcher:
    """This process's launcher, started on first use and stopped when the process exits."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = Launcher()
            atexit.register(_shared.stop)
        return _shared


def _run_service(argv: list[str], env: dict[str, str], log: str) -> int:
    """In the forked child: become the service process and run uvicorn until it stops."""
    import uvicorn.main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["uvicorn", *argv]
    try:
        uvicorn.main.main(args=argv, prog_name="uvicorn")
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    return 0


def _child(argv: list[str], env: dict[str, str], log: str) -> None:
    code = 1
    try:
        code = _run_service(argv, env, log)
    except BaseException:
        traceback.print_exc()
    finally:
        # What a normal interpreter exit does, without returning into the launcher's loop.
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(requests: IO[str], answers: IO[str]) -> None:
    """The launcher's loop: import the services, then start and watch processes on request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in APPLICATIONS:
        # A service that cannot be imported here fails again in its own process, and says why
        # in its own log, as it would without the launcher.
        try:
            importlib.import_module(f"fursa.{name}.app")
        except Exception:
            traceback.print_exc()
    # Children are known by their start's serial number, not by pid: once a child is reaped
    # the system hands its pid to a later process, which must not inherit its exit code (nor a
    # signal meant for it — the platform only signals a child that has not been seen to exit).
    pids: list[int] = []
    exited: dict[int, int] = {}
    for line in requests:
        request = json.loads(line)
        if "start" in request:
            answers.flush()
            pid = os.fork()
            if pid == 0:
                _child(request["start"], request["env"], request["log"])
            pids.append(pid)
            answer: dict[str, Any] = {"pid": pid, "child": len(pids) - 1}
        else:
            child = int(request["poll"])
            if child not in exited:
                with contextlib.suppress(ChildProcessError):
                    done, status = os.waitpid(pids[child], os.WNOHANG)
                    if done == pids[child]:
                        exited[child] = os.waitstatus_to_exitcode(status)
            answer = {"code": exited.get(child)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)

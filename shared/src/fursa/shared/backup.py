"""Back up and restore a service's database, and rewind its durables so it catches up again.

* SQLite: SQLite's online backup API — a consistent copy taken while the service keeps
  writing (WAL included), restored the same way into the stopped service's file.
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``
  (the client tools of the server's major version or newer). The password travels in
  ``PGPASSWORD``, never on a command line that ``ps`` shows.

A restored database has forgotten what the service applied after the backup. Rewinding its
durable consumers (delete, then create again with the provisioned configuration, which
delivers from the start of the stream) makes JetStream deliver every retained event again;
the inbox and the applied sequences turn those already applied into no-ops, so the service
comes back to where it was without applying anything twice. Streams keep 30 days: a backup
older than the stream's retention cannot be caught up this way. Erasures are not lost with
it: a service re-applies the erasure ledger at start (:mod:`fursa.shared.erasures`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.engine import URL, make_url

from fursa.shared.messaging.streams import ConsumerSpec


class BackupError(RuntimeError):
    """A backup or restore tool failed; its message carries the tool's own words."""


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(f"{url.render_as_string()} is not a SQLite database file")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without its password, and the environment that carries the password."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def backup_database(database_url: str, destination: Path) -> Path:
    """Copy the database at ``database_url`` into the file ``destination`` (online)."""
    url = make_url(database_url)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if _is_sqlite(url):
        with (
            contextlib.closing(sqlite3.connect(_sqlite_path(url))) as source,
            contextlib.closing(sqlite3.connect(destination)) as target,
        ):
            source.backup(target)
    else:
        dsn, env = _libpq(url)
        _run(["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={dsn}"], env)
    destination.chmod(0o600)  # the database holds personal data
    return destination


def restore_database(database_url: str, source: Path) -> None:
    """Replace the database at ``database_url`` by the backup ``source`` (service stopped)."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    url = make_url(database_url)
    if _is_sqlite(url):
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(source)) as backup,
            contextlib.closing(sqlite3.connect(path)) as target,
        ):
            backup.backup(target)
    else:
        dsn, env = _libpq(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={dsn}",
                str(source),
            ],
            env,
        )


async def rewind_durables(js: JetStreamContext, specs: Iterable[ConsumerSpec]) -> list[str]:
    """Make these durables (a service's: ``consumers_of(service)``) deliver their streams from
    the start again (admin rights).

    Each durable is deleted and created with its provisioned configuration, so the next
    provisioning finds it as it expects it.
    """
    rewound = []
    for spec in specs:
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(spec.stream, spec.durable)
        await js.add_consumer(spec.stream, spec.config())
        rewound.append(spec.durable)
    return rewound

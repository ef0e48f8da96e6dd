"""``fursa backup`` and ``fursa restore``: a service's database, and its catch-up afterwards."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import nats
import typer

from fursa.shared.backup import BackupError, backup_database, restore_database, rewind_durables
from fursa.shared.contracts.registry import SERVICES
from fursa.shared.messaging.streams import consumers_of
from fursa.shared.natsauth import ADMIN

ServiceArg = Annotated[str, typer.Argument(help=f"One of {', '.join(SERVICES)}.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option(help="Default: $FURSA_<SERVICE>_DATABASE_URL, else var/<service>.db."),
]


def _database_url(service: str, given: str | None) -> str:
    if service not in SERVICES:
        raise typer.BadParameter(f"expected one of {', '.join(SERVICES)}", param_hint="SERVICE")
    default = f"sqlite:///var/{service}.db"
    return given or os.environ.get(f"FURSA_{service.upper()}_DATABASE_URL", default)


def backup_command(
    service: ServiceArg,
    database_url: DatabaseOption = None,
    to: Annotated[Path, typer.Option(help="The directory that receives the file.")] = Path(
        "backups"
    ),
) -> None:
    """Copy a service's database while it runs (SQLite online backup, or pg_dump)."""
    url = _database_url(service, database_url)
    suffix = "sqlite" if url.startswith("sqlite") else "pgdump"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        path = backup_database(url, to / f"{service}-{stamp}.{suffix}")
    except BackupError as exc:
        raise typer.BadParameter(str(exc)) from exc
    print(path)


def restore_command(
    service: ServiceArg,
    backup: Annotated[Path, typer.Argument(help="A file written by fursa backup.")],
    database_url: DatabaseOption = None,
    rewind: Annotated[
        bool, typer.Option(help="Then redeliver the service's streams from the start.")
    ] = False,
    nats_url: Annotated[str, typer.Option(envvar="FURSA_NATS_URL")] = "nats://127.0.0.1:4222",
    admin_password: Annotated[
        str, typer.Option(envvar="FURSA_ADMIN_NATS_PASSWORD", show_default=False)
    ] = "",
) -> None:
    """Replace a stopped service's database by a backup; with --rewind, let it catch up on
    what it missed (the inbox skips what the backup already had)."""
    url = _database_url(service, database_url)
    if rewind and not admin_password:
        raise typer.BadParameter("--rewind needs FURSA_ADMIN_NATS_PASSWORD")
    try:
        restore_database(url, backup)
    except BackupError as exc:
        raise typer.BadParameter(str(exc)) from exc
    # The service re-applies the erasure ledger at start, before serving (fursa.shared.erasures).
    print(f"restored {service} from {backup}: at start it erases again who was erased since")
    if rewind:
        durables = asyncio.run(_rewind(service, nats_url, admin_password))
        print(f"rewound {', '.join(durables)}: start {service} to catch up")


async def _rewind(service: str, url: str, password: str) -> list[str]:
    nc = await nats.connect(url, user=ADMIN, password=password)
    try:
        return await rewind_durables(nc.jetstream(), consumers_of(service))
    finally:
        await nc.close()

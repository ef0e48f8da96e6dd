"""Backups of a service's database, on SQLite (online backup API) and PostgreSQL (pg_dump /
pg_restore), and the recovery they are for: restore, rewind the durables, catch up once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from sqlalchemy import select
from typer.testing import CliRunner

from fursa.cli.main import app
from fursa.shared.backup import BackupError, backup_database, restore_database, rewind_durables
from fursa.shared.contracts import new_event, to_json_bytes
from fursa.shared.db import Database
from fursa.shared.messaging.consumer import EventConsumer
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import (
    CONSUMER,
    STREAM,
    KernelService,
    acknowledged_through,
    effect_metadata,
    wait_until,
)


@asynccontextmanager
async def kernel_service(database_url: str) -> AsyncIterator[KernelService]:
    metadata, tables, effect = effect_metadata()
    db = Database(database_url, metadata)
    await db.create_all()
    try:
        yield KernelService(db, tables, effect)
    finally:
        await db.dispose()


@asynccontextmanager
async def running(consumer: EventConsumer, js: JetStreamContext) -> AsyncIterator[None]:
    task = asyncio.create_task(consumer.run(js))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def stream(js: JetStreamContext) -> JetStreamContext:
    """ENROLLMENT and the test service's durable only (the ``js`` fixture provisions all)."""
    await provision(js, Topology(streams=[STREAM], consumers=[CONSUMER]))
    return js


async def publish_enrolled(js: JetStreamContext, numbers: range) -> int:
    """Publish learner-enrolled ``n`` for each number; the stream sequence of the last one."""
    last = 0
    for n in numbers:
        event = new_event(
            learner_enrolled(n), source="fursa/enrollment", subject=f"enrollment-{n}", sequence=1
        )
        ack = await js.publish(
            CONSUMER.subjects[0], to_json_bytes(event), headers={"Nats-Msg-Id": event.id}
        )
        last = ack.seq
    return last


async def applied(service: KernelService, js: JetStreamContext, count: int, seq: int) -> None:
    """Run the consumer until ``count`` effects exist and the durable has acknowledged
    everything up to stream sequence ``seq``."""

    async def settled() -> bool:
        done = await acknowledged_through(js, CONSUMER, seq)
        return done and await service.effects() == count

    consumer = service.consumer()
    async with running(consumer, js):
        await wait_until(settled)


async def effect_keys(service: KernelService) -> list[str]:
    async with service.db.connect() as connection:
        rows = await connection.execute(select(service.effect.c.key))
        return sorted(row.key for row in rows)


async def test_backup_restores_exactly_the_state_at_backup_time(
    database_url: str, tmp_path: Path
) -> None:
    async with kernel_service(database_url) as service:
        for n in range(3):
            await service.enroll(n)
        backup = backup_database(database_url, tmp_path / "backups" / "enrollment.backup")
        for n in range(3, 6):
            await service.enroll(n)
        assert await service.effects() == 6
        await service.db.dispose()  # the service is stopped while its database is restored
        restore_database(database_url, backup)
        assert await effect_keys(service) == [f"enrolled-{n}" for n in range(3)]
        assert await service.count(service.tables.outbox) == 3
        assert backup.stat().st_mode & 0o077 == 0


async def test_restored_service_catches_up_from_its_streams_without_duplicates(
    database_url: str, stream: JetStreamContext, tmp_path: Path
) -> None:
    async with kernel_service(database_url) as service:
        seq = await publish_enrolled(stream, range(3))
        await applied(service, stream, 3, seq)
        backup = backup_database(database_url, tmp_path / "enrollment.backup")
        seq = await publish_enrolled(stream, range(3, 5))
        await applied(service, stream, 5, seq)
        before = await effect_keys(service)

        # The database is lost: restore last night's backup, which knows only 3 events.
        await service.db.dispose()
        restore_database(database_url, backup)
        assert await service.effects() == 3
        assert await rewind_durables(stream, [CONSUMER]) == [CONSUMER.durable]
        info = await stream.consumer_info(CONSUMER.stream, CONSUMER.durable)
        assert info.num_pending == 5  # every retained event is delivered again

        consumer = service.consumer()
        async with running(consumer, stream):
            await wait_until(partial(acknowledged_through, stream, CONSUMER, seq))
        # The three it already had are duplicates for the inbox; the two it lost are applied.
        assert (consumer.stats.duplicates, await service.effects()) == (3, 5)
        assert await effect_keys(service) == before
        assert await service.count(service.tables.inbox) == 5


def test_a_missing_backup_or_a_failing_tool_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no backup"):
        restore_database(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "none.backup")
    bad = "postgresql://nobody@127.0.0.1:1/none"
    with pytest.raises(BackupError, match="pg_dump failed"):
        backup_database(bad, tmp_path / "x.dump")


async def test_fursa_backup_and_restore_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'training.db'}"
    async with kernel_service(url) as service:
        await service.enroll(1)
        runner = CliRunner()
        result = runner.invoke(
            app, ["backup", "training", "--database-url", url, "--to", str(tmp_path / "b")]
        )
        assert result.exit_code == 0, result.output
        backup = Path(result.stdout.strip())
        assert backup.parent == tmp_path / "b"
        assert backup.name.startswith("training-")
        await service.enroll(2)
        await service.db.dispose()
        result = runner.invoke(app, ["restore", "training", str(backup), "--database-url", url])
        assert result.exit_code == 0, result.output
        assert await effect_keys(service) == ["enrolled-1"]
        refused = runner.invoke(app, ["backup", "payroll", "--database-url", url])
        assert refused.exit_code == 2

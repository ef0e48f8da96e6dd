"""A service's own background workers run with the runtime: started with it, woken after each
commit, stopped (and awaited) before it disconnects."""

from __future__ import annotations

import asyncio

from sqlalchemy import MetaData

from fursa.shared.messaging.tables import kernel_tables
from fursa.shared.natsserver import NatsServer
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.settings import ServiceSettings
from fursa.shared.testing.kernel import wait_until


class RecordingWorker:
    name = "recording-worker"

    def __init__(self) -> None:
        self.wakes = 0
        self.running = False
        self.finished = False
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        self.running = True
        await self._stopping.wait()
        self.finished = True

    def wake(self) -> None:
        self.wakes += 1

    def stop(self) -> None:
        self._stopping.set()


async def test_a_worker_runs_from_start_to_stop_and_is_woken_after_commits(
    sqlite_url: str, nats_server: NatsServer
) -> None:
    metadata = MetaData()
    runtime = ServiceRuntime(
        name="kerneltest",
        settings=ServiceSettings(database_url=sqlite_url, nats_url=nats_server.url),
        metadata=metadata,
        tables=kernel_tables(metadata),
        handlers={},
    )
    worker = RecordingWorker()
    runtime.add_worker(worker)
    app = runtime.app([], title="kernel test")

    async with app.router.lifespan_context(app):
        await wait_until(lambda: worker.running)
        runtime.committed()
        assert worker.wakes == 1
        assert not worker.finished
    assert worker.finished

"""A relay in its own process, so that a test can kill -9 it mid-drain.

Usage: python relay_process.py DATABASE_URL NATS_URL BATCH_SIZE
"""

from __future__ import annotations

import asyncio
import sys

import nats
from sqlalchemy import MetaData

from fursa.shared.db import Database
from fursa.shared.messaging.relay import OutboxRelay
from fursa.shared.messaging.tables import kernel_tables


async def main(database_url: str, nats_url: str, batch_size: int) -> None:
    metadata = MetaData()
    tables = kernel_tables(metadata)
    db = Database(database_url, metadata)
    nc = await nats.connect(nats_url)
    relay = OutboxRelay(db, tables, nc.jetstream(), name="test", batch_size=batch_size)
    print("relay started", flush=True)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))

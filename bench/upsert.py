"""What an INSERT … ON CONFLICT costs through the services' AsyncSession: built and compiled on
every call (SQLAlchemy 2.0 gives it no cache key) beside ``fursa.shared.db.Upsert`` (compiled
once per dialect), in the same run, on the same database.

The statement is notify's partner feed sequence: one upsert that creates a subject's row at 1
or increments it, RETURNING the sequence. Each side runs N statements (half of them new
subjects, half increments) in one transaction; CPU time per statement is printed for both,
with a plain cached INSERT of the same row as the floor.

Usage: python bench/upsert.py [--statements 3000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from relay import database
from sqlalchemy import Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.notify.models import Base, PartnerFeedPosition
from fursa.notify.service import NEXT_FEED_SEQUENCE
from fursa.shared.db import Database

Statement = Callable[[AsyncSession, str], Awaitable[Any]]


async def compiled_each_call(session: AsyncSession, subject: str) -> Any:
    """The upsert as the services wrote it before Upsert: built, then compiled, every call."""
    dialect = (await session.connection()).dialect.name
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(PartnerFeedPosition)
    statement = statement.values(subject=subject, sequence=1)
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["subject"], set_={"sequence": col(PartnerFeedPosition.sequence) + 1}
        ).returning(col(PartnerFeedPosition.sequence))
    )
    return result.scalar_one()


async def compiled_once(session: AsyncSession, subject: str) -> Any:
    return (await NEXT_FEED_SEQUENCE.execute(session, subject=subject)).scalar_one()


FEED = cast("Table", inspect(PartnerFeedPosition).local_table)


async def plain_insert(session: AsyncSession, subject: str) -> Any:
    """The floor: a cached Core INSERT of the same row, no conflict handling (new subjects)."""
    return await session.execute(FEED.insert(), {"subject": subject, "sequence": 1})


async def cpu_per_statement(db: Database, statement: Statement, subjects: list[str]) -> float:
    """Microseconds of this process's CPU per statement, ``subjects`` in one transaction."""
    started = time.process_time()
    async with db.transaction() as session:
        for subject in subjects:
            await statement(session, subject)
    return (time.process_time() - started) / len(subjects) * 1e6


async def run(statements: int, database_url: str) -> dict[str, Any]:
    db = Database(database_url, Base.metadata)
    await db.create_all()

    def subjects() -> list[str]:
        # Half new subjects, each then incremented once.
        fresh = [str(uuid.uuid4()) for _ in range(statements // 2)]
        return fresh + fresh

    try:
        for warm_up in (compiled_each_call, compiled_once):
            await cpu_per_statement(db, warm_up, subjects()[:50])
        each_call = await cpu_per_statement(db, compiled_each_call, subjects())
        once = await cpu_per_statement(db, compiled_once, subjects())
        floor = await cpu_per_statement(db, plain_insert, subjects()[: statements // 2])
    finally:
        await db.dispose()
    return {
        "statements": statements,
        "compiled_each_call_us": round(each_call),
        "upsert_us": round(once),
        "plain_insert_us": round(floor),
        "speedup": round(each_call / once, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with database(args.database) as url:
        result = asyncio.run(run(args.statements, url))
    print(
        f"upsert: {result['upsert_us']} us CPU/statement compiled once, "
        f"{result['compiled_each_call_us']} us compiled each call (×{result['speedup']}), "
        f"plain INSERT {result['plain_insert_us']} us  ({args.database})"
    )
    print(json.dumps({"database": args.database, **result}))


if __name__ == "__main__":
    main()

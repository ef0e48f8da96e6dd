"""What an association's SMS cost: messages and segments (each segment is billed) accepted by
the SMSC in a calendar month (UTC), per association, among those the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, inspect
from sqlmodel import col, func, select

from fursa.notify.models import SmsSegment
from fursa.shared.auth import Principal
from fursa.shared.db import Database


@dataclass(frozen=True)
class AssociationUsage:
    association_id: str | None
    messages: int
    segments: int


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in UTC."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


async def usage(
    db: Database, *, year: int, month: int, viewer: Principal
) -> list[AssociationUsage]:
    """Per association (the learner's when the SMS went out): messages sent (one per delivery
    attempt that reached the SMSC) and their segments, by association id."""
    start, end = month_bounds(year, month)
    association = inspect(SmsSegment).columns.association_id
    query = (
        select(
            association,
            # An attempt that reached the SMSC always has its first segment accepted.
            func.sum(case((col(SmsSegment.number) == 1, 1), else_=0)),
            func.count(),
        )
        .where(
            col(SmsSegment.submitted_at) >= start,
            col(SmsSegment.submitted_at) < end,
            viewer.visible(association=association),
        )
        .group_by(association)
        .order_by(association)
    )
    async with db.read() as session:
        rows = (await session.exec(query)).all()
    return [AssociationUsage(a, int(messages), int(segments)) for a, messages, segments in rows]

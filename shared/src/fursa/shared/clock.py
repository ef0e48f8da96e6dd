"""Time in one place: instants are UTC; programme dates are local to Africa/Casablanca."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CASABLANCA = ZoneInfo("Africa/Casablanca")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An instant read back from the database as UTC (SQLite hands back naive datetimes, and
    every instant stored is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_today() -> date:
    """Today's date in Morocco (enrollment, session and issue dates are local dates)."""
    return datetime.now(CASABLANCA).date()

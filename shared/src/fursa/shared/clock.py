"""Time in one place: instants are UTC; programme dates are local to Africa/Casablanca."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CASABLANCA = ZoneInfo("Africa/Casablanca")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    """Today's date in Morocco (enrollment, session and issue dates are local dates)."""
    return datetime.now(CASABLANCA).date()

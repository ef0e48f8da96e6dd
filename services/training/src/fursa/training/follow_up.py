"""Follow-up after the programme (e.g. at 6 and 12 months): where a learner is, what each
situation must say, and when each follow-up is due. Plain rules, no framework."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from fursa.shared.contracts import OutcomeStatus

# What each situation names: back in school says which school and level, vocational training
# which institution; the others name no place (a free text there could carry personal data).
NAMES: dict[OutcomeStatus, frozenset[str]] = {
    OutcomeStatus.BACK_IN_SCHOOL: frozenset({"school", "level"}),
    OutcomeStatus.VOCATIONAL_TRAINING: frozenset({"institution"}),
    OutcomeStatus.EMPLOYED: frozenset(),
    OutcomeStatus.APPRENTICED: frozenset(),
    OutcomeStatus.NONE: frozenset(),
}

REINTEGRATED = frozenset({OutcomeStatus.BACK_IN_SCHOOL, OutcomeStatus.VOCATIONAL_TRAINING})
"""Back in the formal system: school, or a vocational training institution."""

PLACED = frozenset({OutcomeStatus.EMPLOYED, OutcomeStatus.APPRENTICED})
"""In work: employed, or apprenticed with a master craftsman or a firm."""


@dataclass(frozen=True)
class FollowUp:
    """One follow-up of a learner ``months_after`` the end of their training."""

    months_after: int
    status: OutcomeStatus
    school: str | None = None
    level: str | None = None
    institution: str | None = None


def follow_up_errors(follow_up: FollowUp) -> list[tuple[str, str]]:
    """``(field, rule)`` for each field the situation requires and lacks, or must not carry."""
    required = NAMES[follow_up.status]
    errors: list[tuple[str, str]] = []
    for name in ("school", "level", "institution"):
        given = getattr(follow_up, name) is not None
        if name in required and not given:
            errors.append((name, "missing"))
        elif name not in required and given:
            errors.append((name, "not_for_status"))
    return errors


MILESTONES = (6, 12)
"""The follow-ups every completed training is due: 6 and 12 months after it ended."""

REMINDER_CATCH_UP = timedelta(days=28)
"""How far back a milestone never reminded still is (the service was down that week); older
ones are not reminded, so that starting the reminders does not flood centers with the past."""


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 August + 6 → 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(completed_on: date, months_after: int) -> date:
    """When the follow-up ``months_after`` a training completed on ``completed_on`` is due."""
    return months_later(completed_on, months_after)


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday), e.g. ``2026-W49``."""

    monday: date

    @classmethod
    def of(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def parse(cls, text: str) -> Week:
        """``YYYY-Www``; ``ValueError`` for anything else or a week the year does not have."""
        match = re.fullmatch(r"(\d{4})-W(\d{2})", text)
        if match is None:
            raise ValueError("not an ISO week")
        return cls(date.fromisocalendar(int(match[1]), int(match[2]), 1))

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def __str__(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


def completions_due(week: Week, months_after: int) -> tuple[date, date]:
    """The first and last completion dates whose ``months_after`` follow-up falls in ``week``.

    Month ends make it uneven (29, 30 and 31 August all fall due on 28 February), but the due
    date never goes back as the completion date moves on: the dates form one range, found
    from a little outside it.
    """
    first = months_later(week.monday, -months_after) - timedelta(days=3)
    while due_on(first, months_after) < week.monday:
        first += timedelta(days=1)
    last = months_later(week.sunday, -months_after) + timedelta(days=3)
    while due_on(last, months_after) > week.sunday:
        last -= timedelta(days=1)
    return first, last

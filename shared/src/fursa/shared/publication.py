"""The programme's small-cell rule for figures published outside the services' own callers:
a count of 1 to 4 learners is withheld, since it could single out a child."""

from __future__ import annotations

SMALL_CELL = 5
"""Counts under this are suppressed in published statistics (never 0: nobody is no one)."""


def publishable(count: int) -> int | None:
    """A count as published: ``None`` (suppressed) when 1 to 4 learners could be singled out."""
    return None if 0 < count < SMALL_CELL else count


def withheld(*cells: int) -> bool:
    """Whether a breakdown must be withheld whole: one of its parts is 1 to 4, which its
    total and the other parts would give away."""
    return any(0 < cell < SMALL_CELL for cell in cells)

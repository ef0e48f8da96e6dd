"""Corrections of what an educator recorded: plain rules, no framework.

A mark, a score or a follow-up is never overwritten silently: each correction keeps what the
entry was, what it became, why (a code: free text could carry personal or health details,
which never enter Fursa), who and when. A correction that changes nothing is no correction
(a resend from an offline screen is a no-op).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class CorrectionKind(StrEnum):
    ATTENDANCE = "attendance"
    ASSESSMENT = "assessment"
    FOLLOW_UP = "follow_up"


class CorrectionReason(StrEnum):
    """Why an entry was corrected."""

    ENTRY_ERROR = "entry_error"  # mistyped or ticked on the wrong line
    EXCUSE_PRESENTED = "excuse_presented"  # a justification of the absence came afterwards
    LATE_ARRIVAL = "late_arrival"  # the learner came after the call
    REMARKED = "remarked"  # the paper was marked again
    NEW_INFORMATION = "new_information"  # the learner's situation was learned better later


@dataclass(frozen=True)
class Mark:
    """A learner's attendance at one session: present, absent, or absent with an excuse."""

    present: bool
    excused: bool = False

    def errors(self) -> list[tuple[str, str]]:
        """``(field, rule)``: only an absence can be excused."""
        return [("excused", "excused_but_present")] if self.present and self.excused else []

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def changed(previous: dict[str, Any] | None, current: dict[str, Any]) -> bool:
    """Whether a correction changes the entry (an identical resend does not)."""
    return previous != current

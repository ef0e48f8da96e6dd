"""Early warning of dropout: attendance over a learner's last sessions, as plain rules.

A learner is *at risk* when their attendance over the last ``window_sessions`` sessions falls
under ``threshold``. One alert per episode: while at risk nothing more is raised, and the
episode ends only once attendance over the window is back at ``threshold + margin`` or above,
so that a learner hovering around the threshold does not raise an alert every other session.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Signal(enum.Enum):
    NONE = "none"
    EPISODE_STARTS = "episode_starts"
    EPISODE_ENDS = "episode_ends"


@dataclass(frozen=True)
class EarlyWarning:
    """The configured rule: a window of sessions, a threshold and a recovery margin."""

    window_sessions: int = 5
    threshold: float = 0.6
    margin: float = 0.1

    def __post_init__(self) -> None:
        if self.window_sessions < 1:
            raise ValueError("the window holds at least one session")
        if not (0 < self.threshold <= 1 and self.margin >= 0 and self.threshold + self.margin <= 1):
            raise ValueError("threshold in (0, 1] and threshold + margin at most 1")

    def window_rate(self, recent: Sequence[bool]) -> float | None:
        """Attendance over the last sessions (most recent first); None before a full window."""
        if len(recent) < self.window_sessions:
            return None
        window = recent[: self.window_sessions]
        return sum(window) / self.window_sessions

    def signal(self, recent: Sequence[bool], *, at_risk: bool) -> Signal:
        """What the latest attendance means for a learner who is (or is not) at risk now.

        ``recent`` is the learner's presence at their sessions that count (an excused absence
        does not), most recent first.
        """
        rate = self.window_rate(recent)
        if rate is None:
            # Too few sessions count to judge: after excusing absences, an episode ends.
            return Signal.EPISODE_ENDS if at_risk else Signal.NONE
        if not at_risk and rate < self.threshold:
            return Signal.EPISODE_STARTS
        # Compared with a tolerance: 0.6 + 0.1 is 0.7000000000000001 in binary floating point.
        if at_risk and rate >= self.threshold + self.margin - 1e-9:
            return Signal.EPISODE_ENDS
        return Signal.NONE

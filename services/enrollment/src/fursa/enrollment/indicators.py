"""The reintegration and placement indicators: what counts, how a group's figures add up,
and how they are published. Plain rules, no framework (docs/indicators.md defines them).

A learner's situation is known at three moments: at exit, where the learner went on leaving
the programme (withdrawn or completed, recorded by enrollment's staff), and at follow-ups 6
and 12 months after their training ended (recorded by training). At each moment:

* reached — at exit, every learner who left (with or without an outcome recorded: one not
  recorded counts as neither reintegrated nor placed); at a follow-up, the learners whose
  situation then is recorded;
* reintegrated — back in the formal system: school, or a vocational training institution;
* placed — in work: employed, or apprenticed;
* reintegration rate = reintegrated / reached; placement rate = placed / reached.

Published figures suppress small cells like the enrolment statistics: a count of 1 to 4 is
withheld. A moment's breakdown (reintegrated, placed, and the rest of those reached) is
published whole or not at all, so that no withheld count can be worked back from the others
or from a rate: a rate is ``None`` whenever a count it rests on is withheld.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from fursa.shared.contracts import ExitOutcome, OutcomeStatus
from fursa.shared.publication import SMALL_CELL, publishable


class Dimension(StrEnum):
    CENTER = "center"
    ASSOCIATION = "association"
    PATHWAY = "pathway"
    SEX = "sex"
    AGE_BAND = "age_band"
    NATIONALITY = "nationality"
    SCHOOL_YEAR = "school_year"


class Moment(StrEnum):
    """When a learner's situation is counted: on leaving, or at a follow-up after the end."""

    AT_EXIT = "at_exit"
    SIX_MONTHS = "6_months"
    TWELVE_MONTHS = "12_months"


MOMENTS = tuple(Moment)

FOLLOW_UPS: dict[int, Moment] = {6: Moment.SIX_MONTHS, 12: Moment.TWELVE_MONTHS}
"""The follow-ups counted, by their months after the end of the training."""

REINTEGRATION = frozenset({OutcomeStatus.BACK_IN_SCHOOL, OutcomeStatus.VOCATIONAL_TRAINING})
"""Back in the formal system: a school, or a vocational training institution."""

PLACEMENT = frozenset({OutcomeStatus.EMPLOYED, OutcomeStatus.APPRENTICED})
"""In work: employed (or self-employed), or apprenticed with a master craftsman or a firm."""


def situation_at_exit(outcome: ExitOutcome | None) -> OutcomeStatus | None:
    """A learner's situation on leaving, as the follow-ups name it (``None``: not known)."""
    if outcome is None or outcome is ExitOutcome.UNKNOWN:
        return None
    return OutcomeStatus(outcome.value)


@dataclass(frozen=True)
class LearnerSituations:
    """One enrollment in the programme (never a waiting one): the values of its dimensions and
    its situation at each moment it counts at: at exit once it left (``None`` when where the
    learner went is not known), at each follow-up recorded."""

    values: dict[Dimension, str]
    situations: dict[Moment, OutcomeStatus | None]


@dataclass
class Tally:
    """The learners of a group at one moment."""

    reached: int = 0
    reintegrated: int = 0
    placed: int = 0

    def add(self, status: OutcomeStatus | None) -> None:
        self.reached += 1
        self.reintegrated += status in REINTEGRATION
        self.placed += status in PLACEMENT

    @property
    def elsewhere(self) -> int:
        """Reached, but neither reintegrated nor placed (looking, at home, not known)."""
        return self.reached - self.reintegrated - self.placed


@dataclass(frozen=True)
class MomentFigures:
    """A moment's figures as shown: ``None`` is a withheld count, or a rate that is unknown
    (nobody reached) or rests on a withheld count."""

    reached: int | None
    reintegrated: int | None
    placed: int | None
    reintegration_rate: float | None
    placement_rate: float | None

    @classmethod
    def of(cls, tally: Tally, *, publication: bool) -> MomentFigures:
        reached: int | None = tally.reached
        reintegrated: int | None = tally.reintegrated
        placed: int | None = tally.placed
        if publication:
            reached = publishable(tally.reached)
            cells = (tally.reintegrated, tally.placed, tally.elsewhere)
            if reached is None or any(0 < cell < SMALL_CELL for cell in cells):
                reintegrated = placed = None
        return cls(
            reached=reached,
            reintegrated=reintegrated,
            placed=placed,
            reintegration_rate=rate(reintegrated, reached),
            placement_rate=rate(placed, reached),
        )


def rate(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` to four decimals; ``None`` when either is withheld or nobody counts."""
    if part is None or whole is None or whole == 0:
        return None
    return round(part / whole, 4)


@dataclass
class Group:
    """One group's learners and their tallies at each moment."""

    values: dict[Dimension, str]
    learners: int = 0
    tallies: dict[Moment, Tally] = field(default_factory=lambda: {m: Tally() for m in MOMENTS})

    def add(self, learner: LearnerSituations) -> None:
        self.learners += 1
        for moment, status in learner.situations.items():
            self.tallies[moment].add(status)


@dataclass(frozen=True)
class IndicatorRow:
    """One group as shown: its dimensions' values, its learners, its figures per moment."""

    values: dict[Dimension, str]
    learners: int | None
    moments: dict[Moment, MomentFigures]


def indicator_rows(
    learners: Iterable[LearnerSituations], by: Sequence[Dimension], *, publication: bool
) -> list[IndicatorRow]:
    """The figures of each group of ``learners`` along ``by`` (one group of all when ``by`` is
    empty), sorted by the groups' values; with ``publication``, small cells withheld."""
    groups: dict[tuple[str, ...], Group] = {}
    for learner in learners:
        key = tuple(learner.values[d] for d in by)
        if key not in groups:
            groups[key] = Group(values={d: learner.values[d] for d in by})
        groups[key].add(learner)
    if not by and not groups:
        groups[()] = Group(values={})
    return [
        IndicatorRow(
            values=group.values,
            learners=publishable(group.learners) if publication else group.learners,
            moments={
                moment: MomentFigures.of(tally, publication=publication)
                for moment, tally in group.tallies.items()
            },
        )
        for _key, group in sorted(groups.items())
    ]

"""The indicators officials report, computed from each learner's figures: plain Python.

For a group of trainings (by center, pathway, sex and/or school year):

* attendance rate — session hours attended over session hours held;
* completion rate — trainings completed as passed over all trainings of the group;
* at risk — trainings currently in an at-risk episode;
* reintegration rate — followed-up learners whose latest follow-up finds them back in school
  or in a vocational training institution, over followed-up learners;
* placement rate — followed-up learners employed or apprenticed, over followed-up learners.

A rate with nothing to divide by is ``None`` (not zero: nothing is known yet).

Published (:func:`published`), a count of 1 to 4 is withheld (``None``) and so is every rate
that would give one back: the completion rate when the completed or the others are 1 to 4, the
reintegration and placement rates when those reintegrated, placed or neither are (the rule of
the enrollment service's published statistics), the attendance rate of a group of 1 to 4.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fursa.shared.contracts import OutcomeStatus, Pathway, TrainingResult
from fursa.shared.publication import publishable, withheld
from fursa.training.domain import TrainingStatus
from fursa.training.follow_up import PLACED, REINTEGRATED


class Dimension(enum.StrEnum):
    CENTER = "center"
    PATHWAY = "pathway"
    SEX = "sex"
    SCHOOL_YEAR = "school_year"


@dataclass(frozen=True)
class LearnerFigures:
    """What one training contributes to the indicators (no personal data but sex)."""

    center_id: str
    pathway: Pathway
    sex: str | None
    school_year: str
    status: TrainingStatus
    result: TrainingResult | None
    hours_held: float
    hours_attended: float
    at_risk: bool
    latest_outcome: OutcomeStatus | None

    def key(self, by: Sequence[Dimension]) -> tuple[str | None, ...]:
        values = {
            Dimension.CENTER: self.center_id,
            Dimension.PATHWAY: str(self.pathway),
            Dimension.SEX: self.sex,
            Dimension.SCHOOL_YEAR: self.school_year,
        }
        return tuple(values[d] for d in by)


@dataclass
class Indicators:
    """One group's indicators; ``group`` names the group's value on each dimension asked."""

    group: dict[str, str | None]
    learners: int = 0
    completed: int = 0
    withdrawn: int = 0
    at_risk: int = 0
    followed_up: int = 0
    reintegrated: int = 0
    placed: int = 0
    hours_held: float = 0.0
    hours_attended: float = 0.0

    def add(self, figures: LearnerFigures) -> None:
        self.learners += 1
        self.completed += (
            figures.status == TrainingStatus.COMPLETED and figures.result == TrainingResult.PASSED
        )
        self.withdrawn += figures.status == TrainingStatus.WITHDRAWN
        self.at_risk += figures.at_risk
        self.hours_held += figures.hours_held
        self.hours_attended += figures.hours_attended
        if figures.latest_outcome is not None:
            self.followed_up += 1
            self.reintegrated += figures.latest_outcome in REINTEGRATED
            self.placed += figures.latest_outcome in PLACED

    @property
    def attendance_rate(self) -> float | None:
        return _rate(self.hours_attended, self.hours_held)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.learners)

    @property
    def reintegration_rate(self) -> float | None:
        return _rate(self.reintegrated, self.followed_up)

    @property
    def placement_rate(self) -> float | None:
        return _rate(self.placed, self.followed_up)


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def indicators(figures: Iterable[LearnerFigures], by: Sequence[Dimension]) -> list[Indicators]:
    """The indicators of each group of ``figures`` along ``by`` (one group when ``by`` is
    empty), sorted by group; groups without any training are not listed."""
    groups: dict[tuple[str | None, ...], Indicators] = {}
    for learner in figures:
        key = learner.key(by)
        if key not in groups:
            groups[key] = Indicators(group={str(d): v for d, v in zip(by, key, strict=True)})
        groups[key].add(learner)
    if not by and not groups:
        return [Indicators(group={})]
    return [groups[key] for key in sorted(groups, key=lambda k: tuple(v or "" for v in k))]


@dataclass(frozen=True)
class PublishedIndicators:
    """One group's indicators as published: ``None`` is a withheld count or rate."""

    group: dict[str, str | None]
    learners: int | None
    completed: int | None
    withdrawn: int | None
    at_risk: int | None
    followed_up: int | None
    attendance_rate: float | None
    completion_rate: float | None
    reintegration_rate: float | None
    placement_rate: float | None


def published(figures: Indicators) -> PublishedIndicators:
    """A group's indicators with small cells withheld, and the rates resting on them."""
    learners = publishable(figures.learners)
    completion_hidden = learners is None or withheld(
        figures.completed, figures.learners - figures.completed
    )
    neither = figures.followed_up - figures.reintegrated - figures.placed
    outcomes_hidden = withheld(figures.followed_up, figures.reintegrated, figures.placed, neither)
    return PublishedIndicators(
        group=figures.group,
        learners=learners,
        completed=None if completion_hidden else figures.completed,
        withdrawn=publishable(figures.withdrawn),
        at_risk=publishable(figures.at_risk),
        followed_up=publishable(figures.followed_up),
        attendance_rate=None if learners is None else figures.attendance_rate,
        completion_rate=None if completion_hidden else figures.completion_rate,
        reintegration_rate=None if outcomes_hidden else figures.reintegration_rate,
        placement_rate=None if outcomes_hidden else figures.placement_rate,
    )

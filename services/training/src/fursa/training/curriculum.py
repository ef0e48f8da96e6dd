"""What each pathway teaches and what completing it takes: plain data and rules, no framework.

A pathway has *modules* that every learner follows (literacy, Arabic, French, mathematics, life
skills) and, for the vocational pathways, *workshops* to choose from (tailoring, cooking,
electricity, hairdressing, computing), of which a learner must pass ``workshops_required``.
Each has its required hours. The defaults below are the development seed; a deployment sets
its own agreement's figures in configuration (``FURSA_TRAINING_CURRICULUM``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from fursa.shared.contracts import Pathway

MAX_SESSION_HOURS = 8.0
"""The longest session a class has in one day."""


class ModuleKind(StrEnum):
    EDUCATIONAL = "educational"
    WORKSHOP = "workshop"


@dataclass(frozen=True)
class PathwayPlan:
    """A pathway's curriculum: required modules and workshops to choose from, with their hours."""

    modules: dict[str, float]
    workshops: dict[str, float] = field(default_factory=dict)
    workshops_required: int = 0

    def __post_init__(self) -> None:
        hours = [*self.modules.values(), *self.workshops.values()]
        if any(not (0 < h <= 2000) for h in hours):
            raise ValueError("a module's required hours are between 0 and 2000")
        if set(self.modules) & set(self.workshops):
            raise ValueError("a module is either required or a workshop, not both")
        if not 0 <= self.workshops_required <= len(self.workshops):
            raise ValueError("workshops_required cannot exceed the workshops offered")

    def kind_of(self, module: str) -> ModuleKind | None:
        """Whether ``module`` is a required module or a workshop of this pathway (or neither)."""
        if module in self.modules:
            return ModuleKind.EDUCATIONAL
        if module in self.workshops:
            return ModuleKind.WORKSHOP
        return None


Curriculum = Mapping[Pathway, PathwayPlan]

_EDUCATIONAL = ("literacy", "arabic", "french", "mathematics", "life_skills")
_WORKSHOPS = ("tailoring", "cooking", "electricity", "hairdressing", "computing")

DEFAULT_CURRICULUM: dict[Pathway, PathwayPlan] = {
    Pathway.SCHOOL_REINTEGRATION: PathwayPlan(
        modules={"literacy": 40, "arabic": 40, "french": 40, "mathematics": 40, "life_skills": 20}
    ),
    Pathway.VOCATIONAL_TRAINING: PathwayPlan(
        modules=dict.fromkeys(_EDUCATIONAL, 20.0),
        workshops=dict.fromkeys(_WORKSHOPS, 80.0),
        workshops_required=1,
    ),
    Pathway.SOCIO_PROFESSIONAL_INSERTION: PathwayPlan(
        modules={"literacy": 20, "french": 20, "life_skills": 40},
        workshops=dict.fromkeys(_WORKSHOPS, 60.0),
        workshops_required=1,
    ),
}
"""The development seed: the programme's modules and workshops with plausible hours."""


@dataclass(frozen=True)
class CompletionRule:
    """When a training may complete as passed (from configuration).

    Attended hours reach ``min_attendance_share`` of the required hours (the pathway's modules
    plus the workshops the learner follows), every required module is passed, and so are at
    least the pathway's ``workshops_required`` workshops. An assessment passes at ``pass_mark``
    (scores are out of 20, as in Moroccan schools).
    """

    min_attendance_share: float = 0.75
    pass_mark: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_attendance_share <= 1:
            raise ValueError("the minimum attendance is a share of required hours, 0..1")
        if not 0 <= self.pass_mark <= 20:
            raise ValueError("the pass mark is a score out of 20")


@dataclass(frozen=True)
class Progress:
    """Where one learner stands: hours held and attended per module, latest result per module."""

    hours_held: Mapping[str, float]
    hours_attended: Mapping[str, float]
    passed: Mapping[str, bool]

    @property
    def total_held(self) -> float:
        return sum(self.hours_held.values())

    @property
    def total_attended(self) -> float:
        return sum(self.hours_attended.values())

    @property
    def attendance_rate(self) -> float:
        """Share of the session hours held for the learner that they attended (0 if none)."""
        held = self.total_held
        return min(self.total_attended / held, 1.0) if held else 0.0


@dataclass(frozen=True)
class UnmetCondition:
    """One condition of the completion rule that a learner does not meet yet."""

    condition: str
    module: str | None = None
    required: float | None = None
    actual: float | None = None


def followed_workshops(plan: PathwayPlan, progress: Progress) -> tuple[str, ...]:
    """The pathway's workshops the learner attended at least once, in the curriculum's order."""
    return tuple(w for w in plan.workshops if progress.hours_attended.get(w, 0) > 0)


def required_hours(plan: PathwayPlan, progress: Progress) -> float:
    """Hours the learner must follow: the pathway's modules and the workshops they follow."""
    workshops = followed_workshops(plan, progress)
    return sum(plan.modules.values()) + sum(plan.workshops[w] for w in workshops)


def unmet_conditions(
    plan: PathwayPlan, progress: Progress, rule: CompletionRule
) -> list[UnmetCondition]:
    """Every condition of ``rule`` the learner does not meet (empty: they may complete)."""
    unmet = [
        UnmetCondition("module_not_passed", module=module)
        for module in plan.modules
        if not progress.passed.get(module, False)
    ]
    workshops_passed = [
        w for w in followed_workshops(plan, progress) if progress.passed.get(w, False)
    ]
    if len(workshops_passed) < plan.workshops_required:
        unmet.append(
            UnmetCondition(
                "workshops_not_passed",
                required=plan.workshops_required,
                actual=len(workshops_passed),
            )
        )
    minimum = rule.min_attendance_share * required_hours(plan, progress)
    if progress.total_attended < minimum:
        unmet.append(
            UnmetCondition(
                "attendance_below_minimum",
                required=round(minimum, 2),
                actual=round(progress.total_attended, 2),
            )
        )
    return unmet

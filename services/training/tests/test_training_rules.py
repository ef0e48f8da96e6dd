"""The programme's rules as plain functions: curriculum and completion, early warning,
follow-up and indicators (no database, no broker)."""

from __future__ import annotations

import pytest

from fursa.shared.contracts import OutcomeStatus, Pathway, TrainingResult
from fursa.training.curriculum import (
    DEFAULT_CURRICULUM,
    CompletionRule,
    ModuleKind,
    PathwayPlan,
    Progress,
    UnmetCondition,
    followed_workshops,
    required_hours,
    unmet_conditions,
)
from fursa.training.domain import TrainingStatus
from fursa.training.early_warning import EarlyWarning, Signal
from fursa.training.follow_up import FollowUp, follow_up_errors
from fursa.training.indicators import Dimension, LearnerFigures, indicators, published

PLAN = PathwayPlan(
    modules={"literacy": 20, "mathematics": 20},
    workshops={"tailoring": 60, "cooking": 60},
    workshops_required=1,
)
RULE = CompletionRule(min_attendance_share=0.75, pass_mark=10)


def progress(
    attended: dict[str, float], passed: dict[str, bool], held: dict[str, float] | None = None
) -> Progress:
    return Progress(hours_held=held or attended, hours_attended=attended, passed=passed)


# --- curriculum and completion --------------------------------------------------------------


def test_the_seed_teaches_every_pathway_its_modules_and_workshops() -> None:
    vocational = DEFAULT_CURRICULUM[Pathway.VOCATIONAL_TRAINING]
    assert set(vocational.modules) == {"literacy", "arabic", "french", "mathematics", "life_skills"}
    assert set(vocational.workshops) == {
        "tailoring",
        "cooking",
        "electricity",
        "hairdressing",
        "computing",
    }
    assert vocational.kind_of("tailoring") == ModuleKind.WORKSHOP
    assert vocational.kind_of("literacy") == ModuleKind.EDUCATIONAL
    assert vocational.kind_of("pottery") is None
    assert set(DEFAULT_CURRICULUM) == set(Pathway)
    assert DEFAULT_CURRICULUM[Pathway.SCHOOL_REINTEGRATION].workshops_required == 0


@pytest.mark.parametrize(
    "plan",
    [
        {"modules": {"literacy": 0}},
        {"modules": {"literacy": 10}, "workshops": {"literacy": 10}},
        {"modules": {"literacy": 10}, "workshops": {"cooking": 10}, "workshops_required": 2},
    ],
)
def test_an_impossible_curriculum_is_refused(plan: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"hours|workshop"):
        PathwayPlan(**plan)  # type: ignore[arg-type]


def test_required_hours_are_the_modules_and_the_workshops_followed() -> None:
    learner = progress({"literacy": 20, "tailoring": 8}, {})

    assert followed_workshops(PLAN, learner) == ("tailoring",)
    assert required_hours(PLAN, learner) == 20 + 20 + 60


def test_a_learner_who_passed_everything_with_enough_hours_may_complete() -> None:
    learner = progress(
        {"literacy": 16, "mathematics": 15, "tailoring": 45},
        {"literacy": True, "mathematics": True, "tailoring": True},
    )

    assert unmet_conditions(PLAN, learner, RULE) == []


def test_attendance_exactly_at_the_minimum_is_enough() -> None:
    learner = progress(
        {"literacy": 15, "mathematics": 15, "tailoring": 45},  # 75 of 100 hours
        {"literacy": True, "mathematics": True, "tailoring": True},
    )

    assert unmet_conditions(PLAN, learner, RULE) == []


def test_every_unmet_condition_is_listed() -> None:
    learner = progress({"literacy": 10, "tailoring": 10}, {"literacy": True, "tailoring": False})

    assert unmet_conditions(PLAN, learner, RULE) == [
        UnmetCondition("module_not_passed", module="mathematics"),
        UnmetCondition("workshops_not_passed", required=1, actual=0),
        UnmetCondition("attendance_below_minimum", required=75.0, actual=20.0),
    ]


def test_the_latest_failed_assessment_of_a_module_counts() -> None:
    learner = progress({"literacy": 20, "mathematics": 20}, {"literacy": False})

    unmet = unmet_conditions(
        PathwayPlan(modules={"literacy": 20, "mathematics": 20}), learner, RULE
    )

    assert UnmetCondition("module_not_passed", module="literacy") in unmet


def test_a_workshop_passed_but_never_attended_does_not_count() -> None:
    learner = progress(
        {"literacy": 20, "mathematics": 20},
        {"literacy": True, "mathematics": True, "cooking": True},
    )

    assert UnmetCondition("workshops_not_passed", required=1, actual=0) in unmet_conditions(
        PLAN, learner, RULE
    )


def test_the_minimum_share_comes_from_configuration() -> None:
    learner = progress(
        {"literacy": 10, "mathematics": 10, "tailoring": 30},
        {"literacy": True, "mathematics": True, "tailoring": True},
    )

    assert unmet_conditions(PLAN, learner, CompletionRule(min_attendance_share=0.5)) == []
    assert [u.condition for u in unmet_conditions(PLAN, learner, RULE)] == [
        "attendance_below_minimum"
    ]


def test_attendance_rate_is_the_share_of_held_hours_attended() -> None:
    learner = progress({"literacy": 6}, {}, held={"literacy": 8})

    assert learner.attendance_rate == 0.75
    assert progress({}, {}).attendance_rate == 0.0


@pytest.mark.parametrize(("share", "mark"), [(1.5, 10), (-0.1, 10), (0.75, 21)])
def test_an_impossible_completion_rule_is_refused(share: float, mark: float) -> None:
    with pytest.raises(ValueError, match=r"share|score"):
        CompletionRule(min_attendance_share=share, pass_mark=mark)


# --- early warning --------------------------------------------------------------------------

WARNING = EarlyWarning(window_sessions=4, threshold=0.5, margin=0.25)


def replay(sessions: list[bool], rule: EarlyWarning = WARNING) -> list[Signal]:
    """The signal after each session of a learner (presence in the order held)."""
    at_risk, signals = False, []
    for n in range(1, len(sessions) + 1):
        recent = list(reversed(sessions[:n]))
        signal = rule.signal(recent, at_risk=at_risk)
        at_risk = {
            Signal.EPISODE_STARTS: True,
            Signal.EPISODE_ENDS: False,
            Signal.NONE: at_risk,
        }[signal]
        signals.append(signal)
    return signals


def test_nothing_is_said_before_a_full_window() -> None:
    assert replay([False, False, False]) == [Signal.NONE] * 3


def test_attendance_under_the_threshold_starts_one_episode() -> None:
    signals = replay([True, False, False, False, False, False, False])

    assert signals.count(Signal.EPISODE_STARTS) == 1
    assert signals[3] == Signal.EPISODE_STARTS  # 1 of 4 = 0.25 < 0.5


def test_exactly_the_threshold_is_not_at_risk() -> None:
    assert WARNING.signal([True, True, False, False], at_risk=False) == Signal.NONE


def test_an_episode_ends_only_at_threshold_plus_margin() -> None:
    # Hovering at 0.5 (under threshold + margin = 0.75) keeps the first episode open: no
    # second alert; three of four present (0.75) ends it; a fall again starts a new one.
    sessions = [False] * 4 + [True, True, False, False, True, True] + [True, True]
    sessions += [False, False, False]
    signals = replay(sessions)

    starts = [n for n, s in enumerate(signals) if s == Signal.EPISODE_STARTS]
    ends = [n for n, s in enumerate(signals) if s == Signal.EPISODE_ENDS]
    assert starts == [3, 14]
    assert ends == [10]


def test_the_window_rate_reads_only_the_last_sessions() -> None:
    assert WARNING.window_rate([True, True, True, False, False, False]) == 0.75


@pytest.mark.parametrize(
    ("window", "threshold", "margin"), [(0, 0.5, 0.1), (3, 0, 0.1), (3, 0.95, 0.1)]
)
def test_an_impossible_early_warning_is_refused(
    window: int, threshold: float, margin: float
) -> None:
    with pytest.raises(ValueError, match=r"window|threshold"):
        EarlyWarning(window_sessions=window, threshold=threshold, margin=margin)


# --- follow-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("follow_up", "errors"),
    [
        (FollowUp(6, OutcomeStatus.BACK_IN_SCHOOL, school="Collège Ibn Tofail", level="1AC"), []),
        (FollowUp(6, OutcomeStatus.BACK_IN_SCHOOL, school="Collège"), [("level", "missing")]),
        (FollowUp(12, OutcomeStatus.VOCATIONAL_TRAINING), [("institution", "missing")]),
        (FollowUp(12, OutcomeStatus.VOCATIONAL_TRAINING, institution="OFPPT Marrakech"), []),
        (FollowUp(12, OutcomeStatus.EMPLOYED), []),
        (FollowUp(12, OutcomeStatus.APPRENTICED, school="x"), [("school", "not_for_status")]),
        (FollowUp(6, OutcomeStatus.NONE, institution="x"), [("institution", "not_for_status")]),
    ],
)
def test_each_situation_names_what_it_must_and_nothing_else(
    follow_up: FollowUp, errors: list[tuple[str, str]]
) -> None:
    assert follow_up_errors(follow_up) == errors


# --- indicators -----------------------------------------------------------------------------


def figures(
    *,
    center: str = "c1",
    sex: str | None = "female",
    status: TrainingStatus = TrainingStatus.OPEN,
    result: TrainingResult | None = None,
    held: float = 10,
    attended: float = 10,
    at_risk: bool = False,
    outcome: OutcomeStatus | None = None,
) -> LearnerFigures:
    return LearnerFigures(
        center_id=center,
        pathway=Pathway.VOCATIONAL_TRAINING,
        sex=sex,
        school_year="2025/2026",
        status=status,
        result=result,
        hours_held=held,
        hours_attended=attended,
        at_risk=at_risk,
        latest_outcome=outcome,
    )


def test_indicators_of_a_group() -> None:
    done = {"status": TrainingStatus.COMPLETED, "result": TrainingResult.PASSED}
    learners = [
        figures(**done, outcome=OutcomeStatus.BACK_IN_SCHOOL),  # type: ignore[arg-type]
        figures(**done, outcome=OutcomeStatus.EMPLOYED),  # type: ignore[arg-type]
        figures(**done, outcome=OutcomeStatus.NONE),  # type: ignore[arg-type]
        figures(status=TrainingStatus.COMPLETED, result=TrainingResult.FAILED),
        figures(held=10, attended=2, at_risk=True),
        figures(status=TrainingStatus.WITHDRAWN, held=0, attended=0),
    ]

    [group] = indicators(learners, [])

    assert (group.learners, group.completed, group.withdrawn, group.at_risk) == (6, 3, 1, 1)
    assert group.completion_rate == 0.5
    assert group.attendance_rate == 0.84  # 42 of 50 hours
    assert (group.followed_up, group.reintegration_rate, group.placement_rate) == (
        3,
        0.3333,
        0.3333,
    )


def test_indicators_by_center_and_sex_with_erased_sex_apart() -> None:
    learners = [
        figures(center="c1", sex="female"),
        figures(center="c1", sex="male"),
        figures(center="c2", sex="female"),
        figures(center="c1", sex=None),
    ]

    groups = indicators(learners, [Dimension.CENTER, Dimension.SEX])

    assert [(g.group, g.learners) for g in groups] == [
        ({"center": "c1", "sex": None}, 1),
        ({"center": "c1", "sex": "female"}, 1),
        ({"center": "c1", "sex": "male"}, 1),
        ({"center": "c2", "sex": "female"}, 1),
    ]


def test_with_nothing_to_count_rates_are_unknown_not_zero() -> None:
    [group] = indicators([], [])

    assert group.learners == 0
    assert (group.attendance_rate, group.completion_rate, group.placement_rate) == (
        None,
        None,
        None,
    )


def test_published_indicators_withhold_small_counts_and_the_rates_that_give_them_away() -> None:
    """Twelve learners, three at risk, ten completed (two did not), six followed up of whom
    five back in school and one in work: every count of 1 to 4 withheld, and the completion,
    reintegration and placement rates resting on them; twelve learners' attendance stays."""
    done = {"status": TrainingStatus.COMPLETED, "result": TrainingResult.PASSED}
    learners = [
        *(figures(**done, outcome=OutcomeStatus.BACK_IN_SCHOOL) for _ in range(5)),  # type: ignore[arg-type]
        figures(**done, outcome=OutcomeStatus.EMPLOYED),  # type: ignore[arg-type]
        *(figures(**done) for _ in range(4)),  # type: ignore[arg-type]
        *(figures(at_risk=True) for _ in range(2)),
    ]
    learners[0] = figures(**done, outcome=OutcomeStatus.BACK_IN_SCHOOL, at_risk=True)  # type: ignore[arg-type]
    [group] = indicators(learners, [])

    shown = published(group)

    assert (shown.learners, shown.completed, shown.withdrawn) == (12, None, 0)
    assert (shown.at_risk, shown.followed_up) == (None, 6)
    assert (shown.completion_rate, shown.reintegration_rate, shown.placement_rate) == (
        None,
        None,
        None,
    )
    assert shown.attendance_rate == group.attendance_rate is not None


def test_published_indicators_of_a_large_enough_group_are_the_exact_ones() -> None:
    done = {"status": TrainingStatus.COMPLETED, "result": TrainingResult.PASSED}
    learners = [
        *(figures(**done, outcome=OutcomeStatus.BACK_IN_SCHOOL) for _ in range(5)),  # type: ignore[arg-type]
        *(figures(**done, outcome=OutcomeStatus.EMPLOYED) for _ in range(5)),  # type: ignore[arg-type]
        *(figures(at_risk=True) for _ in range(5)),
    ]
    [group] = indicators(learners, [])

    shown = published(group)

    assert (shown.learners, shown.completed, shown.at_risk, shown.followed_up) == (15, 10, 5, 10)
    assert (shown.completion_rate, shown.reintegration_rate, shown.placement_rate) == (
        group.completion_rate,
        0.5,
        0.5,
    )
    assert published(indicators(learners[:3], [])[0]).attendance_rate is None

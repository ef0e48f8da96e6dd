"""The rules of the reintegration and placement indicators (no database, no broker): what
counts as reintegration and placement, the rates, and what publication withholds."""

from __future__ import annotations

import pytest

from fursa.enrollment.indicators import (
    Dimension,
    LearnerSituations,
    Moment,
    MomentFigures,
    Tally,
    indicator_rows,
)
from fursa.shared.contracts import OutcomeStatus

S = OutcomeStatus


def tally(*statuses: OutcomeStatus) -> Tally:
    counted = Tally()
    for status in statuses:
        counted.add(status)
    return counted


def test_school_and_vocational_training_reintegrate_work_and_apprenticeship_place() -> None:
    counted = tally(S.BACK_IN_SCHOOL, S.VOCATIONAL_TRAINING, S.EMPLOYED, S.APPRENTICED, S.NONE)

    assert (counted.reached, counted.reintegrated, counted.placed, counted.elsewhere) == (
        5,
        2,
        2,
        1,
    )
    figures = MomentFigures.of(counted, publication=False)
    assert (figures.reintegration_rate, figures.placement_rate) == (0.4, 0.4)


def test_nobody_reached_is_an_unknown_rate_not_zero() -> None:
    figures = MomentFigures.of(Tally(), publication=True)

    assert (figures.reached, figures.reintegrated, figures.placed) == (0, 0, 0)
    assert (figures.reintegration_rate, figures.placement_rate) == (None, None)


@pytest.mark.parametrize(
    ("statuses", "published"),
    [
        # 1 to 4 reached: everything withheld.
        ([S.EMPLOYED] * 4, (None, None, None)),
        # Every cell of the breakdown 0 or at least 5: published whole.
        ([S.BACK_IN_SCHOOL] * 5 + [S.EMPLOYED] * 5, (10, 5, 5)),
        ([S.NONE] * 7, (7, 0, 0)),
        # Reintegrated 1 to 4: withheld, and placed with it (placed + the rest = reached).
        ([S.BACK_IN_SCHOOL] * 3 + [S.NONE] * 6, (9, None, None)),
        # The rest 1 to 4 (reached - reintegrated - placed would tell it): withheld.
        ([S.VOCATIONAL_TRAINING] * 5 + [S.NONE], (6, None, None)),
    ],
)
def test_publication_withholds_a_breakdown_with_any_small_cell(
    statuses: list[OutcomeStatus], published: tuple[int | None, ...]
) -> None:
    figures = MomentFigures.of(tally(*statuses), publication=True)

    assert (figures.reached, figures.reintegrated, figures.placed) == published
    if figures.reintegrated is None:
        assert (figures.reintegration_rate, figures.placement_rate) == (None, None)


def test_groups_follow_the_dimensions_asked_and_count_each_moment_apart() -> None:
    def learner(sex: str, situations: dict[Moment, OutcomeStatus]) -> LearnerSituations:
        values = {d: "x" for d in Dimension} | {Dimension.SEX: sex}
        return LearnerSituations(values=values, situations=situations)

    six, twelve = Moment.SIX_MONTHS, Moment.TWELVE_MONTHS
    rows = indicator_rows(
        [
            learner("female", {six: S.BACK_IN_SCHOOL, twelve: S.EMPLOYED}),
            learner("female", {}),
            learner("male", {six: S.NONE}),
        ],
        [Dimension.SEX],
        publication=False,
    )

    assert [(row.values, row.learners) for row in rows] == [
        ({Dimension.SEX: "female"}, 2),
        ({Dimension.SEX: "male"}, 1),
    ]
    female = rows[0].moments
    assert (female[six].reached, female[six].reintegration_rate) == (1, 1.0)
    assert (female[twelve].reached, female[twelve].placement_rate) == (1, 1.0)
    assert indicator_rows([], [], publication=True)[0].learners == 0

"""Eligibility rules from configuration, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from fursa.enrollment.eligibility import (
    AgeBounds,
    NotEligible,
    SchoolLevel,
    age_on,
    check_eligibility,
)

STARTS = date(2025, 9, 1)
BOUNDS = AgeBounds(12, 18)


def check(birth: date, level: SchoolLevel = SchoolLevel.PRIMARY_6, left: int | None = 2024) -> int:
    return check_eligibility(
        birth_date=birth,
        last_school_level=level,
        year_left_school=left,
        school_year_starts_on=STARTS,
        bounds=BOUNDS,
    )


def refusal(
    birth: date, level: SchoolLevel = SchoolLevel.PRIMARY_6, left: int | None = 2024
) -> NotEligible:
    with pytest.raises(NotEligible) as caught:
        check(birth, level, left)
    return caught.value


def test_age_counts_completed_years_on_the_day_the_school_year_starts() -> None:
    assert age_on(date(2013, 9, 1), STARTS) == 12
    assert age_on(date(2013, 9, 2), STARTS) == 11
    assert age_on(date(2012, 2, 29), date(2025, 2, 28)) == 12


def test_learners_within_the_bounds_are_eligible() -> None:
    assert check(date(2013, 9, 1)) == 12
    assert check(date(2006, 9, 2)) == 18


def test_too_young_is_refused_naming_the_rule() -> None:
    refused = refusal(date(2013, 9, 2))

    assert refused.rule == "age_below_minimum"
    assert refused.params == {"age": 11, "min_age": 12}


def test_too_old_is_refused_naming_the_rule() -> None:
    refused = refusal(date(2006, 9, 1))

    assert refused.rule == "age_above_maximum"
    assert refused.params == {"age": 19, "max_age": 18}


def test_an_agreements_bounds_replace_the_school_years() -> None:
    age = check_eligibility(
        birth_date=date(2005, 1, 1),
        last_school_level=SchoolLevel.NEVER_SCHOOLED,
        year_left_school=None,
        school_year_starts_on=STARTS,
        bounds=AgeBounds(15, 22),
    )

    assert age == 20


def test_a_learner_still_at_school_when_the_year_starts_is_refused() -> None:
    refused = refusal(date(2011, 1, 1), left=2026)

    assert refused.rule == "must_be_out_of_school"
    assert refused.params == {"year_left_school": 2026, "school_year_starts": 2025}


def test_a_child_who_never_went_to_school_needs_no_year_left() -> None:
    assert check(date(2011, 1, 1), SchoolLevel.NEVER_SCHOOLED, None) == 14


def test_a_schooled_learner_must_say_when_they_left() -> None:
    assert refusal(date(2011, 1, 1), left=None).rule == "year_left_school_required"


def test_leaving_school_before_school_age_is_impossible() -> None:
    assert refusal(date(2011, 1, 1), left=2014).rule == "year_left_school_before_school_age"

"""Who may join the programme, from configuration: plain rules, no framework.

A school year sets the age bounds of its intake; a partnership agreement may set its own for
the learners it refers. The learner must be out of school when the school year starts. Each
refusal names its rule, so the API can answer with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from fursa.enrollment.domain import Refused
from fursa.shared.adulthood import age_on, is_adult


class SchoolLevel(StrEnum):
    """The last school level a learner reached (Moroccan primary, middle and high school)."""

    NEVER_SCHOOLED = "never_schooled"
    PRIMARY_1 = "primary_1"
    PRIMARY_2 = "primary_2"
    PRIMARY_3 = "primary_3"
    PRIMARY_4 = "primary_4"
    PRIMARY_5 = "primary_5"
    PRIMARY_6 = "primary_6"
    MIDDLE_1 = "middle_1"
    MIDDLE_2 = "middle_2"
    MIDDLE_3 = "middle_3"
    HIGH_SCHOOL = "high_school"


@dataclass(frozen=True)
class AgeBounds:
    """Inclusive ages, in completed years, on the day the school year starts."""

    min_age: int
    max_age: int


class NotEligible(Refused):
    """A rule of eligibility refused the learner; ``rule`` names it, ``params`` explain."""

    def __init__(self, rule: str, **params: Any) -> None:
        super().__init__(f"{rule}: {params}", **params)
        self.rule = rule


def check_eligibility(
    *,
    birth_date: date,
    last_school_level: SchoolLevel,
    year_left_school: int | None,
    school_year_starts_on: date,
    bounds: AgeBounds,
) -> int:
    """Refuse a learner the programme cannot take (:class:`NotEligible`); return their age.

    ``bounds`` are the agreement's when the learner is referred through one, else the
    school year's.
    """
    age = age_on(birth_date, school_year_starts_on)
    if age < bounds.min_age:
        raise NotEligible("age_below_minimum", age=age, min_age=bounds.min_age)
    if age > bounds.max_age:
        raise NotEligible("age_above_maximum", age=age, max_age=bounds.max_age)
    if last_school_level is SchoolLevel.NEVER_SCHOOLED:
        return age
    if year_left_school is None:
        raise NotEligible("year_left_school_required", last_school_level=str(last_school_level))
    if year_left_school > school_year_starts_on.year:
        raise NotEligible(
            "must_be_out_of_school",
            year_left_school=year_left_school,
            school_year_starts=school_year_starts_on.year,
        )
    if year_left_school < birth_date.year + 5:
        raise NotEligible("year_left_school_before_school_age", year_left_school=year_left_school)
    return age


class ContactMissing(Refused):
    """A minor's contact is their guardian; an adult is their own contact."""

    rule = "contact_missing"


def check_contact(*, birth_date: date, on: date, guardian: bool, own_phone: bool) -> None:
    """Refuse a record without the contact the learner's age on ``on`` needs: a guardian
    under 18, the learner's own phone from 18 (a guardian is then optional)."""
    if is_adult(birth_date, on):
        if not own_phone:
            raise ContactMissing(field="contact.phone", age=age_on(birth_date, on))
    elif not guardian:
        raise ContactMissing(field="guardian", age=age_on(birth_date, on))

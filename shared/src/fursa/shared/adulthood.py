"""Who a learner's contact is, in plain code: their guardian while they are a minor,
themself from 18 (the age of majority in Morocco, Family Code art. 209).

Ages are counted on the day that matters — the enrolment's, a message's — in completed years
from the birth date. Someone born on 29 February comes of age on 1 March of a common year.
"""

from __future__ import annotations

from datetime import date

MAJORITY = 18


def age_on(birth_date: date, day: date) -> int:
    """Age in completed years on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def is_adult(birth_date: date, on: date) -> bool:
    """Whether someone born on ``birth_date`` is of age on ``on``: their own contact."""
    return age_on(birth_date, on) >= MAJORITY

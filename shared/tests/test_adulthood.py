"""Who a learner's contact is (fursa.shared.adulthood): of age on their 18th birthday."""

from __future__ import annotations

from datetime import date

from fursa.shared.adulthood import age_on, is_adult


def test_a_learner_comes_of_age_on_their_eighteenth_birthday_not_the_day_before() -> None:
    born = date(2008, 6, 15)

    assert (age_on(born, date(2026, 6, 14)), is_adult(born, date(2026, 6, 14))) == (17, False)
    assert (age_on(born, date(2026, 6, 15)), is_adult(born, date(2026, 6, 15))) == (18, True)


def test_born_on_the_29th_of_february_comes_of_age_on_the_1st_of_march() -> None:
    born = date(2008, 2, 29)

    assert not is_adult(born, date(2026, 2, 28))
    assert is_adult(born, date(2026, 3, 1))
    assert is_adult(born, date(2028, 2, 29))

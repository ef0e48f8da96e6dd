"""Name normalisation against the committed table of pairs that must and must not match."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from fursa.enrollment.names import identity_keys, normalise_arabic, normalise_latin

PAIRS = list(csv.DictReader((Path(__file__).parent / "data" / "name_pairs.csv").open()))
NORMALISE = {"arabic": normalise_arabic, "latin": normalise_latin}


def test_the_table_covers_both_scripts_and_both_verdicts() -> None:
    kinds = {(pair["script"], pair["same"]) for pair in PAIRS}

    assert kinds == {("arabic", "yes"), ("arabic", "no"), ("latin", "yes"), ("latin", "no")}


@pytest.mark.parametrize(
    "pair", PAIRS, ids=[f"{p['script']}:{p['first']}~{p['second']}" for p in PAIRS]
)
def test_name_pairs_match_exactly_when_the_table_says_so(pair: dict[str, str]) -> None:
    normalise = NORMALISE[pair["script"]]

    same = normalise(pair["first"]) == normalise(pair["second"])

    assert same is (pair["same"] == "yes"), pair["why"]


def keys(**changes: object) -> list[str]:
    learner: dict[str, object] = {
        "first_name_ar": "سلمى",
        "last_name_ar": "بنعلي",
        "first_name_latin": "Salma",
        "last_name_latin": "Benali",
        "birth_date": date(2011, 3, 14),
        "guardian_phone": "+212612345678",
        "massar_code": None,
    }
    learner.update(changes)
    return identity_keys(**learner)  # type: ignore[arg-type]


def test_a_variant_spelling_in_either_script_is_the_same_learner() -> None:
    arabic_variant = keys(first_name_ar="سَلْمى", last_name_ar="بن علي")
    latin_variant = keys(first_name_latin="Selma", last_name_latin="Ben Ali")

    assert set(arabic_variant) & set(keys())
    assert set(latin_variant) & set(keys())


def test_another_birth_date_or_guardian_phone_is_another_learner() -> None:
    assert not set(keys(birth_date=date(2011, 3, 15))) & set(keys())
    assert not set(keys(guardian_phone="+212612345679")) & set(keys())


def test_the_same_massar_code_is_the_same_learner_whatever_the_name() -> None:
    one = keys(massar_code="J130045678")
    other = keys(
        first_name_ar="يوسف",
        first_name_latin="Youssef",
        birth_date=date(2010, 1, 1),
        massar_code="J130045678",
    )

    assert set(one) & set(other)


def test_keys_hold_no_readable_personal_data() -> None:
    joined = " ".join(keys(massar_code="J130045678"))

    for value in ("Salma", "سلمى", "2011-03-14", "612345678", "J130045678"):
        assert value not in joined

"""Whether two learners' records may be the same person: a scored check, in plain Python.

An exact match (same Massar code, or same normalised name, birth date and guardian phone) is
refused at enrolment by the identity keys (``names.identity_keys``). This check catches what
the keys miss: transliteration variants (Abdellah/Abdullah, Zineb/Zaynab, M'hamed/Mohamed),
a compound name written in full or shortened (فاطمة الزهراء / الزهرة), a birth date typed with
day and month swapped, a year off or only the year known. It warns; staff decide.

The rules, which the labelled pairs in ``tests/data/duplicate_pairs.csv`` measure:

- Two different Massar codes are two pupils; the same code is the same one.
- Records of different sexes are never the same person here (a wrong sex is corrected first).
- A name in Arabic script is the stronger evidence: Moroccan civil records write it once, so
  two Arabic spellings that fold to the same letters (or a compound name and one of its parts)
  are the same name. Otherwise both scripts' similarities count, half each: Latin spellings
  vary a lot for one name, Arabic ones little, so a one-letter Arabic difference (حسن/حسين,
  twins Hassan and Houssine) keeps the score low.
- The first name must be very close (:data:`FIRST_NAME_MIN`), the family name close
  (:data:`LAST_NAME_MIN`); the score then weighs first name, family name and birth date, and
  a shared guardian phone adds to it.
- Birth dates farther apart than :data:`BIRTH_TOLERANCE_DAYS` are two people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from fursa.enrollment.names import normalise_arabic, normalise_latin

BIRTH_TOLERANCE_DAYS = 366
"""A year's typing error at most; siblings are born farther apart (or are twins)."""

FIRST_NAME_MIN = 0.9
"""Twins share family name, birth date and guardian: only the first name tells them apart,
and Arabic first names one letter apart are different names (سعيد/سعد, حسن/حسين)."""
LAST_NAME_MIN = 0.75
THRESHOLD = 0.85
"""From this score on, two records are a possible duplicate."""

WEIGHTS = {"first": 0.45, "last": 0.25, "birth": 0.30}
SAME_PHONE_BONUS = 0.10


@dataclass(frozen=True)
class Identity:
    """What the check compares of a learner's record."""

    first_name_ar: str
    last_name_ar: str
    first_name_latin: str
    last_name_latin: str
    birth_date: date
    sex: str
    guardian_phone: str | None = None
    massar_code: str | None = None


# The article, and the prosthetic alef of امحمد (M'hamed) or امبارك (M'barek), are left out.
_ARABIC_ARTICLE = re.compile("^(?:ال|ا(?=م))(?=..)")
# A final alef, alef with hamza or alef maqsura folds with taa marbuta: الزهراء = الزهرة.
_ARABIC_FINAL = re.compile("(?:اء|ا|ه|ي)$")


def _arabic_words(name: str) -> tuple[str, ...]:
    # عبد and the name after it are one name: عبد الله = عبدالله, بن علي = بنعلي.
    words: list[str] = []
    for word in (normalise_arabic(word) for word in name.split()):
        if words and words[-1] in ("عبد", "بن", "ابو", "بو"):
            words[-1] += word
        elif word:
            words.append(word)
    return tuple(_ARABIC_FINAL.sub("ه", _ARABIC_ARTICLE.sub("", word)) for word in words)


def _latin_words(name: str) -> tuple[str, ...]:
    return tuple(key for word in re.split(r"[\s\-]+", name) if (key := normalise_latin(word)))


@dataclass(frozen=True)
class Spelling:
    """A name as the check compares it: its words in each script, normalised once."""

    arabic: tuple[str, ...]
    latin: tuple[str, ...]

    @classmethod
    def of(cls, arabic: str, latin: str) -> Spelling:
        return cls(_arabic_words(arabic), _latin_words(latin))


@dataclass(frozen=True)
class Record:
    """An identity with its first and family names spelt for the check: a learner's record is
    compared with many others, its names normalised once."""

    identity: Identity
    first: Spelling
    last: Spelling

    @classmethod
    def of(cls, identity: Identity) -> Record:
        return cls(
            identity,
            Spelling.of(identity.first_name_ar, identity.first_name_latin),
            Spelling.of(identity.last_name_ar, identity.last_name_latin),
        )


def _same_or_part(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same words, or every word of the shorter among the longer's (a compound name
    written in full or shortened)."""
    shorter, longer = sorted((a, b), key=len)
    return bool(shorter) and all(word in longer for word in shorter)


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100


def spelling_similarity(a: Spelling, b: Spelling) -> float:
    """How alike two spellings of a name are (1 = the same name), from both scripts."""
    if _same_or_part(a.arabic, b.arabic):
        return 1.0
    latin_score = max(
        _ratio("".join(a.latin), "".join(b.latin)),
        0.95 if _same_or_part(a.latin, b.latin) else 0.0,
    )
    return (latin_score + _ratio("".join(a.arabic), "".join(b.arabic))) / 2


def birth_similarity(a: date, b: date) -> float:
    """How likely two birth dates are one date typed twice (0 beyond the tolerance)."""
    if a == b:
        return 1.0
    if abs((a - b).days) > BIRTH_TOLERANCE_DAYS:
        return 0.0
    if a.year == b.year and (a.month, a.day) == (b.day, b.month):
        return 0.9  # day and month swapped
    if a.year == b.year and (a.month == b.month or (1, 1) in ((a.month, a.day), (b.month, b.day))):
        return 0.8  # a day typed wrong, or only the year known (recorded as 1 January)
    if (a.month, a.day) == (b.month, b.day):
        return 0.7  # the year typed wrong
    if abs((a - b).days) <= 31:
        return 0.6
    return 0.2


def score(a: Identity, b: Identity) -> float:
    """How likely ``a`` and ``b`` are the same person, from 0 to 1."""
    return record_score(Record.of(a), Record.of(b))


def record_score(a_record: Record, b_record: Record) -> float:
    """:func:`score` of two records whose names are already spelt for the check."""
    a, b = a_record.identity, b_record.identity
    if a.massar_code and b.massar_code:
        # The Ministry gives each pupil one code: two codes are two pupils.
        return 1.0 if a.massar_code == b.massar_code else 0.0
    if a.sex != b.sex:
        return 0.0
    birth = birth_similarity(a.birth_date, b.birth_date)
    if birth == 0.0:
        return 0.0
    first = spelling_similarity(a_record.first, b_record.first)
    last = spelling_similarity(a_record.last, b_record.last)
    if first < FIRST_NAME_MIN or last < LAST_NAME_MIN:
        return 0.0
    total = WEIGHTS["first"] * first + WEIGHTS["last"] * last + WEIGHTS["birth"] * birth
    if a.guardian_phone and a.guardian_phone == b.guardian_phone:
        total += SAME_PHONE_BONUS
    return round(min(total, 1.0), 3)


def possible_duplicate(a: Identity, b: Identity) -> bool:
    return score(a, b) >= THRESHOLD


class Spellings:
    """The names met in one check, each spelt once: the records compared with a learner's
    share a few common names."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], Spelling] = {}

    def _of(self, arabic: str, latin: str) -> Spelling:
        spelling = self._known.get((arabic, latin))
        if spelling is None:
            spelling = self._known[arabic, latin] = Spelling.of(arabic, latin)
        return spelling

    def record(self, identity: Identity) -> Record:
        return Record(
            identity,
            self._of(identity.first_name_ar, identity.first_name_latin),
            self._of(identity.last_name_ar, identity.last_name_latin),
        )

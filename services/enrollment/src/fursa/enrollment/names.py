"""When two spellings of a learner's name are the same name: normalisation for duplicate checks.

Plain Python, no framework. Arabic spellings differ in hamza and alef forms, taa marbuta, alef
maqsura, vowel marks and tatweel; Latin transliterations of the same Arabic name differ in
vowels written as ``ou``/``u``/``o``, ``ch``/``sh``, the article (``El-``, ``Al ``), doubled
letters, accents, hyphens and spaces. Each normalisation maps the variants of one name to one
key, and keeps apart names that really differ (Hassan/Houssine, twins' names; Karim/Karima).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, tatweel
_ARABIC_LETTERS = str.maketrans(
    {
        "\u0623": "\u0627",  # أ → ا
        "\u0625": "\u0627",  # إ → ا
        "\u0622": "\u0627",  # آ → ا
        "\u0671": "\u0627",  # ٱ → ا
        "\u0624": "\u0648",  # ؤ → و
        "\u0626": "\u064a",  # ئ → ي
        "\u0649": "\u064a",  # ى → ي
        "\u06cc": "\u064a",  # ی (Persian yeh) → ي
        "\u0629": "\u0647",  # ة → ه
        "\u06a9": "\u0643",  # ک (keheh) → ك
        "\u0621": None,  # a bare hamza is written or left out
    }
)
_SEPARATORS = re.compile(r"[\s\-'\u2019]+")


def normalise_arabic(name: str) -> str:
    """One spelling for the variants of an Arabic name: ``عبد الله`` = ``عبدالله``,
    ``فاطِمة`` = ``فاطمه``, ``إيمان`` = ``ايمان``, ``ليلى`` = ``ليلي``."""
    decomposed = unicodedata.normalize("NFKC", name)
    return _SEPARATORS.sub("", _ARABIC_MARKS.sub("", decomposed).translate(_ARABIC_LETTERS))


# Rewrites applied in order to a lower-case, accent-free word (French and English habits of
# transliterating Moroccan Arabic names).
_LATIN_REWRITES: tuple[tuple[str, str], ...] = (
    (r"^ou(?=[aei])", "w"),  # Ouafae = Wafae
    (r"tch", "ch"),
    (r"dj", "j"),  # Khadidja = Khadija
    (r"ch", "sh"),  # Aicha = Aisha
    (r"ph", "f"),
    (r"ck", "k"),
    (r"c(?=[eiy])", "s"),  # Youcef = Youssef
    (r"c", "k"),
    (r"q", "k"),  # Qassimi = Kassimi
    (r"gu(?=[ei])", "g"),
    (r"th", "t"),
    (r"(?<=[aeiou])y|y$", "i"),  # Chaymae = Chaimae, Aly = Ali
    (r"(?:ae|aa|ah|a)$", "A"),  # final a, ae, ah: the taa marbuta of Fatima, Chaimae, Latifah
    (r"(?<=[^aeiou])e$", ""),  # a silent final e: Amine = Amin
    (r"ou|oo|o|w(?=[^aeiou]|$)", "u"),  # Youssef = Yusef, Mohamed = Muhamed
    (r"ei", "i"),  # Hussein = Houssine
    (r"e", "a"),  # e stands for a short a: Mohamed = Muhammad, Ahmed = Ahmad, Selma = Salma
    (r"(.)\1+", r"\1"),  # doubled letters: Mohammed = Mohamed
)
_LATIN_RULES = [(re.compile(pattern), replacement) for pattern, replacement in _LATIN_REWRITES]
_ARTICLE = re.compile(r"^(?:el|al)$")
_GLUED_ARTICLE = re.compile(r"^(?:el|al)(?=[a-z]{3,})")


def _latin_word(word: str) -> str:
    for pattern, replacement in _LATIN_RULES:
        word = pattern.sub(replacement, word)
    return word.lower()


def normalise_latin(name: str) -> str:
    """One key for the transliterations of a name: ``El-Idrissi`` = ``Al Idrissi`` =
    ``Elidrissi``, ``Mohammed`` = ``Muhamad``, ``Aïcha`` = ``Aisha``, ``Ben Ali`` = ``Benali``."""
    plain = "".join(
        char
        for char in unicodedata.normalize("NFKD", name.lower())
        if not unicodedata.combining(char)
    )
    words = [word for word in _SEPARATORS.split(plain) if word]
    if len(words) > 1 and _ARTICLE.match(words[0]):
        words = words[1:]
    # Written glued or not at all, the article goes too: Elidrissi = Idrissi, Alaoui = El Alaoui.
    joined = _GLUED_ARTICLE.sub("", re.sub(r"[^a-z]", "", "".join(words)))
    return _latin_word(joined)


_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def is_arabic(text: str) -> bool:
    """Whether ``text`` is written in Arabic script (any Arabic letter in it)."""
    return _ARABIC_SCRIPT.search(text) is not None


def normalise(name: str) -> str:
    """The key of a name in whichever script it is written."""
    return normalise_arabic(name) if is_arabic(name) else normalise_latin(name)


def search_key(*names: str | None) -> str:
    """What a search by name looks into: each name normalised (in its own script), between
    spaces. A name search matches when every word of the query, normalised the same way, is
    found in it (see :func:`search_words`)."""
    keys = [normalise(name) for name in names if name]
    return " " + " ".join(key for key in keys if key) + " "


def search_words(query: str) -> list[str]:
    """The normalised words of a name search (``El`` and ``Al`` alone are left out: every
    other name holds them)."""
    words = [word for word in _SEPARATORS.split(query.strip()) if word]
    keys = [normalise(word) for word in words if not _ARTICLE.match(word.lower())]
    return [key for key in keys if key]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def identity_keys(
    *,
    first_name_ar: str,
    last_name_ar: str,
    first_name_latin: str,
    last_name_latin: str,
    birth_date: date,
    guardian_phone: str,
    massar_code: str | None,
) -> list[str]:
    """The keys under which a learner is known: the same key means the same learner.

    The same Massar code, or the same normalised name (in either script) with the same birth
    date and guardian phone. Keys are digests: the table that holds them holds no names.
    """
    born, phone = birth_date.isoformat(), guardian_phone
    arabic = normalise_arabic(first_name_ar) + " " + normalise_arabic(last_name_ar)
    latin = normalise_latin(first_name_latin) + " " + normalise_latin(last_name_latin)
    keys = [
        "ar:" + _digest(arabic, born, phone),
        "latin:" + _digest(latin, born, phone),
    ]
    if massar_code:
        keys.append("massar:" + _digest(massar_code.upper()))
    return keys

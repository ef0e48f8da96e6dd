"""Arabic first, French second: the console's two catalogues and Moroccan formats.

Every string a page shows goes through one gettext catalogue per language
(``locale/<lang>/LC_MESSAGES/console.po``, extracted from the templates and the code with
Babel). The ``.po`` files are the only source: they are compiled in memory when the console
starts, so no compiled ``.mo`` can drift from them. Dates and numbers are CLDR's ``ar_MA`` and
``fr_MA``: Moroccan month names (شتنبر, غشت) and Western digits, as Morocco writes them.
"""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Literal

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

Language = Literal["ar", "fr"]
LANGUAGES: tuple[Language, ...] = ("ar", "fr")
LOCALES: dict[Language, str] = {"ar": "ar_MA", "fr": "fr_MA"}
DIRECTION: dict[Language, str] = {"ar": "rtl", "fr": "ltr"}
# Each language named in itself (the switch offers the other one by its own name).
ENDONYMS: dict[Language, str] = {"ar": "العربية", "fr": "Français"}
DOMAIN = "console"
LOCALE_DIR = Path(__file__).parent / "locale"

# The person's chosen language, kept a year in its own cookie (it outlives sign-out).
LANGUAGE_COOKIE = "fursa_language"
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def catalogue_path(language: Language) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(language: Language) -> Translations:
    """The language's catalogue, compiled from its ``.po`` file."""
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=LOCALES[language], domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def language_of(request: Request, default: Language) -> Language:
    """The person's language: their choice (cookie), else their browser's, else ``default``."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default


def local_date(value: date | datetime | str | None, language: Language) -> str:
    """A date as a Moroccan reader writes it (``1 شتنبر 2025``, ``1 septembre 2025``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format="long", locale=LOCALES[language])


def local_number(value: float | int, language: Language) -> str:
    return format_decimal(value, locale=LOCALES[language])

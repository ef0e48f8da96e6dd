"""A region or a province named as a person reads it, in their language (from the programme's
table in the shared kernel); a code the table does not know is shown as a code."""

from __future__ import annotations

from collections.abc import Callable

from fursa.console.i18n import Language
from fursa.shared.territories import PROVINCES, REGIONS

Gettext = Callable[[str], str]


def region_name(code: str, language: Language, _: Gettext) -> str:
    """``جهة مراكش آسفي``, ``Région Marrakech-Safi``; ``Région 13`` for an unknown code."""
    known = REGIONS.get(code)
    return _("Region %(name)s") % {"name": getattr(known, language) if known else code}


def province_name(code: str, language: Language, _: Gettext) -> str:
    """``عمالة مراكش``, ``Préfecture de Marrakech`` (a prefecture's or a province's own name);
    ``Province 072`` for an unknown code."""
    known = PROVINCES.get(code)
    return getattr(known, language) if known else _("Province %(code)s") % {"code": code}

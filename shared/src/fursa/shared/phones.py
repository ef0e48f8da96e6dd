"""Guardians' phone numbers as SMS can reach them: Moroccan mobile numbers in E.164.

Numbers arrive typed in every way people write them (``06 12 34 56 78``, ``0712345678``,
``212612345678``, ``00212 6…``, ``+212 (0)6…``); Google's libphonenumber (the ``phonenumbers``
package) reads them with Morocco as the home region, and only a mobile number is kept, written
``+2126…`` or ``+2127…``. A landline (``05…``) or anything else is refused: no SMS reaches it.
"""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from pydantic import BeforeValidator

HOME_REGION = "MA"
_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


class NotAMobileNumberError(ValueError):
    """The text is not a Moroccan mobile number (the message names no digits)."""


def moroccan_mobile(text: str) -> str:
    """The E.164 form (``+2126XXXXXXXX`` / ``+2127XXXXXXXX``) of a Moroccan mobile number
    however it is typed; raises :class:`NotAMobileNumberError` otherwise."""
    candidate = text.strip()
    digits = "".join(char for char in candidate if char.isdigit())
    if not candidate.startswith(("+", "00")) and digits.startswith("212") and len(digits) >= 12:
        # Written with the country code but without "+" or "00" (212612345678).
        candidate = "+" + digits
    try:
        number = phonenumbers.parse(candidate, HOME_REGION)
    except phonenumbers.NumberParseException:
        raise NotAMobileNumberError("not a phone number") from None
    if (
        number.country_code != phonenumbers.country_code_for_region(HOME_REGION)
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise NotAMobileNumberError("not a Moroccan mobile number (06… or 07…)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _validated(value: object) -> object:
    return moroccan_mobile(value) if isinstance(value, str) else value


MoroccanMobile = Annotated[str, BeforeValidator(_validated)]
"""A request field holding a guardian's mobile: normalised to E.164 on the way in, and a 422
naming the field when it cannot be a Moroccan mobile number."""

"""Moroccan mobile numbers, however typed, become E.164; anything else is refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from fursa.shared.phones import MoroccanMobile, NotAMobileNumberError, moroccan_mobile


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0612345678", "+212612345678"),
        ("06 12 34 56 78", "+212612345678"),
        ("06-12-34-56-78", "+212612345678"),
        ("0712345678", "+212712345678"),
        ("212612345678", "+212612345678"),
        ("212 7 12 34 56 78", "+212712345678"),
        ("00212612345678", "+212612345678"),
        ("+212612345678", "+212612345678"),
        ("+212 (0)6 12 34 56 78", "+212612345678"),
        ("+2120712345678", "+212712345678"),
    ],
)
def test_a_moroccan_mobile_however_typed_becomes_e164(typed: str, e164: str) -> None:
    assert moroccan_mobile(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "0522123456",  # a landline in Casablanca: no SMS reaches it
        "+212522123456",
        "061234567",  # a digit short
        "06123456789",  # a digit too many
        "+33612345678",  # a French mobile
        "not a number",
        "",
    ],
)
def test_what_cannot_be_a_moroccan_mobile_is_refused(typed: str) -> None:
    with pytest.raises(NotAMobileNumberError):
        moroccan_mobile(typed)


class _Guardian(BaseModel):
    phone: MoroccanMobile


def test_a_request_field_is_normalised_or_fails_naming_the_field() -> None:
    assert _Guardian(phone="07 12 34 56 78").phone == "+212712345678"
    with pytest.raises(ValidationError) as failure:
        _Guardian(phone="0522123456")
    (error,) = failure.value.errors()
    assert error["loc"] == ("phone",)
    assert "Moroccan mobile" in error["msg"]

"""SMS encoding and segments: GSM-7 when every character allows it, UCS-2 otherwise, cut at
153 septets / 67 UCS-2 units behind a concatenation header."""

from __future__ import annotations

import pytest

from fursa.notify.sms_encoding import (
    MessageTooLongError,
    SmsEncoding,
    is_gsm7,
    segment,
    segment_count,
)


def test_plain_french_is_gsm7_and_fits_160_characters_in_one_sms() -> None:
    text = "Votre enfant est inscrit. " * 6 + "Merci!"[: 160 - 26 * 6]
    assert len(text) == 160
    sms = segment(text)
    assert sms.encoding is SmsEncoding.GSM7
    assert sms.count == 1
    assert len(sms.parts[0]) == 160
    assert segment_count(text + "x") == 2


def test_a_character_gsm_lacks_makes_the_whole_text_ucs2() -> None:
    assert is_gsm7("élève à l'école")  # é, è, à are in the GSM alphabet
    assert not is_gsm7("Fête")  # ê is not
    assert segment("Fête").encoding is SmsEncoding.UCS2


def test_long_gsm7_text_is_cut_at_153_septets_behind_a_header() -> None:
    sms = segment("a" * 306, reference=42)
    assert sms.count == 2
    for number, part in enumerate(sms.parts, start=1):
        assert part[:6] == bytes((0x05, 0x00, 0x03, 42, 2, number))
        assert len(part) - 6 == 153


def test_an_extended_character_costs_two_septets_and_is_never_cut_apart() -> None:
    assert len(segment("€" * 80).parts[0]) == 160  # one SMS: 80 escapes + 80 codes
    sms = segment("a" * 152 + "€" + "b" * 10)  # the escape would be septet 153
    assert sms.count == 2
    first, second = (part[6:] for part in sms.parts)
    assert len(first) == 152
    assert second[:2] == bytes((0x1B, 0x65))  # ESC e: the euro sign, whole


def test_arabic_is_ucs2_70_characters_single_and_67_per_segment() -> None:
    assert segment("س" * 70).count == 1
    sms = segment("س" * 201)
    assert sms.encoding is SmsEncoding.UCS2
    assert sms.count == 3
    assert [len(part) - 6 for part in sms.parts] == [134, 134, 134]
    assert sms.parts[0][6:8] == "س".encode("utf-16-be")


def test_a_surrogate_pair_is_never_cut_apart() -> None:
    sms = segment("ب" * 66 + "😀" + "ب" * 10)
    first = sms.parts[0][6:]
    assert len(first) == 132  # 66 letters; the emoji's two halves go on together
    assert sms.parts[1][6:10] == "😀".encode("utf-16-be")


def test_more_than_255_segments_is_refused() -> None:
    with pytest.raises(MessageTooLongError):
        segment("x" * 153 * 256)

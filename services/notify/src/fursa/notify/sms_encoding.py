"""How a text becomes SMS segments, each of which is paid for.

GSM 03.38 (7-bit) when every character is in its alphabet or its extension table (``€``,
``[``… take two septets), UCS-2 otherwise: Arabic, and any French text with a character GSM
lacks (``ê``, ``ç`` in lower case…). A text that fits one SMS (160 septets, 70 UCS-2 units)
is sent whole; a longer one is cut into segments of 153 septets or 67 UCS-2 units, each
carrying a 6-byte concatenation header (UDH, 8-bit reference) so that the phone reassembles
them. An escape and the character it introduces, or the two halves of a UTF-16 surrogate
pair, are never cut apart. The character tables are aiosmpplib's codecs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aiosmpplib import GSM7BitCodec, UCS2Codec

GSM_SINGLE = 160
GSM_SEGMENT = 153
UCS2_SINGLE = 70
UCS2_SEGMENT = 67
MAX_SEGMENTS = 255
_ESCAPE = 0x1B


class SmsEncoding(StrEnum):
    """The encodings' names as aiosmpplib knows them (``data_coding`` 0 and 8)."""

    GSM7 = "gsm0338"
    UCS2 = "ucs2"

    @property
    def metric(self) -> str:
        """The encoding's name in metrics and usage figures."""
        return "gsm7" if self is SmsEncoding.GSM7 else "ucs2"


class MessageTooLongError(ValueError):
    """More than 255 segments: no phone can reassemble it."""


@dataclass(frozen=True)
class SmsSegments:
    """A text as the SMSC receives it: one ``short_message`` per segment (with its UDH when
    there are several)."""

    encoding: SmsEncoding
    parts: tuple[bytes, ...]

    @property
    def count(self) -> int:
        return len(self.parts)

    @property
    def concatenated(self) -> bool:
        return len(self.parts) > 1


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` has a GSM 03.38 code."""
    return bool(GSM7BitCodec.is_gsm_text(text))


def segment(text: str, reference: int = 0) -> SmsSegments:
    """The segments of ``text``; ``reference`` (0..255) ties a long message's segments
    together on the phone, so it should differ between messages to the same number."""
    if is_gsm7(text):
        septets = GSM7BitCodec().to_gsm_codes(text)
        chunks = _cut(septets, GSM_SINGLE, GSM_SEGMENT, lambda unit: unit == _ESCAPE)
        return _with_headers(SmsEncoding.GSM7, [bytes(chunk) for chunk in chunks], reference)
    encoded = UCS2Codec().encode(text)[0]
    units = [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]
    chunks = _cut(units, UCS2_SINGLE, UCS2_SEGMENT, lambda unit: 0xD800 <= unit <= 0xDBFF)
    parts = [b"".join(unit.to_bytes(2, "big") for unit in chunk) for chunk in chunks]
    return _with_headers(SmsEncoding.UCS2, parts, reference)


def segment_count(text: str) -> int:
    """How many SMS ``text`` costs."""
    return segment(text).count


def _cut(units: list[int], single: int, size: int, leads: Callable[[int], bool]) -> list[list[int]]:
    if len(units) <= single:
        return [units]
    chunks: list[list[int]] = []
    start = 0
    while start < len(units):
        end = min(start + size, len(units))
        if end < len(units) and leads(units[end - 1]):
            end -= 1  # keep an escape or a high surrogate with what follows it
        chunks.append(units[start:end])
        start = end
    if len(chunks) > MAX_SEGMENTS:
        raise MessageTooLongError(f"{len(chunks)} segments")
    return chunks


def _with_headers(encoding: SmsEncoding, parts: list[bytes], reference: int) -> SmsSegments:
    if len(parts) == 1:
        return SmsSegments(encoding, (parts[0],))
    total = len(parts)
    # IEI 0x00: concatenated short messages, 8-bit reference; then total and sequence number.
    return SmsSegments(
        encoding,
        tuple(
            bytes((0x05, 0x00, 0x03, reference & 0xFF, total, number)) + part
            for number, part in enumerate(parts, start=1)
        ),
    )

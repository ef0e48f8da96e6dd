"""Revocation as a W3C Bitstring Status List (VC Bitstring Status List v1.0).

Each certificate gets a stable index at issuance, never reused. Index `i` lives in list
`i // LIST_BITS` at position `i % LIST_BITS`; its bit is 1 once the certificate is revoked.
A list is published as a `BitstringStatusListCredential` whose `encodedList` is the bitstring
GZIP-compressed and multibase-encoded (base64url without padding, prefix `u`), bit 0 being the
most significant bit of the first byte, as the specification says. Every list has the
specification's minimum size, 16 KiB (131,072 bits), so that one revocation cannot be told
apart from its neighbours by the list's length (herd privacy).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

LIST_BITS = 131_072
REVOCATION = "revocation"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# mtime=0 keeps the compressed bytes, and so the signed list, the same for the same bits.
_GZIP_MTIME = 0


@dataclass(frozen=True)
class StatusPosition:
    """Where a certificate's revocation bit lives: which list, and which bit of it."""

    list_number: int
    bit: int

    @classmethod
    def of(cls, status_index: int) -> StatusPosition:
        if status_index < 0:
            raise ValueError("status indexes start at 0")
        return cls(status_index // LIST_BITS, status_index % LIST_BITS)


def list_url(public_base_url: str, list_number: int) -> str:
    """The stable address of a revocation list's status list credential."""
    return f"{public_base_url.rstrip('/')}/status-lists/{REVOCATION}/{list_number}"


def status_entry(public_base_url: str, status_index: int) -> dict[str, Any]:
    """A credential's `credentialStatus`: a `BitstringStatusListEntry` for revocation."""
    position = StatusPosition.of(status_index)
    url = list_url(public_base_url, position.list_number)
    return {
        "id": f"{url}#{position.bit}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": REVOCATION,
        "statusListIndex": str(position.bit),
        "statusListCredential": url,
    }


def encode_bits(set_bits: Iterable[int], size: int = LIST_BITS) -> str:
    """The `encodedList` of a bitstring of `size` bits where only `set_bits` are 1."""
    bitstring = bytearray(size // 8)
    for bit in set_bits:
        if not 0 <= bit < size:
            raise ValueError(f"bit {bit} is outside a list of {size} bits")
        bitstring[bit // 8] |= 0x80 >> (bit % 8)
    compressed = gzip.compress(bytes(bitstring), mtime=_GZIP_MTIME)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def status_list_credential(
    *,
    public_base_url: str,
    issuer: str,
    list_number: int,
    revoked_bits: Iterable[int],
    valid_from: str,
) -> dict[str, Any]:
    """The (unsigned) `BitstringStatusListCredential` of one revocation list."""
    url = list_url(public_base_url, list_number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": REVOCATION,
            "encodedList": encode_bits(revoked_bits),
        },
    }

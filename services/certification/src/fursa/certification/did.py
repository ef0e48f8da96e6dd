"""The issuer as a `did:web` DID: the same Ed25519 keys as the JWK Set, as a DID document.

`did:web:verify.fursa.ma` resolves to `https://verify.fursa.ma/.well-known/did.json`; a public
address with a path (`https://fursa.ma/certification`) gives `did:web:fursa.ma:certification`,
which resolves to `…/certification/did.json` (the did:web method specification). Each key is a
`JsonWebKey2020` verification method whose fragment is the key's id in the JWK Set, so a
credential's JOSE `kid` (`did:web:…#<key id>`) names the same key in both documents. Retired
keys stay listed: credentials they signed still verify.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]


def did_web(public_base_url: str) -> str:
    """The issuer's DID for its public address (a port is percent-encoded, `%3A`)."""
    address = urlsplit(public_base_url)
    host = quote(address.netloc, safe="")
    path = [quote(segment, safe="") for segment in address.path.split("/") if segment]
    return ":".join(["did:web", host, *path])


def verification_method_id(public_base_url: str, key_id: str) -> str:
    """A key's DID URL: the JOSE `kid` of what it signs."""
    return f"{did_web(public_base_url)}#{key_id}"


def did_document(
    public_base_url: str, *, public_keys: list[dict[str, Any]], also_known_as: str
) -> dict[str, Any]:
    """The DID document: every published key (its `kid` as the fragment) may assert
    credentials; `alsoKnownAs` is the issuer's Open Badges profile."""
    did = did_web(public_base_url)
    methods = [
        {
            "id": f"{did}#{key['kid']}",
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": key,
        }
        for key in public_keys
    ]
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "alsoKnownAs": [also_known_as],
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }

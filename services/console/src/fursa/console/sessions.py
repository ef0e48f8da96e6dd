"""Sessions in an encrypted, http-only cookie, and the CSRF token of every form.

The console has no database, so a person's session travels in their cookie: the access token
the services accept, their name and their CSRF token. Starlette's session cookie is only
signed (anyone holding it could read the token inside), so here it is encrypted and
authenticated with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
``FURSA_CONSOLE_SESSION_KEY``; its age is checked on every request. The cookie is http-only
(no page script ever sees the token), Secure and SameSite=Lax (sent on the identity provider's
redirect back, which is a top-level GET, never on a cross-site POST).
"""

from __future__ import annotations

import hmac
import secrets
from base64 import urlsafe_b64encode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp

COOKIE = "fursa_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class Sealer:
    """What Starlette's session middleware calls a signer: here it encrypts as well."""

    def __init__(self, secret: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"fursa-console-session"
        ).derive(secret.encode())
        self._fernet = Fernet(urlsafe_b64encode(key))

    def sign(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def unsign(self, data: bytes, max_age: int | None = None) -> bytes:
        try:
            return self._fernet.decrypt(data, ttl=max_age)
        except InvalidToken as exc:
            raise BadSignature("the session cookie is not one of ours, or it is too old") from exc


class EncryptedSessionMiddleware(SessionMiddleware):
    """Starlette's session middleware with an encrypted cookie (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, secret: str, max_age: int) -> None:
        super().__init__(
            app,
            secret_key=secret,
            session_cookie=COOKIE,
            max_age=max_age,
            same_site="lax",
            https_only=True,
        )
        self.signer = Sealer(secret)  # type: ignore[assignment]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (every form carries it)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    """Whether a form's (or htmx request's) token is the session's own."""
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and submitted is not None
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )

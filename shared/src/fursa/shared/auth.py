"""Who is calling, and what they may see: bearer JWTs, roles and per-object scope.

Production verifies tokens against the identity provider's keys (a JWKS URL, or an OIDC issuer
whose discovery document names it). Development verifies them with a local key, which
``fursa token`` uses to mint tokens; that key is refused outside development (see settings).

A route first admits the roles it serves (:func:`allow`; :data:`Staff` for the programme's
staff): any other role is refused with 403, the route itself not being secret. Within those
roles, every route scopes what it reads through :class:`Principal`: an object outside the
caller's association, center or territory is answered with 404, exactly as if it did not
exist, so ids of other associations cannot be probed.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, false, true

from fursa.shared.problems import Problem
from fursa.shared.settings import DEV_TOKEN_KEY

AUDIENCE = "fursa"
DEV_ISSUER = "fursa-development"
DEV_ALGORITHM = "HS256"
DEV_TOKEN_TTL_S = 12 * 3600


class Role(enum.StrEnum):
    ASSOCIATION_STAFF = "association_staff"  # bound to an association
    EDUCATOR = "educator"  # bound to a center
    ENTRAIDE_OFFICER = "entraide_officer"  # bound to a region
    DIRECTORATE = "directorate"  # bound to a province or a region
    PARTNER = "partner"  # a partner organisation's system
    ADMIN = "admin"


# What binds each role, checked when a token is read: a token without it is refused.
REQUIRED_BINDING: dict[Role, tuple[str, ...]] = {
    Role.ASSOCIATION_STAFF: ("association_id",),
    Role.EDUCATOR: ("center_id",),
    Role.ENTRAIDE_OFFICER: ("region_code",),
    Role.DIRECTORATE: ("province_code", "region_code"),
    Role.PARTNER: ("partner_id",),
    Role.ADMIN: (),
}


# Everyone who works inside the programme; partner systems read only PII-free feeds.
PROGRAMME_STAFF: tuple[Role, ...] = (
    Role.ADMIN,
    Role.ENTRAIDE_OFFICER,
    Role.DIRECTORATE,
    Role.ASSOCIATION_STAFF,
    Role.EDUCATOR,
)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a role and what it is bound to."""

    subject: str
    role: Role
    association_id: str | None = None
    center_id: str | None = None
    region_code: str | None = None
    province_code: str | None = None
    partner_id: str | None = None

    def sees(
        self,
        *,
        association_id: str | None = None,
        center_id: str | None = None,
        region_code: str | None = None,
        province_code: str | None = None,
    ) -> bool:
        """Whether an object placed at this association/center/territory is visible to the caller.

        Callers pass what the object carries; a binding the object does not carry denies.
        """
        match self.role:
            case Role.ADMIN:
                return True
            case Role.ASSOCIATION_STAFF:
                return association_id is not None and association_id == self.association_id
            case Role.EDUCATOR:
                return center_id is not None and center_id == self.center_id
            case Role.ENTRAIDE_OFFICER:
                return region_code is not None and region_code == self.region_code
            case Role.DIRECTORATE:
                if self.province_code is not None:
                    return province_code is not None and province_code == self.province_code
                return region_code is not None and region_code == self.region_code
            case Role.PARTNER:
                return False

    def visible(
        self,
        *,
        association: ColumnElement[Any] | None = None,
        center: ColumnElement[Any] | None = None,
        region: ColumnElement[Any] | None = None,
        province: ColumnElement[Any] | None = None,
    ) -> ColumnElement[bool]:
        """The SQL condition for rows visible to the caller, given the columns that place them.

        The same rule as :meth:`sees`, for lists and counts: ``query.where(principal.visible(
        association=Enrollment.association_id, center=Enrollment.center_id))``. A binding the
        table has no column for matches nothing.
        """
        column: ColumnElement[Any] | None
        match self.role:
            case Role.ADMIN:
                return true()
            case Role.ASSOCIATION_STAFF:
                column, value = association, self.association_id
            case Role.EDUCATOR:
                column, value = center, self.center_id
            case Role.ENTRAIDE_OFFICER:
                column, value = region, self.region_code
            case Role.DIRECTORATE if self.province_code is not None:
                column, value = province, self.province_code
            case Role.DIRECTORATE:
                column, value = region, self.region_code
            case Role.PARTNER:
                return false()
        if column is None or value is None:
            return false()
        return column == value

    def ensure_sees(self, **placement: str | None) -> None:
        """Raise 404 unless the object is visible (never 403: ids must not be probeable)."""
        if not self.sees(**placement):
            raise Problem.not_found()


# How many verified tokens a service remembers (a few hundred bytes each): more than the callers
# active within a token's lifetime, so that each token is verified about once.
VERIFIED_TOKENS_KEPT = 4096


class TokenVerifier:
    """Verifies bearer tokens: a JWKS (production) or the development key.

    A caller sends the same token with every request until it expires, so a token verified once
    is remembered, by its exact text, until its ``exp`` (at most ``cache_size`` tokens, the
    oldest forgotten first): the signature and claims are checked once per token, not once per
    request. A refused token is never remembered: it is checked again each time it comes.
    """

    def __init__(
        self,
        *,
        dev_secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str = AUDIENCE,
        cache_size: int = VERIFIED_TOKENS_KEPT,
    ) -> None:
        if not dev_secret and not jwks_url:
            raise ValueError("a token verifier needs a JWKS URL or a development key")
        if cache_size < 1:
            raise ValueError("a token verifier remembers at least one token")
        self.dev_secret = dev_secret
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600) if jwks_url else None
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_oidc_issuer(cls, issuer: str, audience: str = AUDIENCE) -> TokenVerifier:
        """Discover the issuer's JWKS from its OpenID configuration."""
        discovery = httpx.get(
            issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10
        ).raise_for_status()
        return cls(jwks_url=discovery.json()["jwks_uri"], issuer=issuer, audience=audience)

    def verify(self, token: str) -> Principal:
        """The caller a token names, or :meth:`Problem.unauthorized` (expired, forged, …)."""
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if time.time() < expires_at:
                return principal
            del self._verified[token]
        principal, expires_at = self._check(token)
        if len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest remembered
        self._verified[token] = (principal, expires_at)
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256", "EdDSA"]
                issuer = self.issuer
            else:
                key, algorithms, issuer = self.dev_secret, [DEV_ALGORITHM], DEV_ISSUER
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=issuer,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.PyJWTError as exc:
            raise Problem.unauthorized(str(exc)) from exc
        return principal_from_claims(claims), float(claims["exp"])


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise Problem.unauthorized(f"unknown role {claims['role']!r}") from exc
    binding = REQUIRED_BINDING[role]
    if binding and not any(claims.get(name) for name in binding):
        raise Problem.unauthorized(f"a {role} token must carry {' or '.join(binding)}")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        association_id=claims.get("association_id"),
        center_id=claims.get("center_id"),
        region_code=claims.get("region_code"),
        province_code=claims.get("province_code"),
        partner_id=claims.get("partner_id"),
    )


def mint_dev_token(
    secret: str,
    *,
    role: Role,
    subject: str = "dev-user",
    ttl_s: int = DEV_TOKEN_TTL_S,
    **binding: str | None,
) -> str:
    """A development token signed with the local key (``fursa token`` and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": str(role),
        "iat": now,
        "exp": now + ttl_s,
    }
    claims.update({name: value for name, value in binding.items() if value is not None})
    principal_from_claims(claims)  # refuse to mint a token the services would refuse
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)


def dev_authorization(
    role: Role | str = Role.ADMIN, *, key: str = DEV_TOKEN_KEY, **binding: str | None
) -> dict[str, str]:
    """``Authorization`` headers with a development token (demo, tests, benchmarks)."""
    token = mint_dev_token(
        key, role=Role(role), subject=f"dev-{role}", ttl_s=DEV_TOKEN_TTL_S, **binding
    )
    return {"Authorization": f"Bearer {token}"}


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The FastAPI dependency behind every route: a valid bearer token or 401."""
    if credentials is None:
        raise Problem.unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (403 otherwise: the route itself is not secret).

    A coroutine, so that FastAPI runs it on the event loop rather than in a worker thread."""
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Problem.forbidden(principal.role, sorted(allowed))
        return principal

    return check


# The programme's staff, and only them: a partner's system is refused with 403 rather than
# answered as if its scope held nothing. Routes serving any caller (reference data) take
# :data:`CurrentPrincipal` instead.
programme_staff = allow(*PROGRAMME_STAFF)
Staff = Annotated[Principal, Depends(programme_staff)]

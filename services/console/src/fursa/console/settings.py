"""The console's configuration: ``FURSA_CONSOLE_*`` environment variables.

Development defaults run beside ``fursa up`` (the services on their usual ports, the development
sign-in, a fixed session key); production sets the identity provider, the console's client and
its own session key, and refuses to start on any development default.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fursa.shared.settings import DEV_TOKEN_KEY

# Encrypts development sessions; worthless by design, refused in production.
DEV_SESSION_KEY = "fursa-console-development-session-key-do-not-use"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_CONSOLE_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    port: int = 8005
    # Where the browser reaches the console (the sign-in's redirect URI is built on it).
    public_base_url: str = "http://127.0.0.1:8005"
    enrollment_url: str = "http://127.0.0.1:8001"
    training_url: str = "http://127.0.0.1:8002"
    certification_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    # Where the public reaches the certification service's verification pages (the address
    # printed on diplomas); the service's own address when not set.
    verification_url: str | None = None
    # The programme's identity provider (OpenID Connect) and the console's client there.
    oidc_issuer: str | None = None
    oidc_client_id: str = "fursa-console"
    oidc_client_secret: SecretStr | None = None
    # Signs the development sign-in's tokens: the key the services accept in development.
    auth_dev_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    # Encrypts the session cookie (any string; a key is derived from it).
    session_key: SecretStr = SecretStr(DEV_SESSION_KEY)
    session_max_age_s: int = 12 * 3600
    default_language: Literal["ar", "fr"] = "ar"
    service_timeout_s: float = 10.0

    @property
    def development(self) -> bool:
        return self.mode == "development"

    @property
    def development_sign_in(self) -> bool:
        """Signing in as a seeded person: in development, when the services trust the
        development key (no identity provider configured)."""
        return self.development and not self.oidc_issuer

    @property
    def verification_base_url(self) -> str:
        return self.verification_url or self.certification_url

    @property
    def service_urls(self) -> dict[str, str]:
        return {
            "enrollment": self.enrollment_url,
            "training": self.training_url,
            "certification": self.certification_url,
            "notify": self.notify_url,
        }

    @model_validator(mode="after")
    def refuse_defaults_outside_development(self) -> Self:
        if self.development:
            return self
        problems = []
        if not self.oidc_issuer or not self.oidc_client_secret:
            problems.append(
                "set FURSA_CONSOLE_OIDC_ISSUER and FURSA_CONSOLE_OIDC_CLIENT_SECRET: people "
                "sign in through the programme's identity provider"
            )
        if self.session_key.get_secret_value() == DEV_SESSION_KEY:
            problems.append("set FURSA_CONSOLE_SESSION_KEY: the development key is public")
        if self.auth_dev_key.get_secret_value() != DEV_TOKEN_KEY:
            problems.append("unset FURSA_CONSOLE_AUTH_DEV_KEY: there is no development sign-in")
        if not self.public_base_url.startswith("https://"):
            problems.append("set FURSA_CONSOLE_PUBLIC_BASE_URL to the console's https:// address")
        if problems:
            raise ValueError("refusing to start in production mode: " + "; ".join(problems))
        return self

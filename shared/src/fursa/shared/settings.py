"""Settings every service reads the same way: environment variables with the service's prefix.

Defaults are the embedded development platform (SQLite under var/, a local nats-server, a local
token key); a production deployment sets them all (``FURSA_<SERVICE>_DATABASE_URL`` and so
on). Outside development a default or missing secret stops the service at start, naming the
variable to set.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs development tokens (``fursa token``); worthless by design, refused in production.
DEV_TOKEN_KEY = "fursa-development-token-key-do-not-use-in-production"  # noqa: S105

# A tenth of the traces that start in a service: enough to follow the platform's paths and
# latencies, without the CPU of recording every span of every request and event.
PRODUCTION_TRACE_SAMPLE_RATIO = 0.1


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    mode: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///var/service.db"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    auth_dev_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    auth_jwks_url: str | None = None
    auth_oidc_issuer: str | None = None
    max_body_bytes: int = 1_048_576
    relay_batch_size: int = 500
    consumer_batch_size: int = 200
    # How long a consumer's pull waits for the next event. A graceful stop lets the pull in
    # flight finish (what it brings is applied, never left un-acked), so this is also the
    # longest a stop waits for consumers; tests shorten it.
    consumer_fetch_timeout_s: float = 1.0
    # Seconds between retries of a failing event, by delivery number (the last one repeats).
    retry_delays_s: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120)
    public_base_url: str = "http://127.0.0.1:8000"
    # The language of error answers (and of pages) when the caller's Accept-Language names
    # neither Arabic nor French: Arabic, the programme's first language, unless set.
    default_language: Literal["ar", "fr"] = "ar"
    # The share of traces recorded where they start (a request or event without a parent);
    # spans with a parent follow its decision. Unset: all of them in development (and tests),
    # PRODUCTION_TRACE_SAMPLE_RATIO in production.
    trace_sample_ratio: Annotated[float, Field(ge=0, le=1)] | None = None

    def traces_sampled(self) -> float:
        """The ratio of new traces to record (``trace_sample_ratio``, else the mode's default)."""
        if self.trace_sample_ratio is not None:
            return self.trace_sample_ratio
        return 1.0 if self.mode == "development" else PRODUCTION_TRACE_SAMPLE_RATIO

    def env_name(self, field: str) -> str:
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    def production_problems(self) -> list[str]:
        """What stops this configuration from running outside development (subclasses add)."""
        problems = []
        if not (self.auth_jwks_url or self.auth_oidc_issuer):
            problems.append(
                f"set {self.env_name('auth_jwks_url')} or {self.env_name('auth_oidc_issuer')}: "
                "the development token key is refused outside development"
            )
        if self.auth_dev_key.get_secret_value() != DEV_TOKEN_KEY:
            problems.append(
                f"unset {self.env_name('auth_dev_key')}: "
                "development tokens are refused in production"
            )
        if not self.nats_user or not self.nats_password:
            problems.append(
                f"set {self.env_name('nats_user')} and {self.env_name('nats_password')}: "
                "every service connects to NATS as its own user"
            )
        if self.database_url.startswith("sqlite") and "var/" in self.database_url:
            problems.append(f"set {self.env_name('database_url')}: the default is a local file")
        return problems

    @model_validator(mode="after")
    def refuse_defaults_outside_development(self) -> Self:
        if self.mode != "development":
            problems = self.production_problems()
            if problems:
                raise ValueError("refusing to start in production mode: " + "; ".join(problems))
        return self

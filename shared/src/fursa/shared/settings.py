"""Settings every service reads the same way: environment variables with the service's prefix.

Defaults are the embedded development platform (SQLite under var/, a local nats-server); a
production deployment sets them all (``FURSA_<SERVICE>_DATABASE_URL`` and so on).
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    mode: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///var/service.db"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    relay_batch_size: int = 500
    consumer_batch_size: int = 200
    # Seconds between retries of a failing event, by delivery number (the last one repeats).
    retry_delays_s: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120)
    public_base_url: str = "http://127.0.0.1:8000"

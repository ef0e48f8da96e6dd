"""The enrollment service's configuration: ``FURSA_ENROLLMENT_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_ENROLLMENT_", extra="ignore")

    port: int = 8001
    database_url: str = "sqlite:///var/enrollment.db"
    public_base_url: str = "http://127.0.0.1:8001"

"""The training service's configuration: ``FURSA_TRAINING_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class TrainingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_TRAINING_", extra="ignore")

    port: int = 8002
    database_url: str = "sqlite:///var/training.db"
    public_base_url: str = "http://127.0.0.1:8002"

"""Configuration of the notify service (environment variables `FURSA_NOTIFY_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_NOTIFY_", extra="ignore")

    port: int = 8004
    database_url: str = "sqlite:///var/notify.db"
    public_base_url: str = "http://127.0.0.1:8004"
    # The development platform's stand-in for the SMS gateway: one JSON line per message.
    sink_dir: Path = Path("var/notify-sink")

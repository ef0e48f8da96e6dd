"""Configuration of the notify service (environment variables `FURSA_NOTIFY_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_NOTIFY_", extra="ignore")

    port: int = 8004
    database_url: str = "sqlite:///var/notify.db"
    public_base_url: str = "http://127.0.0.1:8004"
    # SMS: an SMPP account (below) or an HTTP gateway (POST {to, text, reference}); without
    # either, the development platform's stand-in, one JSON line per message in
    # `sink_dir/sms.jsonl`.
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    # SMS over SMPP 3.4 (a provider's account; takes precedence over the HTTP gateway): one
    # transceiver bind, the account's throughput (messages/s) and window (awaiting answers).
    smpp_host: str | None = None
    smpp_port: int = 2775
    smpp_system_id: str | None = None
    smpp_password: SecretStr | None = None
    smpp_system_type: str = ""
    smpp_source_address: str = "Fursa"
    smpp_throughput_per_s: float = 10.0
    smpp_window: int = 10
    smpp_enquire_link_s: float = 30.0
    sink_dir: Path = Path("var/notify-sink")
    # E-mail over SMTP; `fursa up` runs a local SMTP sink and points these at it.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "Fursa <notifications@fursa.localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = False
    # Deliveries: attempt n waits between half and all of base * 2**(n-1) seconds (capped).
    delivery_max_attempts: int = 8
    delivery_backoff_base_s: float = 5.0
    delivery_backoff_cap_s: float = 3600.0
    delivery_send_timeout_s: float = 10.0
    delivery_poll_s: float = 1.0
    # A channel's messages to people go in this many lanes sent side by side (one recipient's
    # messages stay in one lane, in order); a crash re-sends at most one message per lane.
    delivery_lanes_per_channel: int = Field(default=4, ge=1, le=64)
    # This process's delivery worker by a name that its next start keeps (a container's
    # hostname, a replica's port): a worker killed mid-send leaves claims that its successor
    # of the same name takes back at once instead of after their lease (up to 130 s). Unset,
    # claims wait out their lease. Two live workers must never share a name.
    delivery_worker: str | None = None
    # Partner webhooks: per-call timeout, and how long a rotated secret keeps signing.
    webhook_timeout_s: float = 5.0
    webhook_secret_grace_s: float = 24 * 3600

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not (self.smpp_host or self.sms_gateway_url):
            problems.append(
                f"set {self.env_name('smpp_host')} (or {self.env_name('sms_gateway_url')}):"
                " the local SMS sink is for development"
            )
        if self.smpp_host and not (self.smpp_system_id and self.smpp_password):
            problems.append(
                f"set {self.env_name('smpp_system_id')} and {self.env_name('smpp_password')}"
            )
        return problems

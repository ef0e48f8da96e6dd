"""Configuration of the certification service (environment variables `FURSA_CERTIFICATION_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class CertificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_CERTIFICATION_", extra="ignore")

    port: int = 8003
    database_url: str = "sqlite:///var/certification.db"
    # Where the public verification pages live: printed on diplomas and sent to guardians.
    public_base_url: str = "http://127.0.0.1:8003"

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        # A verification link is printed on paper: a loopback or plain-HTTP address would
        # outlive the mistake.
        if not self.public_base_url.startswith("https://"):
            problems.append(
                f"set {self.env_name('public_base_url')} to the public https:// address "
                "of the verification pages"
            )
        return problems

"""Configuration of the certification service (environment variables `FURSA_CERTIFICATION_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from fursa.certification.domain import IssuancePolicy, default_policy
from fursa.shared.contracts import Pathway
from fursa.shared.settings import ServiceSettings


class CertificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_CERTIFICATION_", extra="ignore")

    port: int = 8003
    database_url: str = "sqlite:///var/certification.db"
    # Where the public verification pages live: printed on diplomas and sent to guardians.
    public_base_url: str = "http://127.0.0.1:8003"
    # Per pathway, e.g. '{"vocational_training": "automatic"}'. A pathway not named follows the
    # programme's default: diplomas (vocational training) await an officer's approval,
    # attestations are issued at once (`domain.default_policy`).
    issuance_policy: dict[Pathway, IssuancePolicy] = Field(default_factory=dict)
    # The issuer's Ed25519 keys as a JWK Set (JSON). The first key signs new credentials; every
    # key is published, so that credentials signed before a rotation still verify. A retired
    # key may be given by its public part only.
    signing_keys: SecretStr | None = None
    # Development only: where the generated development key is kept between runs.
    signing_keys_file: Path = Path("var/certification-signing-keys.json")
    # Who signs the diplomas of a region that has no signatory of its own (`PUT /signatories`):
    # the title printed, and the name (empty: a line for the name to be written by hand).
    signatory_name_ar: str = ""
    signatory_name_fr: str = ""
    signatory_title_ar: str = "المنسق الجهوي للتعاون الوطني"
    signatory_title_fr: str = "Le Coordinateur régional de l'Entraide Nationale"
    # Public verification requests allowed per client address (the `limits` notation), counted
    # apart: people's pages (one request a page; a mobile operator's address serves many
    # phones) and machines' JSON and credentials (a registrar's batch, which backs off on
    # Retry-After). The keys and the issuer profile are never limited.
    verification_page_rate_limit: str = "60/minute"
    verification_api_rate_limit: str = "120/minute"
    # Where the counts live: this process's memory, or e.g. `async+redis://…` shared by replicas.
    verification_rate_limit_storage: str = "async+memory://"
    # The issuer's emblem on the verification page (an SVG file); a neutral placeholder if unset.
    emblem_file: Path | None = None

    def policy_for(self, pathway: Pathway) -> IssuancePolicy:
        """Whether a passed training on this pathway is certified at once or on approval."""
        return self.issuance_policy.get(pathway) or default_policy(pathway)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        # A verification link is printed on paper: a loopback or plain-HTTP address would
        # outlive the mistake.
        if not self.public_base_url.startswith("https://"):
            problems.append(
                f"set {self.env_name('public_base_url')} to the public https:// address "
                "of the verification pages"
            )
        if self.signing_keys is None:
            problems.append(
                f"set {self.env_name('signing_keys')}: credentials are signed with the "
                "issuer's Ed25519 keys, never with a generated development key"
            )
        return problems

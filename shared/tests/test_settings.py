"""Outside development, a default or missing secret stops a service at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from fursa.shared.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_EXAMPLE_")


PRODUCTION = {
    "FURSA_EXAMPLE_MODE": "production",
    "FURSA_EXAMPLE_AUTH_JWKS_URL": "https://id.example.ma/jwks.json",
    "FURSA_EXAMPLE_NATS_USER": "example",
    "FURSA_EXAMPLE_NATS_PASSWORD": "s3cret-from-the-vault",
    "FURSA_EXAMPLE_DATABASE_URL": "postgresql://fursa@db/example",
}


def test_development_runs_on_defaults() -> None:
    assert ExampleSettings().mode == "development"


def test_complete_production_configuration_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert ExampleSettings().mode == "production"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"FURSA_EXAMPLE_AUTH_JWKS_URL": None}, "FURSA_EXAMPLE_AUTH_JWKS_URL"),
        ({"FURSA_EXAMPLE_AUTH_DEV_KEY": "my-own-key"}, "FURSA_EXAMPLE_AUTH_DEV_KEY"),
        ({"FURSA_EXAMPLE_NATS_PASSWORD": None}, "FURSA_EXAMPLE_NATS_PASSWORD"),
        ({"FURSA_EXAMPLE_DATABASE_URL": None}, "FURSA_EXAMPLE_DATABASE_URL"),
    ],
)
def test_production_refuses_a_default_or_missing_secret_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str | None], named: str
) -> None:
    for name, value in {**PRODUCTION, **change}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=named):
        ExampleSettings()

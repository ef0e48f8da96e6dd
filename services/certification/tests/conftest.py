"""The certification service running for real: its database, a nats-server, in-process HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.certification.app import MIGRATIONS, create_app
from fursa.certification.domain import IssuancePolicy
from fursa.certification.settings import CertificationSettings
from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import Pathway
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S

PUBLIC_BASE_URL = "https://verify.fursa.test"


AuthHeaders = Callable[..., dict[str, str]]


auth_headers = dev_authorization


@pytest.fixture
def migrations() -> Path:
    """Every database of these tests starts migrated to the service's head."""
    return MIGRATIONS


@pytest.fixture
def headers_for() -> AuthHeaders:
    """:func:`auth_headers` for tests (a conftest's functions are not importable)."""
    return auth_headers


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer, tmp_path: Path) -> CertificationSettings:
    return CertificationSettings(
        database_url=database_url,
        signing_keys_file=tmp_path / "signing-keys.json",
        nats_url=nats_server.url,
        public_base_url=PUBLIC_BASE_URL,
        retry_delays_s=(0.1,),
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
        # Issued on completion, so that tests of what a certificate is need no officer; the
        # officers' tests (test_certification_officers.py) run with the programme's default.
        issuance_policy={Pathway.VOCATIONAL_TRAINING: IssuancePolicy.AUTOMATIC},
    )


@pytest.fixture
async def app(settings: CertificationSettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    """The running service (consumers, relay and API); streams are provisioned first."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app

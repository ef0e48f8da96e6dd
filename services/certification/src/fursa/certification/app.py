"""The certification service's application.

Run with `uvicorn --factory fursa.certification.app:create_app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from fursa.certification import api, public_documents, verification
from fursa.certification.consumers import handlers
from fursa.certification.credentials import IssuerKeys
from fursa.certification.domain import Bilingual
from fursa.certification.models import AUDIT, KERNEL, Base, ErasedLearner
from fursa.certification.service import Issuer
from fursa.certification.settings import CertificationSettings
from fursa.shared.erasures import ErasureLedger
from fursa.shared.messaging.streams import LEARNER_ERASED
from fursa.shared.runtime import ServiceRuntime

# The service's Alembic history, run to head at every start.
MIGRATIONS = Path(__file__).with_name("migrations")

NAME = "certification"


def issuer_of(settings: CertificationSettings) -> Issuer:
    """The issuer as configured: its keys (a development key when none is set), its public
    address and the signatory printed on diplomas."""
    return Issuer(
        keys=IssuerKeys.for_settings(settings),
        public_base_url=settings.public_base_url,
        signatory_name=Bilingual(settings.signatory_name_ar, settings.signatory_name_fr),
        signatory_title=Bilingual(settings.signatory_title_ar, settings.signatory_title_fr),
    )


def create_app(settings: CertificationSettings | None = None) -> FastAPI:
    """Wire the certification service; nothing connects until the app's lifespan starts."""
    settings = settings or CertificationSettings()
    issuer = issuer_of(settings)
    consumed = handlers(settings, issuer)
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        metadata=Base.metadata,
        tables=KERNEL,
        handlers=consumed,
        migrations=MIGRATIONS,
        erasures=ErasureLedger(
            erased=select(col(ErasedLearner.learner_id)), forget=consumed[LEARNER_ERASED]
        ),
        audit=AUDIT,
    )
    app = runtime.app(
        [
            api.router,
            api.approvals,
            api.cohorts,
            api.signatory_routes,
            verification.pages,
            verification.verify,
            verification.router,
            public_documents.router,
        ],
        title="Fursa certification",
    )
    app.state.issuer = issuer
    verification.install(app, settings)
    return app

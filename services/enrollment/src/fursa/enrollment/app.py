"""The enrollment service's application: ``uvicorn --factory fursa.enrollment.app:create_app``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from fursa.enrollment.api import ROUTERS
from fursa.enrollment.audit import AUDIT
from fursa.enrollment.consumers import HANDLERS
from fursa.enrollment.duplicate_reviews import DuplicateReviews
from fursa.enrollment.erasure import LEDGER
from fursa.enrollment.learners import LearnerRecords
from fursa.enrollment.models import KERNEL, EnrollmentModel
from fursa.enrollment.reference import ReferenceData
from fursa.enrollment.service import EnrollmentService
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.runtime import ServiceRuntime

# The service's Alembic history, run to head at every start.
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: EnrollmentSettings | None = None) -> FastAPI:
    """Build the service; nothing connects or writes until the app's lifespan starts."""
    settings = settings or EnrollmentSettings()
    runtime = ServiceRuntime(
        name="enrollment",
        settings=settings,
        metadata=EnrollmentModel.metadata,
        tables=KERNEL,
        handlers=HANDLERS,
        migrations=MIGRATIONS,
        erasures=LEDGER,
        audit=AUDIT,
    )
    reference = ReferenceData(runtime.uow)
    app = runtime.app(list(ROUTERS), title="Fursa enrollment")
    app.state.enrollments = EnrollmentService(runtime.uow)
    app.state.reference = reference
    app.state.learners = LearnerRecords(runtime.uow)
    app.state.duplicates = DuplicateReviews(runtime.uow)
    if settings.mode == "development":
        _seed_demo_data_on_startup(app, reference)
    return app


def _seed_demo_data_on_startup(app: FastAPI, reference: ReferenceData) -> None:
    """Run the runtime's startup (tables, NATS, relay, consumers), then seed the demo data."""
    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            await reference.seed_demo_data()
            yield

    app.router.lifespan_context = lifespan

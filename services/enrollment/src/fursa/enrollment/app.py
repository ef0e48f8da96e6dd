"""The enrollment service's application: ``uvicorn --factory fursa.enrollment.app:create_app``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from fursa.enrollment.api import router
from fursa.enrollment.consumers import HANDLERS
from fursa.enrollment.models import KERNEL, EnrollmentModel
from fursa.enrollment.service import EnrollmentService
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.runtime import ServiceRuntime


def create_app(settings: EnrollmentSettings | None = None) -> FastAPI:
    """Build the service; nothing connects or writes until the app's lifespan starts."""
    settings = settings or EnrollmentSettings()
    runtime = ServiceRuntime(
        name="enrollment",
        settings=settings,
        metadata=EnrollmentModel.metadata,
        tables=KERNEL,
        handlers=HANDLERS,
        migrations=Path(__file__).with_name("migrations"),
    )
    service = EnrollmentService(runtime.uow)
    app = runtime.app([router], title="Fursa enrollment")
    app.state.enrollments = service
    if settings.mode == "development":
        _seed_demo_data_on_startup(app, service)
    return app


def _seed_demo_data_on_startup(app: FastAPI, service: EnrollmentService) -> None:
    """Run the runtime's startup (tables, NATS, relay, consumers), then seed the demo center."""
    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            await service.seed_demo_center()
            yield

    app.router.lifespan_context = lifespan

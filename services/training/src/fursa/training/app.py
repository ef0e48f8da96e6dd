"""The training service's application: ``uvicorn --factory fursa.training.app:create_app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from fursa.shared.runtime import ServiceRuntime
from fursa.training.api import router
from fursa.training.consumers import HANDLERS
from fursa.training.models import KERNEL, TrainingModel
from fursa.training.service import TrainingService
from fursa.training.settings import TrainingSettings

# The service's Alembic history, run to head at every start.
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: TrainingSettings | None = None) -> FastAPI:
    """Build the service; nothing connects or writes until the app's lifespan starts."""
    settings = settings or TrainingSettings()
    rules = settings.rules()
    runtime = ServiceRuntime(
        name="training",
        settings=settings,
        metadata=TrainingModel.metadata,
        tables=KERNEL,
        handlers=HANDLERS,
        migrations=MIGRATIONS,
    )
    app = runtime.app([router], title="Fursa training")
    app.state.trainings = TrainingService(runtime.uow, rules)
    return app

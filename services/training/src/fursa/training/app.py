"""The training service's application: ``uvicorn --factory fursa.training.app:create_app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from fursa.shared.erasures import ErasureLedger
from fursa.shared.runtime import ServiceRuntime
from fursa.training import correction_api, curriculum_api, follow_up_api, roster_api
from fursa.training.api import router
from fursa.training.audit import AUDIT
from fursa.training.center_curricula import CenterCurricula
from fursa.training.consumers import HANDLERS, learner_erased
from fursa.training.correcting import Corrections
from fursa.training.follow_up_reminders import FollowUpReminders, ReminderWorker
from fursa.training.models import KERNEL, ErasedLearner, TrainingModel
from fursa.training.rosters import Rosters
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
        erasures=ErasureLedger(erased=select(col(ErasedLearner.learner_id)), forget=learner_erased),
        audit=AUDIT,
    )
    routers = [
        router,
        curriculum_api.router,
        roster_api.router,
        correction_api.router,
        follow_up_api.router,
    ]
    app = runtime.app(routers, title="Fursa training")
    trainings = TrainingService(runtime.uow, rules)
    reminders = FollowUpReminders(runtime.uow)
    runtime.add_worker(ReminderWorker(reminders, period_s=settings.follow_up_reminder_period_s))
    app.state.trainings = trainings
    app.state.rosters = Rosters(runtime.uow)
    app.state.corrections = Corrections(trainings)
    app.state.curricula = CenterCurricula(runtime.uow, rules.curriculum)
    app.state.follow_up_reminders = reminders
    return app

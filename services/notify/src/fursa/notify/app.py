"""The notify service's application.

Run with `uvicorn --factory fursa.notify.app:create_app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from fursa.notify import api
from fursa.notify.channels import LocalSmsSink
from fursa.notify.consumers import handlers
from fursa.notify.models import KERNEL, Base
from fursa.notify.settings import NotifySettings
from fursa.shared.runtime import ServiceRuntime

NAME = "notify"


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    """Wire the notify service; nothing connects until the app's lifespan starts."""
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        metadata=Base.metadata,
        tables=KERNEL,
        handlers=handlers(LocalSmsSink(settings.sink_dir)),
        migrations=Path(__file__).with_name("migrations"),
    )
    return runtime.app([api.router], title="Fursa notify")

"""The certification service's application.

Run with `uvicorn --factory fursa.certification.app:create_app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from fursa.certification import api
from fursa.certification.consumers import handlers
from fursa.certification.models import KERNEL, Base
from fursa.certification.settings import CertificationSettings
from fursa.shared.runtime import ServiceRuntime

NAME = "certification"


def create_app(settings: CertificationSettings | None = None) -> FastAPI:
    """Wire the certification service; nothing connects until the app's lifespan starts."""
    settings = settings or CertificationSettings()
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        metadata=Base.metadata,
        tables=KERNEL,
        handlers=handlers(settings),
        migrations=Path(__file__).with_name("migrations"),
    )
    return runtime.app([api.router], title="Fursa certification")

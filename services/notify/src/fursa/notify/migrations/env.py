"""Alembic environment of the notify service: its own metadata, its own history."""

from fursa.notify.models import Base
from fursa.shared.migrations import run_migrations

run_migrations(Base.metadata)

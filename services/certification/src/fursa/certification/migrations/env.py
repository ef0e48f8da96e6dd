"""Alembic environment of the certification service: its own metadata, its own history."""

from fursa.certification.models import Base
from fursa.shared.migrations import run_migrations

run_migrations(Base.metadata)

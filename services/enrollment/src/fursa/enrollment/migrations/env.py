"""Alembic environment of the enrollment service: its own metadata, its own history."""

from fursa.enrollment.models import EnrollmentModel
from fursa.shared.migrations import run_migrations

run_migrations(EnrollmentModel.metadata)

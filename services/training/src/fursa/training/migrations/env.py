"""Alembic environment of the training service: its own metadata, its own history."""

from fursa.shared.migrations import run_migrations
from fursa.training.models import TrainingModel

run_migrations(TrainingModel.metadata)

"""Each service's Alembic history builds exactly the schema its models declare.

On SQLite and on PostgreSQL: migrate an empty database to head, then compare it with the
models. A model changed without a migration (or the reverse) fails here.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData

from fursa.shared.migrations import alembic_config, at_head, differences, heads, upgrade

SERVICES = {
    "enrollment": "EnrollmentModel",
    "training": "TrainingModel",
    "certification": "Base",
    "notify": "Base",
}


def service_schema(service: str) -> tuple[Path, MetaData]:
    package = import_module(f"fursa.{service}")
    models = import_module(f"fursa.{service}.models")
    metadata: MetaData = getattr(models, SERVICES[service]).metadata
    return Path(package.__path__[0]) / "migrations", metadata


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_migrations_build_what_the_models_declare(service: str, database_url: str) -> None:
    migrations, metadata = service_schema(service)
    upgrade(migrations, database_url)
    assert differences(database_url, metadata) == []
    # A second start of the service migrates again: nothing to do, nothing breaks.
    upgrade(migrations, database_url)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_only_a_database_at_the_last_revision_counts_as_migrated(
    service: str, database_url: str
) -> None:
    migrations, _metadata = service_schema(service)
    assert len(heads(migrations)) == 1
    assert not at_head(migrations, database_url)
    command.upgrade(alembic_config(migrations, database_url), "head-1")
    assert not at_head(migrations, database_url)
    upgrade(migrations, database_url)
    assert at_head(migrations, database_url)

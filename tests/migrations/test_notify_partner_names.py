"""notify's partner names become unique without losing a partner registered twice before.

A database where ``fursa partner add`` ran twice for one name (possible before the constraint)
migrates: the oldest partner keeps the name, the later one is renamed after its id, and every
row — endpoints included — is still there. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command

import fursa.notify
from fursa.shared.migrations import alembic_config, sync_url, upgrade

MIGRATIONS = Path(fursa.notify.__path__[0]) / "migrations"
BEFORE = "0527f90cd2f4"  # the revision before partner names became unique


def test_partners_registered_twice_are_told_apart(database_url: str) -> None:
    command.upgrade(alembic_config(MIGRATIONS, database_url), BEFORE)
    engine = sa.create_engine(sync_url(database_url))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for n, (partner_id, name) in enumerate(
            [("p-1", "acme"), ("p-2", "acme"), ("p-3", "globex"), ("p-4", "acme")]
        ):
            connection.execute(
                sa.text("INSERT INTO partner (id, name, created_at) VALUES (:id, :name, :at)"),
                {"id": partner_id, "name": name, "at": start + timedelta(minutes=n)},
            )
        connection.execute(
            sa.text(
                "INSERT INTO partner_endpoint (id, partner_id, url, event_types, created_at)"
                " VALUES ('e-2', 'p-2', 'https://acme.example', '[]', :at)"
            ),
            {"at": start},
        )

    upgrade(MIGRATIONS, database_url)

    with engine.connect() as connection:
        names = dict(connection.execute(sa.text("SELECT id, name FROM partner")).all())
        endpoint_owner = connection.execute(
            sa.text("SELECT partner_id FROM partner_endpoint WHERE id = 'e-2'")
        ).scalar_one()
    engine.dispose()
    assert names == {
        "p-1": "acme",
        "p-2": "acme (duplicate p-2)",
        "p-3": "globex",
        "p-4": "acme (duplicate p-4)",
    }
    assert endpoint_owner == "p-2"

"""Alembic, the same way for every service: one history per service, run before serving.

Each service keeps its history in ``src/fursa/<service>/migrations`` (inside the package, so an
installed service can migrate itself) with a three-line ``env.py`` calling
:func:`run_migrations`. ``fursa up`` and each service's start migrate to head; a deployment runs
the same upgrade as a Job. SQLite migrations run in batch mode (SQLite cannot alter most
constraints in place).
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any, Literal

from alembic import command, op
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    create_engine,
    pool,
    text,
)
from sqlalchemy.engine import make_url

# One advisory lock key for "a migration is running": two replicas starting together wait.
_MIGRATION_LOCK = 0x46555253


def sync_url(url: str) -> str:
    """Alembic runs synchronously: the sync driver's URL for an async one."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def alembic_config(migrations: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's ``env.py`` (online mode only: we always have a database)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        is_sqlite = connection.dialect.name == "sqlite"
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=is_sqlite,
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            context.run_migrations()


def _render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Render a service's own column types (TypeDecorators) as the SQL type they store as.

    A migration must not import today's model code: it has to run the same way years later.
    """
    if kind == "type" and isinstance(obj, TypeDecorator):
        autogen.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl_instance!r}"
    return False


def upgrade(migrations: Path, database_url: str) -> None:
    """Migrate the database to the latest revision.

    A database already at head is only looked at: Alembic's own upgrade would read every
    revision file of the history again, which is most of a service's start once deployed.
    """
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if at_head(migrations, database_url):
        return
    command.upgrade(alembic_config(migrations, database_url), "head")


@functools.cache
def heads(migrations: Path) -> frozenset[str]:
    """The history's head revisions (read once per process: the files do not change under it)."""
    return frozenset(ScriptDirectory(str(migrations)).get_heads())


def at_head(migrations: Path, database_url: str) -> bool:
    """Whether the database's recorded revisions are the history's heads."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return frozenset(current) == heads(migrations)


async def upgrade_async(migrations: Path, database_url: str) -> None:
    await asyncio.to_thread(upgrade, migrations, database_url)


def differences(database_url: str, metadata: MetaData) -> list[Any]:
    """What the models declare that the migrated database lacks (empty = they agree)."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found: list[Any] = compare_metadata(context, metadata)
    engine.dispose()
    return found


def revision(migrations: Path, database_url: str, message: str) -> None:
    """Autogenerate a new revision from the models (developers: ``fursa``-free, via make)."""
    command.revision(alembic_config(migrations, database_url), message=message, autogenerate=True)


# ---- the kernel's own schema changes, shared by every service's history ----------------------

_HOLD_COLUMNS = ("held_sequence", "held_event_id", "held_until")  # in the order added


def add_aggregate_holds() -> None:
    """Upgrade step: the applied position's hold on an aggregate (a retried event that later
    events wait behind). Each service's revision calls it; the kernel's tables are the same
    everywhere."""
    with op.batch_alter_table("applied_position", schema=None) as batch_op:
        batch_op.add_column(Column("held_sequence", BigInteger(), nullable=True))
        batch_op.add_column(Column("held_event_id", String(length=36), nullable=True))
        batch_op.add_column(Column("held_until", DateTime(timezone=True), nullable=True))


def drop_aggregate_holds() -> None:
    """Downgrade step of :func:`add_aggregate_holds`."""
    with op.batch_alter_table("applied_position", schema=None) as batch_op:
        for column in reversed(_HOLD_COLUMNS):
            batch_op.drop_column(column)


# The audit trail's columns (:class:`fursa.shared.audit.AuditEntryFields`), table ``auditentry``.
_AUDIT_PLACE_COLUMNS = (
    ("reason", 64),
    ("association_id", 36),
    ("center_id", 36),
    ("province_code", 8),
    ("region_code", 8),
)
_AUDIT_INDEXED = ("at", "entity_id", "learner_id")


def create_audit_trail() -> None:
    """Upgrade step: the service's audit trail (each service's revision that adds it)."""
    op.create_table(
        "auditentry",
        Column("id", Integer(), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(length=200), nullable=False),
        Column("role", String(length=32), nullable=False),
        Column("action", String(length=64), nullable=False),
        Column("entity", String(length=32), nullable=False),
        Column("entity_id", String(length=36), nullable=False),
        Column("learner_id", String(length=36), nullable=True),
        *(Column(name, String(length=n), nullable=True) for name, n in _AUDIT_PLACE_COLUMNS),
        Column("details", Text(), nullable=True),
        PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        for name in _AUDIT_INDEXED:
            batch_op.create_index(batch_op.f(f"ix_auditentry_{name}"), [name], unique=False)


def drop_audit_trail() -> None:
    """Downgrade step of :func:`create_audit_trail`."""
    op.drop_table("auditentry")


def add_audit_reason_and_place() -> None:
    """Upgrade step of a trail made before reasons and places (enrollment's)."""
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        for name, length in _AUDIT_PLACE_COLUMNS:
            batch_op.add_column(Column(name, String(length=length), nullable=True))


def drop_audit_reason_and_place() -> None:
    """Downgrade step of :func:`add_audit_reason_and_place`."""
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        for name, _length in reversed(_AUDIT_PLACE_COLUMNS):
            batch_op.drop_column(name)

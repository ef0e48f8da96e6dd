"""The kernel's tables — outbox, inbox, dead letters, applied positions — on a service's metadata.

Each service owns its database, so each gets its own copy of these tables, declared on its own
metadata next to its domain tables (one Alembic history per service).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from fursa.shared.db import UtcDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Position = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class KernelTables:
    outbox: Table
    inbox: Table
    dead_letter: Table
    applied_position: Table


def kernel_tables(metadata: MetaData) -> KernelTables:
    """Declare the kernel's tables on ``metadata`` (once per service)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("position", Position, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(200), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("traceparent", String(64)),
        Column("tracestate", String(512)),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime()),
        # The relay reads unsent rows in position order; sent rows never need this index.
        Index(
            "ix_outbox_unsent",
            "position",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", Position, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False, index=True),
        Column("event_id", String(36)),
        Column("type", String(200)),
        Column("nats_subject", String(200), nullable=False),
        Column("headers", Text, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("failed_at", UtcDateTime(), nullable=False),
        Column("replayed_at", UtcDateTime()),
    )
    applied_position = Table(
        "applied_position",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("source", String(100), primary_key=True),
        Column("aggregate", String(200), primary_key=True),
        Column("sequence", BigInteger, nullable=False),
        # An event of the aggregate that failed and waits for its retry: later events of the
        # aggregate wait behind it (else they would overtake it, and it would come back stale).
        Column("held_sequence", BigInteger),
        Column("held_event_id", String(36)),
        # When the hold lapses should the held event never come back (its stream purged).
        Column("held_until", UtcDateTime()),
    )
    return KernelTables(outbox, inbox, dead_letter, applied_position)

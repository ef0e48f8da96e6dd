"""centers located

A center's latitude and longitude (WGS 84), when known: a learner waiting for a place is offered
the nearest centers of the province with room. Nullable: centers without them are still
offered, the same commune first.

Revision ID: 3b7d2c9e41a5
Revises: e479fbffd497
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7d2c9e41a5"
down_revision: str | None = "e479fbffd497"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("center", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("center", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")

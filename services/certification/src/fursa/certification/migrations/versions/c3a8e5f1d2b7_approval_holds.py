"""approval holds: an officer holds a pending diploma, with a reason, until released

Revision ID: c3a8e5f1d2b7
Revises: b7e4c1d2a8f5
Create Date: 2026-12-06 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a8e5f1d2b7"
down_revision: str | None = "b7e4c1d2a8f5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("held_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("held_by")
        batch_op.drop_column("held_on")

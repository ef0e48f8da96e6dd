"""events wait behind a retried event of their aggregate

Revision ID: 0ce2cb4f4fab
Revises: 8816f3fdad64
Create Date: 2026-11-29 11:24:01.631338
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0ce2cb4f4fab'
down_revision: str | None = '8816f3fdad64'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('applied_position', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_sequence', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('held_event_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('held_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applied_position', schema=None) as batch_op:
        batch_op.drop_column('held_until')
        batch_op.drop_column('held_event_id')
        batch_op.drop_column('held_sequence')

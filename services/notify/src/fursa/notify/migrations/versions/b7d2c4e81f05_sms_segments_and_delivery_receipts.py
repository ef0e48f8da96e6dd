"""SMS segments and delivery receipts

Revision ID: b7d2c4e81f05
Revises: 3397679e23e0
Create Date: 2026-12-07 10:00:00.000000

Each SMS segment an SMSC accepted is kept with the id its delivery receipt names, and a
delivery records how many segments its last attempt cost and when it was delivered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2c4e81f05"
down_revision: str | None = "3397679e23e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_segment",
        sa.Column("smsc_message_id", sa.String(length=65), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.String(length=36), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("smsc_message_id"),
    )
    op.create_index("ix_sms_segment_delivery_id", "sms_segment", ["delivery_id"])
    op.create_index("ix_sms_segment_usage", "sms_segment", ["association_id", "submitted_at"])
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("delivered_at")
        batch.drop_column("segments")
    op.drop_index("ix_sms_segment_usage", table_name="sms_segment")
    op.drop_index("ix_sms_segment_delivery_id", table_name="sms_segment")
    op.drop_table("sms_segment")

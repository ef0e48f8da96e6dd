"""follow-up situations for the reintegration and placement indicators

Enrollment keeps where each learner stood at training's follow-ups (the situation only).

Revision ID: 9d4f1b7c2e60
Revises: 5c0e7a2d9f13
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4f1b7c2e60"
down_revision: str | None = "5c0e7a2d9f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_up_situation",
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("months_after", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "back_in_school",
                "vocational_training",
                "employed",
                "apprenticed",
                "none",
                name="outcomestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollment.id"]),
        sa.PrimaryKeyConstraint("enrollment_id", "months_after"),
    )


def downgrade() -> None:
    op.drop_table("follow_up_situation")

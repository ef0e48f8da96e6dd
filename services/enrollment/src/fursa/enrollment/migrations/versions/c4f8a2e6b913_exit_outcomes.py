"""where a learner went on leaving the programme

An enrollment that closed (withdrawn or completed) may record the learner's outcome at exit
(back in school, vocational training, employed, apprenticed, none, unknown), which the
indicators count. Nullable: enrollments closed before it was asked have none recorded. The
withdrawal reasons gain ``returned_to_school`` and ``vocational_training``: the column is
plain text (no database enum type), so they need no change here.

Revision ID: c4f8a2e6b913
Revises: a3e8d5c1f7b2
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4f8a2e6b913"
down_revision: str | None = "a3e8d5c1f7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "exit_outcome",
                sa.Enum(
                    "back_in_school",
                    "vocational_training",
                    "employed",
                    "apprenticed",
                    "none",
                    "unknown",
                    name="exitoutcome",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_column("exit_outcome")

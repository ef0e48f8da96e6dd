"""names in Arabic and birth place

Associations and centers get their Arabic name beside the French one (``name``, unchanged);
learners an optional birth place in each language. All nullable: rows written before keep
working, and a bilingual document falls back to the French name until the Arabic is set.

Revision ID: f2622a6bbd4c
Revises: 0ce2cb4f4fab
Create Date: 2026-12-06 18:53:35.397344
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2622a6bbd4c"
down_revision: str | None = "0ce2cb4f4fab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_ar", sa.String(length=200), nullable=True))

    with op.batch_alter_table("center", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_ar", sa.String(length=200), nullable=True))

    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_place_ar", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("birth_place_fr", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("birth_place_fr")
        batch_op.drop_column("birth_place_ar")

    with op.batch_alter_table("center", schema=None) as batch_op:
        batch_op.drop_column("name_ar")

    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_column("name_ar")

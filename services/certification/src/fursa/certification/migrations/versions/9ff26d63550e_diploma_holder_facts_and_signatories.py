"""diploma holder facts and signatories

The learner's copy keeps what the diploma now prints besides the names (sex, for the words
that agree with it; birth date and place) and the center's Arabic name; all nullable, since
copies made before lack them until the learner's next event. Each region's signatory gets
its own row.

Revision ID: 9ff26d63550e
Revises: 5c1d7e2a9b40
Create Date: 2026-12-06 19:02:51.400507
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9ff26d63550e"
down_revision: str | None = "5c1d7e2a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signatory",
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("title_ar", sa.String(length=200), nullable=False),
        sa.Column("title_fr", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("region_code"),
    )
    with op.batch_alter_table("learner_copy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("center_name_ar", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("sex", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("birth_place_ar", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("birth_place_fr", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learner_copy", schema=None) as batch_op:
        batch_op.drop_column("birth_place_fr")
        batch_op.drop_column("birth_place_ar")
        batch_op.drop_column("birth_date")
        batch_op.drop_column("sex")
        batch_op.drop_column("center_name_ar")

    op.drop_table("signatory")

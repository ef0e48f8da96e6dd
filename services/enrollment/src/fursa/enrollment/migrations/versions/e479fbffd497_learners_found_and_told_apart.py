"""learners found and told apart

Learners get the normalised key a search by name looks into, filled here for the rows written
before (with today's normalisation: a change of ``names`` that changes keys needs a new
migration that fills them again).

Revision ID: e479fbffd497
Revises: f2622a6bbd4c
Create Date: 2026-12-06 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fursa.enrollment.names import search_key

revision: str = "e479fbffd497"
down_revision: str | None = "f2622a6bbd4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=420), nullable=True))

    learner = sa.table(
        "learner",
        sa.column("id", sa.String),
        sa.column("first_name_ar", sa.String),
        sa.column("last_name_ar", sa.String),
        sa.column("first_name_latin", sa.String),
        sa.column("last_name_latin", sa.String),
        sa.column("search_key", sa.String),
        sa.column("erased_at", sa.DateTime),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            learner.c.id,
            learner.c.first_name_ar,
            learner.c.last_name_ar,
            learner.c.first_name_latin,
            learner.c.last_name_latin,
        ).where(learner.c.erased_at.is_(None))
    ).all()
    for row in rows:
        connection.execute(
            learner.update().where(learner.c.id == row.id).values(search_key=search_key(*row[1:]))
        )


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("search_key")

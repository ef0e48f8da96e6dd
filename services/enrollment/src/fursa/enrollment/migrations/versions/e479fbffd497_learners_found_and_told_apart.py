"""learners found and told apart

Learners get the normalised key a search by name looks into, filled here for the rows written
before (with today's normalisation: a change of ``names`` that changes keys needs a new
migration that fills them again), and ``merged_into`` for a record merged into an earlier one;
the possible-duplicate review queue gets its table.

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
        batch_op.add_column(sa.Column("merged_into", sa.String(length=36), nullable=True))

    op.create_table(
        "duplicatereview",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("earlier_learner_id", sa.String(length=36), nullable=False),
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "same_person", "different", name="duplicatedecision", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.ForeignKeyConstraint(["earlier_learner_id"], ["learner.id"]),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"]),
        sa.PrimaryKeyConstraint("learner_id", "earlier_learner_id"),
    )
    with op.batch_alter_table("duplicatereview", schema=None) as batch_op:
        batch_op.create_index("ix_duplicatereview_association_id", ["association_id"])
        batch_op.create_index("ix_duplicatereview_decision", ["decision"])

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
    op.drop_table("duplicatereview")
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("merged_into")
        batch_op.drop_column("search_key")

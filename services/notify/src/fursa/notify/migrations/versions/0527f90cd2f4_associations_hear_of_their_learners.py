"""associations hear of their learners

Revision ID: 0527f90cd2f4
Revises: e3de87d77235
Create Date: 2026-11-29 11:27:48.727600
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0527f90cd2f4'
down_revision: str | None = 'e3de87d77235'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('association_contact',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('preferred_language', sa.String(length=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('association_id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('learner_name_ar', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('learner_name_latin', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('learner_name_latin')
        batch_op.drop_column('learner_name_ar')

    op.drop_table('association_contact')

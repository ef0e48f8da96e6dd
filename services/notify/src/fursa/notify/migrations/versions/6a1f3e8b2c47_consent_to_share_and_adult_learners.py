"""consent to share with partners, adult learners

Contacts keep the consents partner events need (data use, sharing with partners: not given
for the contacts written before enrollment published them), whether partners heard of the
learner (an erasure is told to them only then), and the learner's birth date and own contact
(from 18 the learner is their own contact).

Revision ID: 6a1f3e8b2c47
Revises: b7d2c4e81f05
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a1f3e8b2c47"
down_revision: str | None = "b7d2c4e81f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        for name in ("consent_data_use", "consent_partner_sharing", "known_to_partners"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("learner_phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("learner_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("learner_language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        for column in ("learner_language", "learner_email", "learner_phone", "birth_date"):
            batch_op.drop_column(column)
        for name in ("known_to_partners", "consent_partner_sharing", "consent_data_use"):
            batch_op.drop_column(name)

"""consent to partner sharing, adult learners' own contact

Learners get the consent to share their enrolment with the programme's partners (not given
for the records written before it was asked) and their own phone, e-mail and language (an
adult is their own contact; a guardian is optional from 18).

Revision ID: 5c0e7a2d9f13
Revises: 3b7d2c9e41a5
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c0e7a2d9f13"
down_revision: str | None = "3b7d2c9e41a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent_partner_sharing", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column(
                "preferred_language",
                sa.Enum("ar", "fr", name="language", native_enum=False, length=32),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("preferred_language")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
        batch_op.drop_column("consent_partner_sharing")

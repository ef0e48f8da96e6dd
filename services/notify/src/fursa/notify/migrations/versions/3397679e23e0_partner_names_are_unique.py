"""partner names are unique

Revision ID: 3397679e23e0
Revises: 0527f90cd2f4
Create Date: 2026-12-06 16:36:27.729945

Before the constraint, partners registered twice under one name (``fursa partner add`` run
again after a failure) are told apart: the oldest keeps the name, each later one is renamed
``<name> (duplicate <id>)`` — its id makes the new name unique, and its endpoints and
deliveries stay attached to it for an administrator to look at (``GET /partners``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3397679e23e0'
down_revision: str | None = '0527f90cd2f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 200


def upgrade() -> None:
    partner = sa.table(
        'partner',
        sa.column('id', sa.String),
        sa.column('name', sa.String),
        sa.column('created_at', sa.DateTime),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(partner.c.id, partner.c.name).order_by(partner.c.created_at, partner.c.id)
    ).all()
    seen: set[str] = set()
    for partner_id, name in rows:
        if name not in seen:
            seen.add(name)
            continue
        suffix = f' (duplicate {partner_id})'
        connection.execute(
            partner.update()
            .where(partner.c.id == partner_id)
            .values(name=name[: NAME_LENGTH - len(suffix)] + suffix)
        )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_partner_name', ['name'])


def downgrade() -> None:
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_constraint('uq_partner_name', type_='unique')

"""durable deliveries, partners and their endpoints

Revision ID: 568026654d25
Revises: 98f773a8519a
Create Date: 2026-11-29 07:50:29.283204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '568026654d25'
down_revision: str | None = '98f773a8519a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erased_learner',
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('learner_id')
    )
    op.create_table('partner',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('partner_feed_position',
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )
    op.create_table('partner_endpoint',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('partner_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_endpoint_partner_id'), ['partner_id'], unique=False)

    op.create_table('endpoint_secret',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('endpoint_id', sa.String(length=36), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['partner_endpoint.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('endpoint_secret', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endpoint_secret_endpoint_id'), ['endpoint_id'], unique=False)

    # Deliveries made before this revision were sent in one attempt, inside the consumer's
    # transaction; they keep that history (their text was never stored).
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('endpoint_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('recipient', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('event_sequence', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('traceparent', sa.String(length=64), nullable=True))
        batch_op.alter_column('sent_at',
               existing_type=sa.DateTime(timezone=True),
               nullable=True)
        batch_op.drop_constraint('uq_delivery_cause_recipient', type_='unique')
    op.execute("UPDATE delivery SET recipient = COALESCE(learner_id, id), created_at = sent_at")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('attempts', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('body', existing_type=sa.Text(), server_default=None)
        batch_op.alter_column('event_sequence', existing_type=sa.Integer(), server_default=None)
        batch_op.create_unique_constraint('uq_delivery_cause_recipient', ['cause_event_id', 'channel', 'recipient'])
        batch_op.create_index('ix_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_endpoint_id'), ['endpoint_id'], unique=False)


def downgrade() -> None:
    # The old schema knows only messages sent to guardians.
    op.execute("DELETE FROM delivery WHERE sent_at IS NULL OR endpoint_id IS NOT NULL")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_endpoint_id'))
        batch_op.drop_index('ix_delivery_due')
        batch_op.drop_constraint('uq_delivery_cause_recipient', type_='unique')
        batch_op.create_unique_constraint('uq_delivery_cause_recipient', ['cause_event_id', 'recipient_kind', 'channel'])
        batch_op.alter_column('sent_at',
               existing_type=sa.DateTime(timezone=True),
               nullable=False)
        batch_op.drop_column('traceparent')
        batch_op.drop_column('event_sequence')
        batch_op.drop_column('created_at')
        batch_op.drop_column('body')
        batch_op.drop_column('title')
        batch_op.drop_column('last_error')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('recipient')
        batch_op.drop_column('endpoint_id')

    with op.batch_alter_table('endpoint_secret', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endpoint_secret_endpoint_id'))

    op.drop_table('endpoint_secret')
    with op.batch_alter_table('partner_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_endpoint_partner_id'))

    op.drop_table('partner_endpoint')
    op.drop_table('partner_feed_position')
    op.drop_table('partner')
    op.drop_table('erased_learner')

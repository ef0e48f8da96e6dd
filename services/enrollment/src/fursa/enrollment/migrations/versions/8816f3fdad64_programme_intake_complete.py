"""programme intake complete: reference data, waiting list, transfers, identities, audit

Columns added to existing tables get defaults for rows written before (development data:
the first schema never ran in production).

Revision ID: 8816f3fdad64
Revises: ea190a765466
Create Date: 2026-11-29 07:53:33.892292
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8816f3fdad64'
down_revision: str | None = 'ea190a765466'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auditentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditentry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_learner_id'), ['learner_id'], unique=False)

    op.create_table('importedrow',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('schoolyear',
    sa.Column('code', sa.String(length=9), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=False),
    sa.Column('max_age', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('partnershipagreement',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('partner_name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=1000), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['association.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('partnershipagreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnershipagreement_association_id'), ['association_id'], unique=False)

    op.create_table('centercapacity',
    sa.Column('center_id', sa.String(length=36), nullable=False),
    sa.Column('pathway', sa.Enum('school_reintegration', 'vocational_training', 'socio_professional_insertion', name='pathway', native_enum=False, length=32), nullable=False),
    sa.Column('school_year', sa.String(length=9), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], ),
    sa.PrimaryKeyConstraint('center_id', 'pathway', 'school_year')
    )
    op.create_table('centerworkshop',
    sa.Column('center_id', sa.String(length=36), nullable=False),
    sa.Column('workshop', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], ),
    sa.PrimaryKeyConstraint('center_id', 'workshop')
    )
    op.create_table('referral',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agreement_id', sa.String(length=36), nullable=False),
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['partnershipagreement.id'], ),
    sa.ForeignKeyConstraint(['association_id'], ['association.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_association_id'), ['association_id'], unique=False)

    op.create_table('activeidentity',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('activeidentity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activeidentity_enrollment_id'), ['enrollment_id'], unique=False)

    op.create_table('transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=False),
    sa.Column('from_center_id', sa.String(length=36), nullable=False),
    sa.Column('to_center_id', sa.String(length=36), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], ),
    sa.ForeignKeyConstraint(['from_center_id'], ['center.id'], ),
    sa.ForeignKeyConstraint(['to_center_id'], ['center.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_enrollment_id'), ['enrollment_id'], unique=False)

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_at_start', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('referral_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('CURRENT_TIMESTAMP')))
        batch_op.add_column(sa.Column('waitlisted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Enum('moved', 'work', 'family', 'health', 'marriage', 'lost_contact', 'other', name='withdrawalreason', native_enum=False, length=32), nullable=True))
        batch_op.alter_column('enrolled_on',
               existing_type=sa.DATE(),
               nullable=True)
        batch_op.create_index('ix_enrollment_place', ['center_id', 'pathway', 'school_year', 'status'], unique=False)

    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nationality', sa.String(length=2), nullable=False, server_default='MA'))
        batch_op.add_column(sa.Column('last_school_level', sa.Enum('never_schooled', 'primary_1', 'primary_2', 'primary_3', 'primary_4', 'primary_5', 'primary_6', 'middle_1', 'middle_2', 'middle_3', 'high_school', name='schoollevel', native_enum=False, length=32), nullable=False, server_default='never_schooled'))
        batch_op.add_column(sa.Column('year_left_school', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('special_needs', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('consent_recorded_on', sa.Date(), nullable=False, server_default=sa.text('CURRENT_DATE')))
        batch_op.add_column(sa.Column('consent_recorded_by', sa.String(length=200), nullable=False, server_default='unknown'))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('first_name_ar',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.alter_column('last_name_ar',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.alter_column('first_name_latin',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.alter_column('last_name_latin',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.alter_column('birth_date',
               existing_type=sa.DATE(),
               nullable=True)
        batch_op.alter_column('massar_code',
               existing_type=sa.VARCHAR(length=16),
               type_=sa.String(length=20),
               existing_nullable=True)
        batch_op.alter_column('guardian_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
        batch_op.alter_column('guardian_phone',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)
        batch_op.add_column(sa.Column('association_id', sa.String(length=36), nullable=True))
    # A learner belongs to the association that enrolled them.
    op.execute(
        "UPDATE learner SET association_id = (SELECT e.association_id FROM enrollment e "
        "WHERE e.learner_id = learner.id LIMIT 1)"
    )
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.alter_column('association_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index(batch_op.f('ix_learner_association_id'), ['association_id'], unique=False)
        batch_op.create_foreign_key('fk_learner_association_id', 'association', ['association_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.drop_constraint('fk_learner_association_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_learner_association_id'))
        batch_op.alter_column('guardian_phone',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)
        batch_op.alter_column('guardian_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
        batch_op.alter_column('massar_code',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=16),
               existing_nullable=True)
        batch_op.alter_column('birth_date',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.alter_column('last_name_latin',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.alter_column('first_name_latin',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.alter_column('last_name_ar',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.alter_column('first_name_ar',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.drop_column('erased_at')
        batch_op.drop_column('consent_recorded_by')
        batch_op.drop_column('consent_recorded_on')
        batch_op.drop_column('special_needs')
        batch_op.drop_column('year_left_school')
        batch_op.drop_column('last_school_level')
        batch_op.drop_column('nationality')
        batch_op.drop_column('association_id')

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_place')
        batch_op.alter_column('enrolled_on',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_on')
        batch_op.drop_column('waitlisted_on')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('referral_id')
        batch_op.drop_column('age_at_start')

    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_enrollment_id'))

    op.drop_table('transfer')
    with op.batch_alter_table('activeidentity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activeidentity_enrollment_id'))

    op.drop_table('activeidentity')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_association_id'))
        batch_op.drop_index(batch_op.f('ix_referral_agreement_id'))

    op.drop_table('referral')
    op.drop_table('centerworkshop')
    op.drop_table('centercapacity')
    with op.batch_alter_table('partnershipagreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnershipagreement_association_id'))

    op.drop_table('partnershipagreement')
    op.drop_table('schoolyear')
    op.drop_table('importedrow')
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_learner_id'))
        batch_op.drop_index(batch_op.f('ix_auditentry_entity_id'))
        batch_op.drop_index(batch_op.f('ix_auditentry_at'))

    op.drop_table('auditentry')

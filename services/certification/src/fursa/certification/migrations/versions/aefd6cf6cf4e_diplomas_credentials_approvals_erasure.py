"""diplomas, signed credentials, approvals and erasure

Certificates gain their QR token, signatory, signed credential and revocation; learner copies
gain what a diploma prints (center name, school year) and lose their names on erasure; passed
trainings, erased learners and rendered diplomas get their tables.

Certificates issued before this revision get a fresh QR token and no credential (empty).

Revision ID: aefd6cf6cf4e
Revises: 992eb9cfe6b7
Create Date: 2026-11-29 07:50:18.531063
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "aefd6cf6cf4e"
down_revision: str | None = "992eb9cfe6b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMES = ("first_name_ar", "last_name_ar", "first_name_latin", "last_name_latin")
_SIGNATORY = ("signatory_name_ar", "signatory_name_fr", "signatory_title_ar", "signatory_title_fr")


def upgrade() -> None:
    op.create_table(
        "completion",
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("training_id", sa.String(length=36), nullable=False),
        sa.Column("pathway", sa.String(length=40), nullable=False),
        sa.Column("workshops", sa.Text(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("enrollment_id"),
    )
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completion_state"), ["state"], unique=False)

    op.create_table(
        "erased_learner",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("learner_id"),
    )
    op.create_table(
        "diploma_pdf",
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificate.id"]),
        sa.PrimaryKeyConstraint("certificate_id"),
    )

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_token", sa.String(length=64), nullable=True))
        for column in _SIGNATORY:
            batch_op.add_column(
                sa.Column(column, sa.String(length=200), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("credential", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("signing_key_id", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("revoked_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("revocation_reason", sa.String(length=40), nullable=True))

    connection = op.get_bind()
    certificate = sa.table("certificate", sa.column("id"), sa.column("verification_token"))
    for (certificate_id,) in connection.execute(sa.select(certificate.c.id)).all():
        connection.execute(
            certificate.update()
            .where(certificate.c.id == certificate_id)
            .values(verification_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.alter_column(
            "verification_token", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.create_unique_constraint(
            "uq_certificate_verification_token", ["verification_token"]
        )

    with op.batch_alter_table("learner_copy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("center_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("school_year", sa.String(length=9), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("enrolled_on", sa.Date(), nullable=True))
        for column in _NAMES:
            batch_op.alter_column(column, existing_type=sa.String(length=100), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("learner_copy", schema=None) as batch_op:
        for column in _NAMES:
            batch_op.alter_column(column, existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column("enrolled_on")
        batch_op.drop_column("school_year")
        batch_op.drop_column("center_name")

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint("uq_certificate_verification_token", type_="unique")
        for column in (
            "revocation_reason",
            "revoked_on",
            "signing_key_id",
            "credential",
            *_SIGNATORY,
            "verification_token",
        ):
            batch_op.drop_column(column)

    op.drop_table("diploma_pdf")
    op.drop_table("erased_learner")
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_state"))
    op.drop_table("completion")

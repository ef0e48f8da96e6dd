"""referrals have a status and a consented sharing; agreements name their partner

A referral gets its status (referred, accepted, enrolled, closed with a reason code), what its
referring partner may be told (none for the referrals received before it was asked: consent
is never assumed) and who consented, and a version ordering its events. Referrals already used
by an enrolment are enrolled. An agreement may name the onboarded partner whose system
follows its referrals.

Revision ID: d7a3c9e5b184
Revises: c4f8a2e6b913
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7a3c9e5b184"
down_revision: str | None = "c4f8a2e6b913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("partnershipagreement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_partnershipagreement_partner_id"), ["partner_id"], unique=False
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                _enum("referralstatus", "referred", "accepted", "enrolled", "closed"),
                nullable=False,
                server_default="referred",
            )
        )
        batch_op.add_column(
            sa.Column(
                "closing_reason",
                _enum(
                    "referralclosingreason",
                    "not_eligible",
                    "declined",
                    "unreachable",
                    "no_place",
                    "referred_elsewhere",
                    "completed_programme",
                    "left_programme",
                    "other",
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("status_changed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "sharing",
                _enum("referralsharing", "none", "status", "status_and_placement"),
                nullable=False,
                server_default="none",
            )
        )
        batch_op.add_column(
            sa.Column(
                "consent_given_by", _enum("consentgiver", "guardian", "learner"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("consent_recorded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("consent_recorded_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    referral = sa.table(
        "referral",
        sa.column("status", sa.String),
        sa.column("enrollment_id", sa.String),
        sa.column("received_on", sa.Date),
        sa.column("status_changed_on", sa.Date),
    )
    op.execute(
        referral.update().where(referral.c.enrollment_id.is_not(None)).values(status="enrolled")
    )
    op.execute(referral.update().values(status_changed_on=referral.c.received_on))
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.alter_column("status_changed_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        for column in (
            "version",
            "consent_recorded_by",
            "consent_recorded_on",
            "consent_given_by",
            "sharing",
            "status_changed_on",
            "closing_reason",
            "status",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("partnershipagreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnershipagreement_partner_id"))
        batch_op.drop_column("partner_id")

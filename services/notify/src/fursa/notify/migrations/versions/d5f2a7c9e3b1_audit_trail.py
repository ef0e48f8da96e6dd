"""audit trail: who onboarded a partner or changed its webhooks, set an association's address,
sent a message again or erased, and why

Revision ID: d5f2a7c9e3b1
Revises: 6a1f3e8b2c47
Create Date: 2026-12-06 19:45:00
"""

from collections.abc import Sequence

from fursa.shared.migrations import create_audit_trail, drop_audit_trail

revision: str = "d5f2a7c9e3b1"
down_revision: str | None = "6a1f3e8b2c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_trail()


def downgrade() -> None:
    drop_audit_trail()

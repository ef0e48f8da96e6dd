"""audit entries say why and where the record sits (who may read them)

Revision ID: a3e8d5c1f7b2
Revises: 9d4f1b7c2e60
Create Date: 2026-12-06 19:50:00
"""

from collections.abc import Sequence

from fursa.shared.migrations import add_audit_reason_and_place, drop_audit_reason_and_place

revision: str = "a3e8d5c1f7b2"
down_revision: str | None = "9d4f1b7c2e60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_audit_reason_and_place()


def downgrade() -> None:
    drop_audit_reason_and_place()

"""audit trail: who recorded or corrected attendance, scores, completions, follow-ups and
curricula, and why

Revision ID: c4a9e2f7b1d3
Revises: 96e9f5ad7da8
Create Date: 2026-12-06 19:35:00
"""

from collections.abc import Sequence

from fursa.shared.migrations import create_audit_trail, drop_audit_trail

revision: str = "c4a9e2f7b1d3"
down_revision: str | None = "96e9f5ad7da8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_trail()


def downgrade() -> None:
    drop_audit_trail()

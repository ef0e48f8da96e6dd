"""audit trail: who approved, revoked, re-issued, named a signatory or erased, and why

Revision ID: b7e4c1d2a8f5
Revises: 9ff26d63550e
Create Date: 2026-12-06 19:40:00
"""

from collections.abc import Sequence

from fursa.shared.migrations import create_audit_trail, drop_audit_trail

revision: str = "b7e4c1d2a8f5"
down_revision: str | None = "9ff26d63550e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_trail()


def downgrade() -> None:
    drop_audit_trail()

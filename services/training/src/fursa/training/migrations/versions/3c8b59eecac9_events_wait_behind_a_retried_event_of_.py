"""events wait behind a retried event of their aggregate

Revision ID: 3c8b59eecac9
Revises: 0ce450c52a3f
Create Date: 2026-11-29 11:24:03.377569
"""

from collections.abc import Sequence

from fursa.shared.migrations import add_aggregate_holds, drop_aggregate_holds

revision: str = '3c8b59eecac9'
down_revision: str | None = '0ce450c52a3f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_aggregate_holds()


def downgrade() -> None:
    drop_aggregate_holds()

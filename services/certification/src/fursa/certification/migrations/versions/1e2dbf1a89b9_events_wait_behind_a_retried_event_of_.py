"""events wait behind a retried event of their aggregate

Revision ID: 1e2dbf1a89b9
Revises: aefd6cf6cf4e
Create Date: 2026-11-29 11:24:05.021646
"""

from collections.abc import Sequence

from fursa.shared.migrations import add_aggregate_holds, drop_aggregate_holds

revision: str = '1e2dbf1a89b9'
down_revision: str | None = 'aefd6cf6cf4e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_aggregate_holds()


def downgrade() -> None:
    drop_aggregate_holds()

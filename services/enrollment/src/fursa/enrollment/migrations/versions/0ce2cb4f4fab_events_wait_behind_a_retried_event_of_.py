"""events wait behind a retried event of their aggregate

Revision ID: 0ce2cb4f4fab
Revises: 8816f3fdad64
Create Date: 2026-11-29 11:24:01.631338
"""

from collections.abc import Sequence

from fursa.shared.migrations import add_aggregate_holds, drop_aggregate_holds

revision: str = '0ce2cb4f4fab'
down_revision: str | None = '8816f3fdad64'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_aggregate_holds()


def downgrade() -> None:
    drop_aggregate_holds()

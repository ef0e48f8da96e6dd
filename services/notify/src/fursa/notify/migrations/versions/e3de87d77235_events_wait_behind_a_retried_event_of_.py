"""events wait behind a retried event of their aggregate

Revision ID: e3de87d77235
Revises: 568026654d25
Create Date: 2026-11-29 11:24:06.650466
"""

from collections.abc import Sequence

from fursa.shared.migrations import add_aggregate_holds, drop_aggregate_holds

revision: str = 'e3de87d77235'
down_revision: str | None = '568026654d25'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_aggregate_holds()


def downgrade() -> None:
    drop_aggregate_holds()

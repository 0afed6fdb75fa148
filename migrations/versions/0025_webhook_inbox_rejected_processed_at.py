"""webhook_inbox: a row kept `rejected` (its body unreadable) carries its processed_at, the time it was
received, and one a person dismissed since (`processed`) the time of the dismissal or, written
before that was kept, its receipt: the retention deletes processed and rejected rows by it, and the
alert e-mails tell rejected ones by it, so rows without one were kept for ever and never told

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        "UPDATE webhook_inbox SET processed_at = received_at "
        "WHERE processed_at IS NULL AND status IN ('rejected', 'processed')"
    )


def downgrade() -> None:
    """Downgrade schema: nothing to undo (the times stay, as true as before)."""

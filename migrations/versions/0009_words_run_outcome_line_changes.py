"""schedules and order line changes: the words beside their English texts (ledger.words), said on
the pages in the merchant's language (a run's error line, a line change's reason)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:30:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error_words", sa.JSON(), nullable=True))
    with op.batch_alter_table("order_line_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_words", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("order_line_changes", schema=None) as batch_op:
        batch_op.drop_column("reason_words")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("last_error_words")

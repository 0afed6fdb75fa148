"""order line changes: the line discounts of the app's own a picking edit put on (or took off) the
Shopify order (`discounts`: description and amount per unit, jobs.order_edits.to_shopify), so a
later picking takes off only those, never a person's discount worded alike

A row written before has none (NULL): a later picking knows its discounts by the description its
reason names, as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("order_line_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discounts", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("order_line_changes", schema=None) as batch_op:
        batch_op.drop_column("discounts")

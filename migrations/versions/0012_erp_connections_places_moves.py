"""erp_connections: the generation of each ERP the shop was on (`places`), so moving back to one
gives its orders back to it, and the count of moves (`moves`), which a flow run compares before
it moves an ERP cursor (ledger.setup_moves, ledger.fence)

A row written before has moved as many times as its generation counted (it only grew); the ERPs
it was on are not known (the next move records the one it leaves).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("erp_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("places", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("moves", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE erp_connections SET moves = generation")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("erp_connections", schema=None) as batch_op:
        batch_op.drop_column("moves")
        batch_op.drop_column("places")

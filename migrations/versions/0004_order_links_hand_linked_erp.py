"""order_links: hand_linked_erp (an order a person linked to an ERP order typed by hand)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('order_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hand_linked_erp', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('order_links', schema=None) as batch_op:
        batch_op.drop_column('hand_linked_erp')

"""order_link_delivery_slot: the delivery or pickup slot the customer chose (a delivery-date app's
order attributes, as obsPedido names them: jobs.order_slot), shown on the Orders page

Empty at first: each order's import (or its next orders/updated, for one in the ERP) writes it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 18:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("order_links") as batch:
        batch.add_column(sa.Column("delivery_slot", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("order_links") as batch:
        batch.drop_column("delivery_slot")

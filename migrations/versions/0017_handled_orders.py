"""handled_orders: the orders a person settled outside the app (closed as handled, or linked to an ERP
order typed by hand), by the store's domain, kept by shop/redact (ledger.handled_before), so after
the store installs the app again such an order reaching it is not posted to the ERP a second time

Empty at first: shop/redact writes the rows of a store from its messages and links as it erases them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "handled_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain", "order_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("handled_orders")

"""erp_connection_verified: when a login with the shop's ERP address, user and password first
succeeded (erp.factory), None since any of them changed: another store's pending orders count
against a store's stock only once that store's own credentials logged in to the same ERP
(jobs.stock_pending.same_erp_shops), not on an address typed alone

The connections saved before are taken as verified at their last change: they held the stores'
pending orders before this column, and a store on the same ERP not counted until its next login
would oversell in between.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("erp_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE erp_connections SET verified_at = updated_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("erp_connections", schema=None) as batch_op:
        batch_op.drop_column("verified_at")

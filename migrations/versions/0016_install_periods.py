"""install_periods: when the app was installed on a store, by its domain, kept by shop/redact
(ledger.install_periods), so an order of an earlier installation (waiting for its payment when the
store uninstalled) still goes to the ERP once paid after the store installs the app again, and one
placed while the app was not installed does not

A shop installed before has one period, from its row's created_at (its first install) to its
uninstall when it is uninstalled now; the gaps of its earlier reinstalls are not known.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "install_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("install_periods", schema=None) as batch_op:
        batch_op.create_index("ix_install_periods_domain", ["domain", "installed_at"], unique=False)
    op.execute(
        "INSERT INTO install_periods (domain, installed_at, uninstalled_at) "
        "SELECT domain, created_at, "
        "CASE WHEN status = 'uninstalled' THEN COALESCE(uninstalled_at, updated_at) END FROM shops"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("install_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_install_periods_domain")
    op.drop_table("install_periods")

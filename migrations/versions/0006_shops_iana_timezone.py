"""shops: the shop's IANA time zone (Shopify's `shop { ianaTimezone }`), read at install, so the
page shows dates in the store's time rather than the browser's

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:00:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("iana_timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("iana_timezone")

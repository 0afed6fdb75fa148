"""order_link_attention_index: the orders flagged for a person, by shop and change time, so the
alert run (every 15 minutes per shop) counts them and reads those changed since its last run
without reading the shop's every order

A partial index (needs_attention IS NOT NULL: a few rows of the table). Built CONCURRENTLY on
PostgreSQL, outside a transaction, as 0019's: a live ledger keeps taking writes; a build
interrupted (left INVALID) is dropped and built again by the next upgrade. A plain partial index on
SQLite.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 14:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_order_links_attention"
WHERE = sa.text("needs_attention IS NOT NULL")


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "order_links", ["shop_id", "updated_at"], unique=False, sqlite_where=WHERE)
        return
    with op.get_context().autocommit_block():
        invalid = op.get_bind().scalar(
            sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
            ),
            {"name": NAME},
        )
        if invalid:
            op.drop_index(NAME, table_name="order_links", postgresql_concurrently=True)
        op.create_index(
            NAME,
            "order_links",
            ["shop_id", "updated_at"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
            postgresql_where=WHERE,
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="order_links")
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="order_links", postgresql_concurrently=True)

"""order_link_slot_search_index: the Orders page's search finds an order by its delivery slot (a
day's orders: "05/12/2026"), through a trigram index on PostgreSQL as the name, id and NF-e key

Built CONCURRENTLY, outside a transaction, as 0005's: a live ledger keeps taking writes; a build
interrupted (left INVALID) is dropped and built again by the next upgrade. A plain index on SQLite.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_order_links_slot_trgm"


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "order_links", ["delivery_slot"], unique=False)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
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
            ["delivery_slot"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
            postgresql_using="gin",
            postgresql_ops={"delivery_slot": "gin_trgm_ops"},
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="order_links")
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="order_links", postgresql_concurrently=True)

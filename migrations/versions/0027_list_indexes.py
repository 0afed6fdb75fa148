"""list_indexes: the Messages page's flow filters and the Orders page's "In ERP" read through
indexes at a chain's size

- messages (shop_id, flow, id) and (shop_id, flow, status, id), the second replacing
  (shop_id, flow, status): a flow's units newest first. The catalog's units keep the oldest ids
  of the ledger (a run upserts the rows its install wrote), so the primary key walked back read
  every newer message (stock batches, orders) before the first price: the whole table, on the
  dashboard's "done in 24 h" link for an empty answer;
- order_links (shop_id, id) of the orders in the ERP, live and not invoiced (a few at night
  among every order the shop had), partial.

On PostgreSQL each index is built CONCURRENTLY, outside a transaction, so the app keeps writing
while it builds; a build interrupted there (left INVALID, the version still 0026) is dropped and
built again by running the upgrade again. The replaced index is dropped once its successor is
built.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 04:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (the literal, not ledger.models': a migration must not change with the code)
IN_ERP = "nro_pedvenda IS NOT NULL AND nfe_key IS NULL AND cancelled_at IS NULL AND erp_status {} 'C'"
INDEXES = [  # (name, table, columns, {dialect: where})
    ("ix_messages_flow_id", "messages", ["shop_id", "flow", "id"], {}),
    ("ix_messages_flow_status_id", "messages", ["shop_id", "flow", "status", "id"], {}),
    (
        "ix_order_links_in_erp",
        "order_links",
        ["shop_id", "id"],
        {
            "postgresql_where": sa.text(IN_ERP.format("IS DISTINCT FROM")),
            "sqlite_where": sa.text(IN_ERP.format("IS NOT")),
        },
    ),
]
REPLACED = ("ix_messages_status", "messages", ["shop_id", "flow", "status"])


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        for name, table, columns, where in INDEXES:
            op.create_index(name, table, columns, unique=False, **where)
        op.drop_index(REPLACED[0], table_name=REPLACED[1])
        return
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            if _invalid(name):  # a build stopped before left it INVALID: built again
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
            op.create_index(
                name, table, columns, unique=False, postgresql_concurrently=True, if_not_exists=True, **where
            )
        op.drop_index(REPLACED[0], table_name=REPLACED[1], postgresql_concurrently=True, if_exists=True)


def _invalid(name: str) -> bool:
    return bool(
        op.get_bind().scalar(
            sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
            ),
            {"name": name},
        )
    )


def downgrade() -> None:
    """Downgrade schema."""
    name, table, columns = REPLACED
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, columns, unique=False)
        for index, index_table, _columns, _where in INDEXES:
            op.drop_index(index, table_name=index_table)
        return
    with op.get_context().autocommit_block():
        if _invalid(name):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
        op.create_index(name, table, columns, unique=False, postgresql_concurrently=True, if_not_exists=True)
        for index, index_table, _columns, _where in INDEXES:
            op.drop_index(index, table_name=index_table, postgresql_concurrently=True)

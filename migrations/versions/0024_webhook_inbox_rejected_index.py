"""webhook_inbox: a partial index of the rejected rows by shop (signed deliveries whose body could
not be read), listed on the failed jobs page (/api/jobs/failed) beside the failed ones until a
person dismisses them, and told by the alert e-mails

On PostgreSQL the index is built CONCURRENTLY, outside a transaction, so the receiver keeps
writing the inbox while it builds; a build interrupted there (left INVALID, the version still
0023) is dropped and built again by running the upgrade again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 20:30:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: Union[str, Sequence[str], None] = "0023"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = "ix_inbox_rejected"
TABLE = "webhook_inbox"
COLUMNS = ["shop_domain", "id"]
REJECTED = "status = 'rejected'"


def upgrade() -> None:
    """Upgrade schema."""
    where = {"postgresql_where": sa.text(REJECTED), "sqlite_where": sa.text(REJECTED)}
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, TABLE, COLUMNS, unique=False, **where)
        return
    with op.get_context().autocommit_block():
        if _invalid():  # a build stopped before left it INVALID: built again
            op.drop_index(NAME, table_name=TABLE, postgresql_concurrently=True)
        op.create_index(
            NAME, TABLE, COLUMNS, unique=False, postgresql_concurrently=True, if_not_exists=True, **where
        )


def _invalid() -> bool:
    return bool(
        op.get_bind().scalar(
            sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
            ),
            {"name": NAME},
        )
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name=TABLE)
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name=TABLE, postgresql_concurrently=True)

"""messages, order_links: indexes for the dashboard, the searches and the per-unit job queries at a
chain's size (a million messages); trigram (pg_trgm) indexes for the substring searches

On PostgreSQL the pg_trgm extension is created (a trusted extension since PostgreSQL 13: a role
with CREATE on the database may create it, no superuser needed; on an older server a superuser
creates it first) and every index is built CONCURRENTLY, outside
a transaction, so a live ledger keeps taking writes while they build. A build interrupted there
(the version stays 0004, the indexes built so far stay, the one being built is left INVALID) is
finished by running the upgrade again: an INVALID index is dropped and built again, the others kept.
On SQLite the trigram indexes are plain ones (LIKE '%x%' reads the table there anyway).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 21:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "status IN ('pending', 'failed', 'parked', 'retrying')"
ORDER_LINK_SEARCH = ('shopify_order_name', 'shopify_order_id', 'nfe_key')
INDEXES = [  # (name, table, columns, options)
    ('ix_messages_shop_id', 'messages', ['shop_id', 'id'], {}),
    (
        'ix_messages_open',
        'messages',
        ['shop_id', 'flow', 'status'],
        {'postgresql_where': sa.text(OPEN), 'sqlite_where': sa.text(OPEN)},
    ),
    (
        'ix_messages_search_trgm',
        'messages',
        ['search_text'],
        {'postgresql_using': 'gin', 'postgresql_ops': {'search_text': 'gin_trgm_ops'}},
    ),
    ('ix_messages_shopify_id', 'messages', ['shop_id', 'shopify_id'], {}),
    ('ix_messages_erp_id', 'messages', ['shop_id', 'erp_id'], {}),
    ('ix_messages_created', 'messages', ['shop_id', 'flow', 'created_at'], {}),
    (
        'ix_order_links_search_trgm',
        'order_links',
        list(ORDER_LINK_SEARCH),
        {'postgresql_using': 'gin', 'postgresql_ops': {c: 'gin_trgm_ops' for c in ORDER_LINK_SEARCH}},
    ),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    """Upgrade schema."""
    if not _postgresql():
        for name, table, columns, options in INDEXES:
            op.create_index(name, table, columns, unique=False, **options)
        op.drop_index('ix_messages_search', table_name='messages')
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    with op.get_context().autocommit_block():
        for name, table, columns, options in INDEXES:
            if _invalid(name):  # a build stopped before left it INVALID: built again
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
            op.create_index(
                name, table, columns, unique=False, postgresql_concurrently=True, if_not_exists=True, **options
            )
        op.drop_index('ix_messages_search', table_name='messages', postgresql_concurrently=True, if_exists=True)


def _invalid(name: str) -> bool:
    return bool(op.get_bind().scalar(sa.text(
        "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
    ), {'name': name}))


def downgrade() -> None:
    """Downgrade schema (pg_trgm stays: other databases' objects may use it)."""
    if not _postgresql():
        op.create_index('ix_messages_search', 'messages', ['shop_id', 'search_text'], unique=False)
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        op.create_index(
            'ix_messages_search', 'messages', ['shop_id', 'search_text'], unique=False, postgresql_concurrently=True
        )
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)

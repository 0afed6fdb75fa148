"""audit_names: an audit event keeps the names the roles table held for its staff actor and for the
staff member a role event is about when it was written (ledger.audit.record): the audit page named
people from the roles table only, so removing someone's role erased their name from every change
they had made

The events written before are named from the roles table as it is now (what the page showed).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 04:00:00.000000

"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF_ID = re.compile(r"[0-9]{1,50}")  # (ledger.audit.STAFF_ID: "system" is the app, not a person)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("target_name", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    named = bind.execute(
        sa.text("SELECT shop_id, user_id, name FROM staff_roles WHERE name IS NOT NULL AND name <> ''")
    ).all()
    for shop_id, user_id, name in named:
        if not STAFF_ID.fullmatch(user_id):
            continue
        values = {"shop": shop_id, "user": user_id, "target": f"user:{user_id}", "name": name}
        bind.execute(
            sa.text("UPDATE audit_events SET actor_name = :name WHERE shop_id = :shop AND actor = :user"),
            values,
        )
        bind.execute(
            sa.text("UPDATE audit_events SET target_name = :name WHERE shop_id = :shop AND target = :target"),
            values,
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("target_name")
        batch_op.drop_column("actor_name")

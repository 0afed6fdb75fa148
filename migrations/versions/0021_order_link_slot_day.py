"""order_link_slot_day: the delivery slot's day and start time (ledger.slot_day), so the Orders
page lists a day's orders in the order they are picked

The columns are added empty and filled from the slot text already kept (migration 0018's: a few
days of orders), in batches, with the parse as it stood when this migration was written (a later
change to ledger.slot_day does not rewrite history). The index (shop, day, start) is built
CONCURRENTLY on PostgreSQL, outside a transaction, as 0019's; an interrupted build (left INVALID)
is dropped and built again by the next upgrade. A plain index on SQLite.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 10:00:00.000000

"""

import re
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_order_links_slot_day"
BATCH = 1000

_DATE = re.compile(
    r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)|(?<!\d)(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?!\d)"
)
_TIME = re.compile(
    r"(?<![\d/.-])(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})|\s?h(?P<h_minute>\d{2})?|(?=\s?[ap]\.?m\b))"
    r"(?:\s?(?P<half>[ap])\.?m\b\.?)?(?![\d/])",
    re.IGNORECASE,
)


def _start(slot: str) -> tuple[date | None, str | None]:
    """ledger.slot_day.slot_start as of this revision."""
    for match in _DATE.finditer(slot):
        if match[1] is not None:
            year = int(match[3]) + 2000 if len(match[3]) == 2 else int(match[3])
            parts = (year, int(match[2]), int(match[1]))
        else:
            parts = (int(match[4]), int(match[5]), int(match[6]))
        try:
            day = date(*parts)
        except ValueError:
            continue
        for found in _TIME.finditer(slot[match.end() :]):
            hour, minute = int(found["hour"]), int(found["minute"] or found["h_minute"] or 0)
            half = (found["half"] or "").lower()
            if half and not 1 <= hour <= 12:
                continue
            if half:
                hour = hour % 12 + (12 if half == "p" else 0)
            if hour < 24 and minute < 60:
                return day, f"{hour:02d}:{minute:02d}"
        return day, None
    return None, None


def upgrade() -> None:
    """Upgrade schema. Resumable: the autocommit block below commits the columns and their backfill
    before the index is built, while alembic_version still names 0020, so an upgrade stopped during
    the build (a deploy's timeout, the build waiting behind a long transaction) runs this again on a
    table that has them: a column there already is not added again (the backfill rewrites the same)."""
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("order_links")}
    wanted = [
        sa.Column("slot_day", sa.Date(), nullable=True),
        sa.Column("slot_time", sa.String(length=5), nullable=True),
    ]
    missing = [column for column in wanted if column.name not in present]
    if missing:
        with op.batch_alter_table("order_links") as batch:
            for column in missing:
                batch.add_column(column)
    bind = op.get_bind()
    links = sa.table(
        "order_links",
        sa.column("id", sa.Integer),
        sa.column("delivery_slot", sa.String),
        sa.column("slot_day", sa.Date),
        sa.column("slot_time", sa.String),
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(links.c.id, links.c.delivery_slot)
            .where(links.c.id > after, links.c.delivery_slot.is_not(None))
            .order_by(links.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, slot in rows:
            day, start = _start(slot)
            if day is not None:
                bind.execute(
                    sa.update(links).where(links.c.id == row_id).values(slot_day=day, slot_time=start)
                )
        after = rows[-1][0]
    if bind.dialect.name != "postgresql":
        op.create_index(NAME, "order_links", ["shop_id", "slot_day", "slot_time"], unique=False)
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
            ["shop_id", "slot_day", "slot_time"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="order_links")
    else:
        with op.get_context().autocommit_block():
            op.drop_index(NAME, table_name="order_links", postgresql_concurrently=True)
    with op.batch_alter_table("order_links") as batch:
        batch.drop_column("slot_time")
        batch.drop_column("slot_day")

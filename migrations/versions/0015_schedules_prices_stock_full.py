"""schedules: the daily full price and stock sweeps (`prices_full`, jobs.prices_full; `stock_full`,
jobs.stock_full) for the shops installed before they existed (a new install gets them from
ledger.schedules.DEFAULT_SCHEDULES); each stopped as the shop's prices or stock schedule is (by an
uninstall, or by the merchant)

Without them, a promotion the ERP gives by its running flag alone never ends in Shopify, and a row
an ERP batch committed later than the read overlap behind its stamp is never sent.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 09:00:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: Union[str, Sequence[str], None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# sweep -> (its cron: ledger.schedules.DEFAULT_SCHEDULES at this revision, the flow it follows)
SWEEPS = {"prices_full": ("30 3 * * *", "prices"), "stock_full": ("45 3 * * *", "stock")}
UNINSTALLED = "uninstalled"  # ledger.schedules.STOPPED_BY_UNINSTALL: turned back on by a reinstall


def upgrade() -> None:
    """Upgrade schema."""
    conn = op.get_bind()
    schedules = sa.table(
        "schedules",
        sa.column("shop_id", sa.Integer),
        sa.column("flow", sa.String),
        sa.column("cron", sa.String),
        sa.column("enabled", sa.Boolean),
        sa.column("last_status", sa.String),
        sa.column("updated_at", sa.DateTime),
        sa.column("cron_changed_at", sa.DateTime),
    )
    now = sa.func.now()
    for sweep, (cron, follows) in SWEEPS.items():
        have = set(conn.execute(sa.select(schedules.c.shop_id).where(schedules.c.flow == sweep)).scalars())
        rows = conn.execute(
            sa.select(schedules.c.shop_id, schedules.c.enabled, schedules.c.last_status).where(
                schedules.c.flow == follows
            )
        ).all()
        for shop_id, enabled, last_status in rows:
            if shop_id in have:
                continue
            conn.execute(
                schedules.insert().values(
                    shop_id=shop_id,
                    flow=sweep,
                    cron=cron,
                    enabled=bool(enabled),
                    last_status=UNINSTALLED if last_status == UNINSTALLED else None,
                    updated_at=now,
                    # a new start: the first tick after the deploy does not run every shop's whole
                    # price and stock reads at once, whatever the hour (jobs.scheduler)
                    cron_changed_at=now,
                )
            )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute(
        sa.text("DELETE FROM schedules WHERE flow IN (:prices, :stock)").bindparams(
            prices="prices_full", stock="stock_full"
        )
    )

"""schedules: the daily full catalog sweep (`catalog_full`, jobs.catalog_full) for the shops
installed before it existed (a new install gets it from ledger.schedules.DEFAULT_SCHEDULES);
stopped as their skus schedule is (by an uninstall, or by the merchant)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:30:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FLOW = "catalog_full"
CRON = "0 5 * * *"  # ledger.schedules.DEFAULT_SCHEDULES at this revision
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
    )
    have = set(conn.execute(sa.select(schedules.c.shop_id).where(schedules.c.flow == FLOW)).scalars())
    rows = conn.execute(
        sa.select(schedules.c.shop_id, schedules.c.enabled, schedules.c.last_status).where(
            schedules.c.flow == "skus"
        )
    ).all()
    now = sa.func.now()
    for shop_id, enabled, last_status in rows:
        if shop_id in have:
            continue
        conn.execute(
            schedules.insert().values(
                shop_id=shop_id,
                flow=FLOW,
                cron=CRON,
                enabled=bool(enabled),
                last_status=UNINSTALLED if last_status == UNINSTALLED else None,
                updated_at=now,
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute(sa.text("DELETE FROM schedules WHERE flow = :flow").bindparams(flow=FLOW))

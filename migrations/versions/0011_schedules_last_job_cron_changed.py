"""schedules: the id of the run the tick last enqueued (`last_job_id`), and when a person last
changed the cron (`cron_changed_at`): the tick checks the run it actually enqueued (not one the
current cron names) and runs no due time from before the edit

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:40:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_job_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("cron_changed_at", sa.DateTime(timezone=True), nullable=True))
    # the daily catalog sweeps 0007 added and no tick ran yet: a new start, or the first tick after
    # the deploy ran every shop's whole catalog read at once, whatever the hour (jobs.scheduler)
    op.execute(
        "UPDATE schedules SET cron_changed_at = CURRENT_TIMESTAMP "
        "WHERE flow = 'catalog_full' AND last_run_at IS NULL"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("cron_changed_at")
        batch_op.drop_column("last_job_id")

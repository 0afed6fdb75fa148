"""A merchant switches a schedule off while the tick is working through the shop's rows (the tick
selects the enabled rows once, then starts each in its own transaction): `_start` never looks at
`enabled` again, so the run of a schedule switched off a moment ago is enqueued and runs."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import Queue
from sqlalchemy import update

from jobs import scheduler
from ledger import queues
from ledger.db import session_scope
from ledger.models import Schedule

T0 = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)


def test_a_schedule_switched_off_while_the_tick_runs_is_not_enqueued(shop_id, rconn, monkeypatch):
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="prices", cron="* * * * *", enabled=True))
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="* * * * *", enabled=True))
    real = queues.enqueue

    def enqueue(func_path, *args, **kwargs):
        job = real(func_path, *args, **kwargs)
        if func_path == "jobs.prices.run":  # the tick is between rows: the merchant's PUT lands
            with session_scope() as session:  # PUT /api/flows/stock/schedule {"enabled": false}
                session.execute(update(Schedule).where(Schedule.flow == "stock").values(enabled=False))
        return job

    monkeypatch.setattr(queues, "enqueue", enqueue)
    enqueued = scheduler.tick(T0)
    catalog = Queue("catalog", connection=rconn)
    assert f"flow-{shop_id}-stock-202611281200" not in catalog.job_ids, (
        f"the stock run was enqueued after the merchant switched the schedule off: {enqueued}"
    )

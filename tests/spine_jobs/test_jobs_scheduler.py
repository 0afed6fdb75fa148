"""The schedule tick: due flows enqueued once per minute, disabled ones and inactive shops skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import select

from jobs import scheduler
from ledger.db import session_scope
from ledger.models import Schedule, Shop
from ledger.schedules import DEFAULT_SCHEDULES, ensure_default_schedules

T0 = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)


def set_schedules(shop_id: int, **crons: str | None) -> None:
    with session_scope() as session:
        for flow, expression in crons.items():
            session.add(
                Schedule(
                    shop_id=shop_id, flow=flow, cron=expression or "* * * * *", enabled=expression is not None
                )
            )


def test_ensure_default_schedules_is_idempotent_and_keeps_edits(shop_id):
    with session_scope() as session:
        rows = ensure_default_schedules(session, shop_id)
        assert {r.flow for r in rows} == set(DEFAULT_SCHEDULES)
        next(r for r in rows if r.flow == "stock").cron = "*/10 * * * *"
    with session_scope() as session:
        ensure_default_schedules(session, shop_id)
        stock = session.scalar(select(Schedule).where(Schedule.flow == "stock"))
        assert stock.cron == "*/10 * * * *"
        assert len(session.scalars(select(Schedule)).all()) == len(DEFAULT_SCHEDULES)
    assert all(scheduler.is_valid_cron(c) for c in DEFAULT_SCHEDULES.values())


def test_tick_enqueues_due_flows_once_per_minute(shop_id, rconn):
    set_schedules(shop_id, order_events="* * * * *", stock="*/5 * * * *", products="0 3 * * *", prices=None)
    first = scheduler.tick(T0)
    stamp = "202611281200"
    assert sorted(first) == sorted(
        [
            f"flow-{shop_id}-order_events-{stamp}",
            f"flow-{shop_id}-stock-{stamp}",
            f"flow-{shop_id}-products-202611280300",
        ]
    )
    assert Queue("orders", connection=rconn).job_ids == [f"flow-{shop_id}-order_events-{stamp}"]
    job = Queue("catalog", connection=rconn).fetch_job(f"flow-{shop_id}-stock-{stamp}")
    assert (job.func_name, job.args) == ("jobs.stock.run", (shop_id,))

    # Same minute again: nothing new (last_run_at, and RQ's unique job ids behind it).
    assert scheduler.tick(T0.replace(second=50)) == []
    # Next minute: only the every-minute flow is due.
    assert scheduler.tick(T0.replace(minute=1)) == [f"flow-{shop_id}-order_events-202611281201"]
    # A second scheduler that lost its ledger state still cannot enqueue a run twice.
    with session_scope() as session:
        for row in session.scalars(select(Schedule)):
            row.last_run_at = None
    assert scheduler.tick(T0.replace(minute=1)) == []
    assert Queue("orders", connection=rconn).count == 2
    assert Queue("catalog", connection=rconn).count == 2
    with session_scope() as session:
        prices = session.scalar(select(Schedule).where(Schedule.flow == "prices"))
        assert prices.last_run_at is None


def test_tick_skips_uninstalled_shops(shop_id, rconn):
    set_schedules(shop_id, order_events="* * * * *")
    with session_scope() as session:
        session.get(Shop, shop_id).status = "uninstalled"
    assert scheduler.tick(T0) == []
    assert Queue("orders", connection=rconn).count == 0


def test_bad_cron_is_marked_not_fatal(shop_id):
    set_schedules(shop_id, stock="not a cron", order_events="* * * * *")
    assert scheduler.tick(T0) == [f"flow-{shop_id}-order_events-202611281200"]
    with session_scope() as session:
        assert session.scalar(select(Schedule).where(Schedule.flow == "stock")).last_status == "bad_cron"


def test_cron_config_registers_the_tick_every_minute(rconn):
    cron = CronScheduler(connection=rconn)
    cron.load_config_from_file("jobs.cron_config")
    [job] = cron.get_jobs()
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.scheduler.tick", "* * * * *", "default")

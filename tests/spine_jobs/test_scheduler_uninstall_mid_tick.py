"""app/uninstalled lands while the tick works through the shop's rows. The tick selected the rows
while the shop was active; `_start` then re-reads each row and never looks at `enabled` or the
row's "uninstalled" status: it enqueues the run and writes "enqueued" over "uninstalled". A
reinstall turns back on only the rows still saying "uninstalled" (ensure_default_schedules), so
that schedule stays switched off for good after the merchant reinstalls: its flow never runs again."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from rq import Queue
from sqlalchemy import select

from jobs import compliance, scheduler
from jobs.inbox import WebhookEvent
from ledger.db import session_scope
from ledger.models import Schedule, Shop, utcnow
from ledger.schedules import ensure_default_schedules

T0 = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)


def test_an_uninstall_during_the_tick_does_not_leave_a_schedule_off_after_the_reinstall(
    shop_id, rconn, monkeypatch
):
    with session_scope() as session:
        domain = session.get(Shop, shop_id).domain
        session.add(Schedule(shop_id=shop_id, flow="order_events", cron="* * * * *", enabled=True))
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="* * * * *", enabled=True))

    real, calls = scheduler.session_scope, []

    @contextmanager
    def scope(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the rows were selected, order_events started; stock is next
            event = WebhookEvent(
                0,
                "app/uninstalled",
                domain,
                None,
                None,
                "2026-10",
                utcnow(),
                {"domain": domain, "myshopify_domain": domain},
            )
            compliance.app_uninstalled(event)
        with real(*args, **kwargs) as session:
            yield session

    monkeypatch.setattr(scheduler, "session_scope", scope)
    scheduler.tick(T0)
    monkeypatch.setattr(scheduler, "session_scope", real)

    with session_scope() as session:
        stock = session.scalar(select(Schedule).where(Schedule.flow == "stock"))
        print("after the tick:", stock.enabled, stock.last_status)
    ran_for_uninstalled = f"flow-{shop_id}-stock-202611281200" in Queue("catalog", connection=rconn).job_ids

    with session_scope() as session:  # the merchant installs the app again (shopify_app.oauth)
        session.get(Shop, shop_id).status = "active"
        ensure_default_schedules(session, shop_id)
    with session_scope() as session:
        stock = session.scalar(select(Schedule).where(Schedule.flow == "stock"))
        assert stock.enabled, (
            f"after the reinstall the stock schedule stays off (last_status {stock.last_status!r}); "
            f"a stock run was enqueued for the uninstalled shop: {ran_for_uninstalled}"
        )

"""The schedule tick: due flows enqueued once per minute, disabled ones and inactive shops skipped,
the tick itself on the short jobs' queue, and a due catalog pass that meets the catalog busy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from jobs import inbox, scheduler
from jobs.locks import flow_lock
from ledger import queues
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


@pytest.mark.parametrize(
    ("zone", "prices_full", "catalog_full"),
    [
        (None, "30 3 * * *", "0 5 * * *"),
        ("America/Sao_Paulo", "30 3 * * *", "0 5 * * *"),
        ("America/Recife", "30 3 * * *", "0 5 * * *"),  # the same offset
        ("America/Cuiaba", "30 4 * * *", "0 6 * * *"),
        ("America/Manaus", "30 4 * * *", "0 6 * * *"),
        ("America/Rio_Branco", "30 5 * * *", "0 7 * * *"),
        # east of the ERP (Brasília, ERP_TIMEZONE's default): the price sweep waits for the ERP's midnight
        ("America/Noronha", "30 3 * * *", "0 4 * * *"),
        ("Asia/Kolkata", "30 3 * * *", "30 20 * * *"),  # a half-hour zone, the day before in UTC
        ("Not/A_Zone", "30 3 * * *", "0 5 * * *"),
    ],
)
def test_the_daily_schedules_run_at_their_time_of_day_in_the_stores_zone(zone, prices_full, catalog_full):
    """00:30 in Brasília is 23:30 in Cuiabá, before the ERP's midnight there: a promotion that ended
    then would stay priced until the next day's sweep. The frequent schedules are the same anywhere."""
    from ledger.schedules import daily_cron

    assert daily_cron("prices_full", zone) == prices_full and daily_cron("catalog_full", zone) == catalog_full
    assert daily_cron("stock", zone) == DEFAULT_SCHEDULES["stock"]
    assert scheduler.is_valid_cron(daily_cron("reconcile", zone))


@pytest.mark.parametrize(
    ("store", "erp", "prices_full", "stock_full"),
    [
        ("America/Sao_Paulo", "America/Campo_Grande", "30 4 * * *", "45 4 * * *"),  # the ERP behind
        ("America/Rio_Branco", "America/Campo_Grande", "30 5 * * *", "45 5 * * *"),  # the store behind
        ("America/Sao_Paulo", "America/Sao_Paulo", "30 3 * * *", "45 3 * * *"),
    ],
)
def test_the_daily_sweeps_of_prices_and_stock_wait_for_the_erps_midnight_too(
    monkeypatch, store, erp, prices_full, stock_full
):
    """The ERP's dates are days in ERP_TIMEZONE (a promotion flagged running ends at its midnight): an
    ERP in Campo Grande behind a store in Brasília had the sweep at 23:30 on its clock, the promotion
    still running a day more. The catalog's and the reconciliation's follow the store's zone alone."""
    from ledger.schedules import daily_cron

    monkeypatch.setenv("ERP_TIMEZONE", erp)
    assert (daily_cron("prices_full", store), daily_cron("stock_full", store)) == (prices_full, stock_full)
    assert daily_cron("catalog_full", "America/Sao_Paulo") == DEFAULT_SCHEDULES["catalog_full"]
    assert daily_cron("reconcile", "America/Sao_Paulo") == DEFAULT_SCHEDULES["reconcile"]


def test_the_daily_defaults_follow_the_zone_read_and_an_edited_one_stays(shop_id):
    from ledger.schedules import follow_zone

    with session_scope() as session:
        ensure_default_schedules(session, shop_id)  # before the zone is read: Brasília's times
        next(r for r in session.scalars(select(Schedule)) if r.flow == "reconcile").cron = "15 9 * * *"
    with session_scope() as session:
        assert sorted(follow_zone(session, shop_id, "America/Cuiaba", None)) == [
            "catalog_full",
            "prices_full",
            "stock_full",
        ]
    with session_scope() as session:
        crons = {r.flow: r.cron for r in session.scalars(select(Schedule))}
    assert crons["prices_full"] == "30 4 * * *" and crons["stock_full"] == "45 4 * * *"
    assert crons["reconcile"] == "15 9 * * *" and crons["stock"] == DEFAULT_SCHEDULES["stock"]
    with session_scope() as session:  # the store moved to Rio Branco's time since
        follow_zone(session, shop_id, "America/Rio_Branco", "America/Cuiaba")
        assert session.scalar(select(Schedule.cron).where(Schedule.flow == "prices_full")) == "30 5 * * *"
    with session_scope() as session:  # each move audited as the system's, and a new start
        from ledger.models import AuditEvent

        moved = session.scalars(select(AuditEvent).where(AuditEvent.action == "schedule.followed_zone")).all()
        assert len(moved) == 6 and {e.actor for e in moved} == {"system"}
        assert {"cron": "30 5 * * *", "zone": "America/Rio_Branco"} in [e.after for e in moved]
        sweep = session.scalars(select(Schedule).where(Schedule.flow == "prices_full")).one()
        assert sweep.cron_changed_at is not None


def test_a_zone_an_older_release_stored_is_followed_at_the_next_session_once(shop_id):
    """A release stored the store's zone at install and wrote the daily sweeps at Brasília's times;
    after the upgrade the zone was known, so nothing moved them: a Cuiabá store's price sweep ran at
    23:30 there for good. The next session moves those never edited, once; an edited one stays."""
    from settings import get_settings
    from shopify_app import shop_timezone
    from tests.spine_jobs.conftest import SHOP

    with session_scope() as session:
        session.get(Shop, shop_id).iana_timezone = "America/Cuiaba"
        for flow, cron in DEFAULT_SCHEDULES.items():  # as that release wrote them: no new start
            session.add(Schedule(shop_id=shop_id, flow=flow, cron=cron, enabled=True))
    with session_scope() as session:
        edited = session.scalars(select(Schedule).where(Schedule.flow == "catalog_full")).one()
        edited.cron_changed_at = edited.updated_at  # a person set it (to the value it had)
    settings = get_settings()
    assert shop_timezone.remember(settings, SHOP) == "America/Cuiaba"
    with session_scope() as session:
        crons = {r.flow: r.cron for r in session.scalars(select(Schedule))}
    assert crons["prices_full"] == "30 4 * * *" and crons["stock_full"] == "45 4 * * *"
    assert crons["catalog_full"] == DEFAULT_SCHEDULES["catalog_full"]
    with session_scope() as session:  # once moved, the next session finds nothing to move
        from ledger.schedules import follow_known_zone

        assert follow_known_zone(session, shop_id, "America/Cuiaba") == []


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
    # Next minute: the every-minute flow is due, but its 12:00 run has not started yet (no
    # worker): it will read every change up to when it starts, so nothing piles up behind it.
    assert scheduler.tick(T0.replace(minute=1)) == []
    orders = Queue("orders", connection=rconn)
    started = orders.fetch_job(f"flow-{shop_id}-order_events-{stamp}")
    orders.remove(started)
    started.set_status(JobStatus.STARTED)  # a worker took it
    assert scheduler.tick(T0.replace(minute=2)) == [f"flow-{shop_id}-order_events-202611281202"]
    # A second scheduler that lost its ledger state still cannot enqueue a run twice.
    with session_scope() as session:
        for row in session.scalars(select(Schedule)):
            row.last_run_at = None
    assert scheduler.tick(T0.replace(minute=2)) == []
    assert orders.count == 1
    assert Queue("catalog", connection=rconn).count == 2
    with session_scope() as session:
        prices = session.scalar(select(Schedule).where(Schedule.flow == "prices"))
        assert prices.last_run_at is None


def test_a_sweep_stopped_by_redis_is_logged_and_the_tick_goes_on(shop_id, rconn, monkeypatch, caplog):
    def stopped(*args, **kwargs):
        raise inbox.SweepStopped([], "ConnectionError")

    monkeypatch.setattr(inbox, "sweep", stopped)
    set_schedules(shop_id, order_events="* * * * *")
    assert scheduler.tick(T0) == [f"flow-{shop_id}-order_events-202611281200"]
    assert "inbox sweep" in caplog.text and "Redis unreachable" in caplog.text


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
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.scheduler.tick", "* * * * *", "webhooks")
    assert job.job_options["failure_ttl"] == queues.FAILURE_TTL  # a tick failing every minute: kept 30 days


def test_the_tick_runs_on_the_short_jobs_worker_while_the_catalog_worker_is_hours_into_a_load(shop_id, rconn):
    """README's layout: `worker -q webhooks -q orders --simple` and `worker -q catalog -q default`.
    On `default` the tick would wait behind a first catalog load (hours): no EventoPedido poll
    (NF-e keys, captures, ERP cancellations), no orders catch-up, no inbox sweep meanwhile."""
    set_schedules(shop_id, order_events="* * * * *")
    catalog = Queue("catalog", connection=rconn)
    load = catalog.enqueue("jobs.products.run", shop_id, job_id="initial-load", job_timeout=7 * 3600)
    catalog.remove(load)
    load.set_status(JobStatus.STARTED)  # the catalog worker's one job at a time
    cron = CronScheduler(connection=rconn)
    cron.load_config_from_file("jobs.cron_config")
    [tick] = cron.get_jobs()
    ticked = tick.enqueue(rconn)  # what `flask --app app cron` does every minute
    short_jobs = [Queue("orders", connection=rconn), Queue("webhooks", connection=rconn)]
    SimpleWorker(short_jobs, connection=rconn).work(burst=True, with_scheduler=False)
    assert ticked.get_status() == JobStatus.FINISHED
    [poll] = ticked.return_value()  # the EventoPedido poll it enqueued, run by the same worker
    assert Job.fetch(poll, connection=rconn).func_name == "jobs.order_events.run"
    assert Job.fetch(poll, connection=rconn).get_status() != JobStatus.QUEUED


def test_each_run_may_last_as_long_as_its_queue_allows_not_rqs_180_seconds(shop_id, rconn):
    """A catalog pass waits on its bulk operation for hours; RQ's default timeout (180 s) would
    kill it, and kill it again on every retry, the watermark never moving."""
    from ledger import queues
    from shopify_app.enqueue import enqueue_run

    set_schedules(shop_id, products="* * * * *", reconcile="* * * * *", order_events="* * * * *")
    timeouts = {Job.fetch(j, connection=rconn).func_name: Job.fetch(j, connection=rconn).timeout
                for j in scheduler.tick(T0)}  # fmt: skip
    assert timeouts == {"jobs.products.run": 7 * 3600, "jobs.reconcile.run": 2 * 3600,
                        "jobs.order_events.run": 15 * 60}  # fmt: skip
    job_id, _ = enqueue_run(shop_id, "stock", rconn)
    assert Job.fetch(job_id, connection=rconn).timeout == queues.JOB_TIMEOUTS[queues.CATALOG]


def test_a_run_redis_lost_before_it_started_is_enqueued_again_once(shop_id, rconn):
    """Redis restarted without its data after the tick enqueued today's reconciliation: the
    next tick enqueues it again (once), instead of waiting for tomorrow's."""
    set_schedules(shop_id, reconcile="0 6 * * *")
    six = datetime(2026, 11, 28, 6, 0, 5, tzinfo=UTC)
    assert scheduler.tick(six) == [f"flow-{shop_id}-reconcile-202611280600"]
    rconn.flushall()
    assert scheduler.tick(six + timedelta(minutes=1)) == [f"flow-{shop_id}-reconcile-202611280600"]
    assert [scheduler.tick(six + timedelta(minutes=m)) for m in (2, 3)] == [[], []]
    assert Queue("default", connection=rconn).count == 1


def test_a_finished_run_is_remembered_until_the_next_due_time(shop_id, rconn):
    """A run that finished is not taken for a lost one: RQ keeps its record past the next due
    time, so later ticks of the same day enqueue nothing."""
    set_schedules(shop_id, reconcile="0 6 * * *")
    six = datetime(2026, 11, 28, 6, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick(six)
    job = Job.fetch(job_id, connection=rconn)
    assert job.result_ttl >= 24 * 3600
    Queue("default", connection=rconn).remove(job)
    job.set_status(JobStatus.FINISHED)
    assert scheduler.tick(six + timedelta(hours=20)) == []
    assert scheduler.tick(six + timedelta(days=1)) == [f"flow-{shop_id}-reconcile-202611290600"]


def test_a_skus_pass_that_met_products_holding_the_catalog_runs_again_shortly(shop_id, rconn, erp_saved):
    """products and skus are due the same minute (*/15 both) and share the shop's catalog lock:
    with two catalog workers the skus pass meets products holding it. Skipped silently, it would
    meet products again at every due time; it is retried (RQ's Retry) instead."""
    with session_scope() as session:
        for row in ensure_default_schedules(session, shop_id):
            row.enabled = row.flow in ("products", "skus")
    due = scheduler.tick(T0)
    assert sorted(due) == [f"flow-{shop_id}-products-202611281200", f"flow-{shop_id}-skus-202611281200"]
    catalog = Queue("catalog", connection=rconn)
    products = catalog.fetch_job(f"flow-{shop_id}-products-202611281200")
    catalog.remove(products)
    products.set_status(JobStatus.STARTED)  # worker A runs the products pass, holding the catalog
    with flow_lock(shop_id, "products"), flow_lock(shop_id, "catalog"):
        SimpleWorker([catalog], connection=rconn).work(burst=True, with_scheduler=False)  # worker B
    skus = catalog.fetch_job(f"flow-{shop_id}-skus-202611281200")
    assert skus.get_status() == JobStatus.SCHEDULED
    assert skus.id in ScheduledJobRegistry(queue=catalog).get_job_ids()


def test_a_pass_of_a_flow_already_running_is_skipped_not_retried(shop_id, rconn, erp_saved):
    catalog = Queue("catalog", connection=rconn)
    job = queues.enqueue("jobs.skus.run", shop_id, queue=queues.CATALOG, job_id="skus-twice", conn=rconn)
    with flow_lock(shop_id, "skus"), flow_lock(shop_id, "catalog"):  # this same flow runs elsewhere
        SimpleWorker([catalog], connection=rconn).work(burst=True, with_scheduler=False)
    assert job.get_status() == JobStatus.FINISHED and job.return_value()["busy"] is True
    assert ScheduledJobRegistry(queue=catalog).get_job_ids() == []


def test_a_pass_still_meeting_a_busy_catalog_on_its_last_try_is_skipped_not_failed(shop_id, rconn, erp_saved):
    """A catalog busy for hours (an initial load) does not leave a failed job every due time: the
    last try skips, and the next due time runs the pass."""
    catalog = Queue("catalog", connection=rconn)
    job = queues.enqueue("jobs.skus.run", shop_id, queue=queues.CATALOG, job_id="skus-last", conn=rconn)
    job.retries_left = 0
    job.save()
    with flow_lock(shop_id, "products"), flow_lock(shop_id, "catalog"):
        SimpleWorker([catalog], connection=rconn).work(burst=True, with_scheduler=False)
    assert job.get_status() == JobStatus.FINISHED and job.return_value()["busy"] is True
    assert FailedJobRegistry(queue=catalog).get_job_ids() == []


def test_a_sweep_failing_with_a_bug_is_logged_loudly_and_every_shops_schedules_still_run(
    shop_id, rconn, monkeypatch, caplog
):
    """Not Redis: a bug in the inbox sweep (or rq refusing a job hash it cannot read) fails the
    sweep only. Every due run is still enqueued; the failure is logged with its traceback, and the
    tick ends failed saying what failed (RQ keeps it on the Failed jobs page)."""

    def broken(*args, **kwargs):
        raise RuntimeError("the sweep's own bug")

    monkeypatch.setattr(inbox, "sweep", broken)
    set_schedules(shop_id, order_events="* * * * *")
    with pytest.raises(scheduler.TickFailed, match=r"inbox sweep.*RuntimeError: the sweep's own bug"):
        scheduler.tick(T0)
    assert Queue("orders", connection=rconn).job_ids == [f"flow-{shop_id}-order_events-202611281200"]
    failed = [r for r in caplog.records if "inbox sweep" in r.getMessage() and r.levelname == "ERROR"]
    assert failed and failed[0].exc_info and "the sweep's own bug" in caplog.text


def test_one_schedule_failing_leaves_the_others_running_and_its_row_says_why(
    shop_id, rconn, monkeypatch, caplog
):
    """A bug while starting one shop's run (here its enqueue) stops that run only: the other shop's
    runs (and the same shop's other flows) are enqueued, the failure is logged with its traceback,
    and the failing schedule's row says in words that the scheduler could not start it (tried
    again at the next tick); the tick ends failed naming it."""
    from ledger.schedules import RUN_RETRYING
    from shopify_app.run_words import last_error

    with session_scope() as session:
        other = Shop(domain="outra-loja.myshopify.com", scopes="read_products", status="active")
        session.add(other)
        session.flush()
        other_id = other.id
    set_schedules(shop_id, order_events="* * * * *", stock="* * * * *")
    set_schedules(other_id, order_events="* * * * *")
    real = queues.enqueue

    def enqueue(func_path, *args, **kwargs):
        if func_path == "jobs.order_events.run" and args[0] == shop_id:
            raise RuntimeError("one shop's bug")
        return real(func_path, *args, **kwargs)

    monkeypatch.setattr(queues, "enqueue", enqueue)
    with pytest.raises(scheduler.TickFailed, match="order_events"):
        scheduler.tick(T0)
    assert Queue("orders", connection=rconn).job_ids == [f"flow-{other_id}-order_events-202611281200"]
    assert Queue("catalog", connection=rconn).job_ids == [f"flow-{shop_id}-stock-202611281200"]
    assert any(r.exc_info and r.levelname == "ERROR" for r in caplog.records), caplog.text
    with session_scope() as session:
        row = session.scalar(
            select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == "order_events")
        )
        assert row.last_status == RUN_RETRYING and "RuntimeError: one shop's bug" in row.last_error
        assert row.last_run_at is None  # not enqueued: the next tick starts it
        said = last_error(row, "pt-BR")
        assert said and "agendador" in said and "one shop's bug" in said, said
        assert "scheduler could not start" in (last_error(row, "en") or "")

    monkeypatch.setattr(queues, "enqueue", real)  # the bug gone: the next tick starts it
    assert scheduler.tick(T0.replace(second=50)) == [f"flow-{shop_id}-order_events-202611281200"]


def test_a_tick_during_a_redis_outage_leaves_a_schedule_not_due_as_its_run_ended(shop_id, rconn, monkeypatch):
    """Redis unreachable for one tick: the daily sweep, ended ok at 05:40 and not due again until
    tomorrow, is not asked about (RQ was asked first, and the failure wrote "retrying: the scheduler
    could not start this run" over its outcome for a day); and Redis back without its data (the
    restart that caused it), that ended run is not taken for one Redis lost and run again."""
    import redis as redis_py

    from ledger.schedules import RUN_OK

    five = datetime(2026, 11, 28, 5, 0, 20, tzinfo=UTC)
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="catalog_full", cron="0 5 * * *", enabled=True))
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="*/3 * * * *", enabled=True))
    full = scheduler.flow_job_id(shop_id, "catalog_full", five.replace(second=0))
    assert full in scheduler.tick(five)
    job = Job.fetch(full, connection=rconn)
    Queue("catalog", connection=rconn).remove(job)
    job.set_status(JobStatus.FINISHED)
    with session_scope() as session:  # as ledger.run_outcome writes its end
        row = session.scalar(select(Schedule).where(Schedule.flow == "catalog_full"))
        row.last_status, row.last_ended_at = RUN_OK, five + timedelta(minutes=40)

    noon = datetime(2026, 11, 28, 12, 0, 10, tzinfo=UTC)
    real = queues.connection
    with monkeypatch.context() as down:
        # built as ledger.kv builds the app's (from a URL: no redis-py retry with backoff, which a
        # client built from host and port has, ~8 s a command against a refused port)
        down.setattr(queues, "connection", lambda: redis_py.Redis.from_url("redis://127.0.0.1:1/0"))
        with pytest.raises(scheduler.TickFailed):
            scheduler.tick(noon)  # (the stock schedule, due, could not start: said on its row)
    assert queues.connection is real
    rconn.flushall()  # back without its data
    for minute in range(1, 4):
        assert full not in scheduler.tick(noon + timedelta(minutes=minute))
    with session_scope() as session:
        row = session.scalar(select(Schedule).where(Schedule.flow == "catalog_full"))
        assert (row.last_status, row.last_error) == (RUN_OK, None)

"""Flows dashboard: rows for the twelve flows, schedules, run now, metrics, and the change poll."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import update

from jobs import scheduler, variant_quota
from jobs.worker import run_worker
from ledger import mappings, queues
from ledger import variant_quota as ledger_quota
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected, Transient
from ledger.kv import reset_clients
from ledger.models import AuditEvent, ErpConnection, Message, Role, Schedule, Watermark, utcnow

from .conftest import SHOP_B, headers, queued


def test_one_row_per_flow_with_counts_schedule_watermark_and_running(client, settings, shops, message, rq):
    with session_scope(settings.database_url) as session:
        # Installing created the default schedules; the stock flow is mid-run.
        stock_schedule = session.query(Schedule).filter_by(shop_id=shops.a, flow="stock").one()
        stock_schedule.progress = {"done": 5, "total": 9}
        session.add(Watermark(shop_id=shops.a, flow="stock", scope="1", last_changed_at=utcnow(), page=2))
    message(shops.a, "stock", "sku-1", done=True)
    message(shops.a, "stock", "sku-2", error=Rejected("no", system="shopify"))
    message(shops.b, "stock", "sku-3", done=True)
    rq.set(f"lock:flow:{shops.a}:stock", "token")
    body = client.get("/api/flows?locale=en", headers=headers(Role.VIEWER)).get_json()
    rows = {row["name"]: row for row in body["flows"]}
    assert list(rows) == [
        "products",
        "skus",
        "catalog_full",
        "prices",
        "prices_full",
        "stock",
        "stock_full",
        "orders",
        "order_edits",
        "invoices",
        "cancellations",
        "reconcile",
    ]
    stock = rows["stock"]
    assert (
        stock["label"] == "Stock"
        and stock["running"] is True
        and stock["progress"] == {"done": 5, "total": 9}
    )
    assert stock["counts_24h"]["done"] == 1 and stock["counts_24h"]["failed"] == 1
    assert stock["schedule"]["cron"] == "*/3 * * * *" and stock["schedule"]["next_run_at"] is not None
    assert [w["scope"] for w in stock["watermarks"]] == ["1"]
    # Orders come by webhook; their schedule is the catch-up pass.
    assert rows["orders"]["webhook_only"] is False and rows["orders"]["schedule"]["cron"] == "*/5 * * * *"
    assert rows["products"]["running"] is False and rows["products"]["schedule"]["cron"] == "*/15 * * * *"
    # The daily whole reads of prices and stock, after the ERP's midnight (00:30, 00:45 in Brasília).
    for name, label, cron in (("prices_full", "Full price sweep", "30 3 * * *"),
                              ("stock_full", "Full stock sweep", "45 3 * * *")):  # fmt: skip
        sweep = rows[name]
        assert (sweep["label"], sweep["webhook_only"], sweep["queue"]) == (label, False, "catalog")
        assert sweep["schedule"]["cron"] == cron and sweep["schedule"]["enabled"] is True
        assert sweep["schedule"]["next_run_at"] is not None and sweep["running"] is False


def test_a_catalog_flow_whose_shared_catalog_lock_the_other_holds_is_shown_waiting(client, shops, rq):
    """products and skus share the shop's catalog lock: while products holds it, skus is not
    running but waiting (its run, now or due, starts once the catalog is free)."""
    rq.set(f"lock:flow:{shops.a}:products", "token")
    rq.set(f"lock:flow:{shops.a}:catalog", "token")
    rows = {row["name"]: row for row in client.get("/api/flows", headers=headers()).get_json()["flows"]}
    assert (rows["products"]["running"], rows["products"]["waiting"]) == (True, False)
    assert (rows["skus"]["running"], rows["skus"]["waiting"]) == (False, True)
    assert not any(rows[name]["waiting"] for name in rows if name not in ("products", "skus"))
    rq.delete(f"lock:flow:{shops.a}:products", f"lock:flow:{shops.a}:catalog")
    rows = {row["name"]: row for row in client.get("/api/flows", headers=headers()).get_json()["flows"]}
    assert not rows["skus"]["waiting"] and not rows["skus"]["running"]


def test_schedule_validation_shared_schedule_and_audit(client, settings, shops):
    bad = client.put("/api/flows/stock/schedule", json={"cron": "every minute"}, headers=headers())
    assert bad.status_code == 400 and "cron" in bad.get_json()["error"]["fields"]
    never = client.put("/api/flows/stock/schedule", json={"cron": "0 0 30 2 *"}, headers=headers())
    assert never.status_code == 400 and "never fires" in never.get_json()["error"]["fields"]["cron"]
    for drawn in ("R * * * *", "0 R(1-5) * * *", "R 3 * * 1-5"):  # new times on every tick
        refused = client.put("/api/flows/stock/schedule", json={"cron": drawn}, headers=headers())
        assert refused.status_code == 400 and "at random" in refused.get_json()["error"]["fields"]["cron"], (
            drawn
        )
    months = client.put("/api/flows/stock/schedule", json={"cron": "0 3 * mar-dec *"}, headers=headers())
    assert months.status_code == 200  # a month's name is no R
    six = client.put("/api/flows/stock/schedule", json={"cron": "* * * * * *"}, headers=headers())
    assert six.status_code == 400
    ok = client.put(
        "/api/flows/invoices/schedule", json={"cron": "*/2 * * * *", "enabled": False}, headers=headers()
    )
    assert (
        ok.status_code == 200
        and ok.get_json()["name"] == "order_events"
        and ok.get_json()["next_run_at"] is None
    )
    rows = {r["name"]: r for r in client.get("/api/flows", headers=headers()).get_json()["flows"]}
    assert rows["cancellations"]["schedule"]["cron"] == "*/2 * * * *"
    assert (
        client.put("/api/flows/nope/schedule", json={"cron": "* * * * *"}, headers=headers()).status_code
        == 404
    )
    with session_scope(settings.database_url) as session:
        other = session.query(Schedule).filter_by(shop_id=shops.b, flow="order_events").one()
        assert other.cron == "* * * * *" and other.enabled  # another shop's schedule is untouched


def test_switching_a_schedule_off_keeps_the_expression_another_admin_saved(client, shops):
    """The switch sends {"enabled": ...} alone: a page loaded before another admin's edit does not
    put its old expression back."""
    put = lambda body: client.put("/api/flows/stock/schedule", json=body, headers=headers())  # noqa: E731
    assert put({"cron": "*/7 * * * *"}).status_code == 200
    off = put({"enabled": False})
    assert off.status_code == 200
    assert (off.get_json()["cron"], off.get_json()["enabled"]) == ("*/7 * * * *", False)
    bad = put({"enabled": "no"})
    assert bad.status_code == 400 and set(bad.get_json()["error"]["fields"]) == {"cron", "enabled"}


def test_run_now_enqueues_the_run_job_once(client, shops, rq):
    first = client.post("/api/flows/prices/run", headers=headers(Role.OPERATOR))
    assert first.status_code == 202 and first.get_json()["enqueued"] is True
    again = client.post("/api/flows/prices/run", headers=headers(Role.OPERATOR)).get_json()
    assert again["enqueued"] is False and again["job_id"] == first.get_json()["job_id"]
    assert queued(rq, "catalog") == [("jobs.prices.run", (shops.a,))]
    # Once that run has ended, "run now" works again (RQ keeps ended jobs under their id).
    job = Job.fetch(first.get_json()["job_id"], connection=rq)
    Queue("catalog", connection=rq).remove(job)
    job.set_status(JobStatus.FINISHED)
    assert client.post("/api/flows/prices/run", headers=headers(Role.OPERATOR)).get_json()["enqueued"] is True
    assert queued(rq, "catalog") == [("jobs.prices.run", (shops.a,))]
    assert client.post("/api/flows/orders/run", headers=headers(Role.OPERATOR)).status_code == 202
    assert queued(rq, "orders") == [("jobs.orders.run", (shops.a,))]


def test_metrics_per_hour_and_per_flow(client, shops, message):
    message(shops.a, "orders", "o-1", done=True)
    message(shops.a, "orders", "o-2", error=Rejected("no", system="consinco"))
    message(shops.a, "skus", "s-1", done=True)
    message(shops.b, "skus", "s-9", done=True)
    body = client.get("/api/flows/metrics?hours=3", headers=headers(Role.VIEWER)).get_json()
    assert len(body["per_hour"]) == 3
    assert sum(h["total"] for h in body["per_hour"]) == 3 and sum(h["failed"] for h in body["per_hour"]) == 1
    assert body["per_flow"] == [
        {"flow": "orders", "total": 2, "failed": 1},
        {"flow": "skus", "total": 1, "failed": 0},
    ]
    assert client.get("/api/flows/metrics?hours=0", headers=headers()).status_code == 400


def test_changes_poll_reports_new_messages_and_lock_changes(client, shops, message, rq):
    first = client.get("/api/flows/changes", headers=headers()).get_json()
    assert first["changed"] is True
    cursor = first["cursor"]
    assert client.get(f"/api/flows/changes?since={cursor}", headers=headers()).get_json()["changed"] is False
    message(shops.b, "orders", "o-b", done=True)  # another shop's work is not a change here
    assert client.get(f"/api/flows/changes?since={cursor}", headers=headers()).get_json()["changed"] is False
    message(shops.a, "orders", "o-a", done=True)
    moved = client.get(f"/api/flows/changes?since={cursor}", headers=headers()).get_json()
    assert moved["changed"] is True and moved["cursor"] != cursor
    rq.set(f"lock:flow:{shops.a}:order_events", "token")
    locked = client.get(f"/api/flows/changes?since={moved['cursor']}", headers=headers()).get_json()
    assert locked["changed"] is True and set(locked["running"]) == {
        "order_edits",
        "invoices",
        "cancellations",
    }
    running = ",".join(locked["running"])
    quiet = client.get(f"/api/flows/changes?since={moved['cursor']}&running={running}", headers=headers())
    assert quiet.get_json()["changed"] is False


def test_a_job_reaching_rqs_failed_registry_is_a_change_for_the_failed_jobs_list(client, shops, rq):
    """A run's failure is written on its row before RQ moves its job to the failed registry: a poll
    between the two re-read the dashboard without the job, so the registries are compared too, by a
    mark of the shop's that tells no other shop how many jobs failed (their size counts every shop's)."""
    from rq.registry import FailedJobRegistry
    from spine_auth.factories import SHOP_B

    from ledger import queues

    listed = client.get("/api/jobs/failed", headers=headers()).get_json()
    first = client.get("/api/flows/changes", headers=headers()).get_json()
    assert first["failed_mark"] == listed["failed_mark"] and len(listed["failed_mark"]) == 16
    other = client.get("/api/jobs/failed", headers=headers(shop=SHOP_B)).get_json()["failed_mark"]
    assert other != listed["failed_mark"]  # each shop's own: no shop reads another's
    seen = f"since={first['cursor']}&failed={listed['failed_mark']}"
    assert client.get(f"/api/flows/changes?{seen}", headers=headers()).get_json()["changed"] is False
    job = queues.enqueue("jobs.stock.run", shops.b, queue="catalog", job_id="flow-stock-x", conn=rq)
    FailedJobRegistry(queue=queues.get_queue("catalog", rq)).add(job, exc_string="boom")  # another shop's too
    moved = client.get(f"/api/flows/changes?{seen}", headers=headers()).get_json()
    assert moved["changed"] is True and moved["failed_mark"] not in (listed["failed_mark"], "1", 1)
    assert (
        client.get(f"/api/flows/changes?since={first['cursor']}", headers=headers()).get_json()["changed"]
        is False
    )


def test_a_run_ending_while_the_dashboard_is_read_is_a_change_for_the_next_poll(
    client, settings, shops, monkeypatch
):
    """A stock run's outcome committed after the rows were read but before the read ended: the
    cursor the page keeps must not already hold it, or no poll would ever show the failed run."""
    from ledger import run_outcome
    from shopify_app import api_flows

    real = api_flows.stuck_counts  # read after the schedules

    def outcome_meanwhile(session, shop_id, now):
        assert run_outcome.record(shop_id, "stock", "failed", "Consinco unreachable")
        return real(session, shop_id, now)

    monkeypatch.setattr(api_flows, "stuck_counts", outcome_meanwhile)
    body = client.get("/api/flows", headers=headers()).get_json()
    monkeypatch.setattr(api_flows, "stuck_counts", real)
    [stock] = [row for row in body["flows"] if row["name"] == "stock"]
    assert stock["schedule"].get("last_status") != "failed"  # the rows were read before it
    poll = client.get(f"/api/flows/changes?since={body['cursor']}", headers=headers()).get_json()
    assert poll["changed"] is True
    again = client.get("/api/flows", headers=headers()).get_json()
    [stock] = [row for row in again["flows"] if row["name"] == "stock"]
    assert stock["schedule"]["last_status"] == "failed"


def test_changing_only_the_cron_keeps_a_schedule_the_merchant_stopped_stopped(client, settings, shops):
    """The dashboard's cron editor sends only {"cron": ...}: a stopped schedule stays stopped."""
    from ledger.models import Schedule

    off = client.put(
        "/api/flows/stock/schedule", json={"cron": "*/3 * * * *", "enabled": False}, headers=headers()
    )
    assert off.status_code == 200 and off.get_json()["enabled"] is False
    edit = client.put("/api/flows/stock/schedule", json={"cron": "*/10 * * * *"}, headers=headers())
    assert edit.status_code == 200 and edit.get_json()["enabled"] is False
    with session_scope(settings.database_url) as session:
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="stock").one()
        assert (row.cron, row.enabled) == ("*/10 * * * *", False)
    fresh = client.put("/api/flows/prices/schedule", json={"cron": "*/10 * * * *"}, headers=headers())
    assert fresh.get_json()["enabled"] is True  # a schedule written the first time starts on


def test_editing_a_schedules_time_runs_nothing_until_its_next_due_time(client, settings, shops, rq):
    """A daily run moved to a time already past today: the edit is a new start, the tick does not
    catch up today's (jobs.scheduler: cron_changed_at)."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        for row in session.query(Schedule).all():
            row.enabled = row.shop_id == shops.a and row.flow == "catalog_full"
            row.cron_changed_at = None  # installed days ago
    [ran] = scheduler.tick(now - timedelta(hours=2))  # the sweep's run two hours ago
    Job.fetch(ran, connection=rq).set_status(JobStatus.FINISHED)
    past = now - timedelta(minutes=2)
    cron = f"{past.minute} {past.hour} * * *"
    moved = client.put("/api/flows/catalog_full/schedule", json={"cron": cron}, headers=headers())
    assert moved.status_code == 200
    assert scheduler.tick(now) == [], "editing the schedule's time ran the sweep at once"
    assert len(scheduler.tick(past + timedelta(days=1))) == 1  # tomorrow at the new time
    with session_scope(settings.database_url) as session:
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="catalog_full").one()
        edited = row.cron_changed_at
        assert edited is not None
    client.put("/api/flows/catalog_full/schedule", json={"cron": cron, "enabled": False}, headers=headers())
    with session_scope(settings.database_url) as session:
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="catalog_full").one()
        assert row.cron_changed_at == edited  # stopping it is no change of time


def test_switching_a_schedule_back_on_runs_nothing_it_missed_while_off(client, settings, shops, rq):
    """A daily sweep paused for days and switched back on: its due time missed while it was off
    ran at once (not at the time the page shows next); switching it on is a new start."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        for row in session.query(Schedule).all():
            row.enabled = row.shop_id == shops.a and row.flow == "reconcile"
            row.cron_changed_at = None
    past = now - timedelta(minutes=30)
    cron = f"{past.minute} {past.hour} * * *"
    client.put("/api/flows/reconcile/schedule", json={"cron": cron, "enabled": False}, headers=headers())
    with session_scope(settings.database_url) as session:  # off since before today's due time
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="reconcile").one()
        row.cron_changed_at = now - timedelta(days=3)
    back = client.put("/api/flows/reconcile/schedule", json={"enabled": True}, headers=headers())
    assert back.status_code == 200
    assert scheduler.tick(now) == [], "switching the schedule back on ran the missed sweep at once"
    assert len(scheduler.tick(past + timedelta(days=1))) == 1  # its next time


def test_a_fresh_install_runs_no_daily_sweep_at_once(client, settings, shops, rq):
    """The install creates the schedules: a daily sweep's due time before it is not run (the
    install ran the four daily sweeps at once, a whole catalog read on top of the initial load,
    before the ERP connection was saved); the incremental flows start at their next minutes."""
    from ledger.schedules import DAILY, ensure_default_schedules

    with session_scope(settings.database_url) as session:
        session.query(Schedule).filter_by(shop_id=shops.a).delete()
        ensure_default_schedules(session, shops.a)
        for row in session.query(Schedule).filter(Schedule.shop_id != shops.a).all():
            row.enabled = False
    ran = scheduler.tick(utcnow() + timedelta(minutes=1))
    flows = {job_id.split("-")[2] for job_id in ran}
    assert flows and not flows & set(DAILY), ran


def _rows(client, locale: str = "pt-BR") -> dict[str, dict]:
    answer = client.get(f"/api/flows?locale={locale}", headers=headers(Role.VIEWER)).get_json()
    return {f["name"]: f for f in answer["flows"]}


def _stock_row(client, locale: str = "pt-BR") -> dict:
    return _rows(client, locale)["stock"]


def test_a_stock_run_failing_with_the_erp_down_through_every_retry_shows_on_its_row(
    client, settings, shops, rq
):
    """The ERP unreachable for the whole retry schedule: the pass writes no message (it never got
    to a company), so its row is what tells the merchant that Shopify's stock stopped moving:
    retrying while RQ tries again, then failed with the error, and the run in the failed list."""
    with session_scope(settings.database_url) as session:
        session.add(ErpConnection(shop_id=shops.a, base_url=settings.erp_base_url, username="u",
                                  password_enc=encrypt("p", settings.encryption_keys)))  # fmt: skip
        mappings.set_store_link(session, shops.a, 1, 1)
        for row in session.query(Schedule).all():
            row.enabled = row.shop_id == shops.a and row.flow == "stock"
            row.cron = "* * * * *"
    reset_clients()
    [run] = scheduler.tick()
    assert _stock_row(client)["schedule"]["last_status"] == "enqueued"
    catalog = Queue("catalog", connection=rq)
    run_worker(("catalog",), burst=True, simple=True, with_scheduler=False)
    retrying = _stock_row(client)["schedule"]
    # the job's English line, said in the page's language (shopify_app.run_words)
    assert retrying["last_status"] == "retrying"
    assert retrying["last_error"] == (
        "O ERP (Consinco) não respondeu em api/v1/Auth/Login (ConnectionError), nem depois das novas "
        "tentativas: ele está fora do ar ou inacessível daqui"
    )
    assert _stock_row(client, "en")["schedule"]["last_error"] == (
        "Consinco (the ERP) did not answer at api/v1/Auth/Login (ConnectionError), not even after retries: "
        "it is down or unreachable from here"
    )
    with session_scope(settings.database_url) as session:
        stored = session.query(Schedule).filter_by(shop_id=shops.a, flow="stock").one()
        # the English line stays, for logs and search
        assert stored.last_error == "Consinco unreachable at api/v1/Auth/Login: ConnectionError"
    for _ in queues.RETRY_INTERVALS:  # every retry at once, instead of 10 s .. 5 min apart
        for job_id in ScheduledJobRegistry(queue=catalog).get_job_ids():
            ScheduledJobRegistry(queue=catalog).remove(job_id)
            catalog.enqueue_job(catalog.fetch_job(job_id))
        run_worker(("catalog",), burst=True, simple=True, with_scheduler=False)
    assert FailedJobRegistry(queue=catalog).get_job_ids() == [run]
    failed = _stock_row(client)["schedule"]
    assert failed["last_status"] == "failed"
    assert (
        failed["last_error"] == retrying["last_error"]
        and failed["last_ended_at"] >= retrying["last_ended_at"]
    )
    listed = client.get("/api/jobs/failed", headers=headers(Role.VIEWER)).get_json()["jobs"]
    assert [(j["id"], j["func"]) for j in listed] == [(run, "jobs.stock.run")]
    # The next due run waits with the failure still shown.
    assert scheduler.tick(utcnow() + timedelta(minutes=1))
    assert _stock_row(client)["schedule"]["last_status"] == "failed"


def test_open_failures_count_whatever_their_age_done_the_last_24_hours(client, settings, shops, message):
    """A TOTALS_MISMATCH order refused on Friday is still failed (no ERP order) on Monday: its
    count links to a Messages list that shows it, so the count shows it too."""
    old = utcnow() - timedelta(hours=60)
    failed = message(shops.a, "orders", "order:1001", error=Rejected("totals differ", system="app", code="X"))
    parked = message(shops.a, "orders", "order:1002", error=MappingMissing("carrier", "Sedex"))
    retrying = message(shops.a, "orders", "order:1003", error=Transient("ERP unreachable"))
    stale = message(shops.a, "orders", "order:1004")  # begun, its job lost
    done = message(shops.a, "orders", "order:1000", done=True)
    message(shops.a, "orders", "order:1005", done=True)  # today
    with session_scope(settings.database_url) as session:
        session.execute(update(Message).where(Message.id.in_([failed, parked, retrying, stale, done]))
                        .values(created_at=old, updated_at=old))  # fmt: skip
    assert _rows(client)["orders"]["counts_24h"] == {
        "done": 1, "failed": 1, "parked": 1, "retrying": 1, "pending": 1, "skipped": 0, "stuck": 1,
        "stuck_retrying": 0,
    }  # fmt: skip
    listed = client.get("/api/messages?flow=orders&status=failed", headers=headers(Role.VIEWER)).get_json()
    assert [m["id"] for m in listed["messages"]] == [failed]


def test_a_reconciliation_that_found_drift_says_so_on_its_row_and_in_the_messages(client, settings, shops):
    """A report that ends done is no plain "ok": its row and its message carry what it found (the
    non-zero drift counts; orders the app holds are no drift), which the pages name in the
    merchant's language; a report that found nothing carries none."""
    from ledger import trace

    report = {"summary": {"order_totals_differ": 2, "orders_held_in_app": 3, "stock_differs": 0,
                          "prices_differ_in_shopify": 1, "errors": []}}  # fmt: skip
    with session_scope(settings.database_url) as session:
        clean = trace.begin(session, shops.a, "reconcile", "report:2026-11-27", "both")
        trace.succeed(session, clean, response={"summary": {"order_totals_differ": 0, "errors": []}})
        found = trace.begin(session, shops.a, "reconcile", "report:2026-11-28", "both")
        trace.succeed(session, found, response=report)
        session.execute(update(Schedule).where(Schedule.shop_id == shops.a, Schedule.flow == "reconcile")
                        .values(last_status="ok", last_ended_at=utcnow()))  # fmt: skip
    rows = _rows(client)
    assert rows["reconcile"]["schedule"]["last_findings"] == {
        "order_totals_differ": 2,
        "prices_differ_in_shopify": 1,
    }
    assert rows["stock"]["schedule"]["last_findings"] is None
    listed = client.get("/api/messages?flow=reconcile", headers=headers(Role.VIEWER)).get_json()["messages"]
    assert [m["findings"] for m in listed] == [
        {"order_totals_differ": 2, "prices_differ_in_shopify": 1},
        None,
    ]


def test_shopifys_daily_limit_on_new_variants_is_said_above_the_flows(client, settings, shops, message):
    """While Shopify's daily limit on new variants holds new products (jobs.variant_quota), the page
    says how many wait and when the app tries again; a shop without a hold reads null."""
    assert client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["variant_quota"] is None
    refused = utcnow() - timedelta(minutes=10)
    with session_scope(settings.database_url) as session:
        until = ledger_quota.hold(session, shops.a, refused)
    for seq in (5, 7):
        message(shops.a, "products", f"product:{seq}", error=variant_quota.waiting_error(until))
    message(shops.a, "products", "product:9", error=Transient("Shopify down"))  # retrying, not for the limit
    quota = client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["variant_quota"]
    assert quota["waiting"] == 2 and quota["held"] is True
    assert quota["since"] == quota["at"] and quota["until"] > quota["at"]
    assert (
        client.get("/api/flows", headers=headers(Role.VIEWER, shop=SHOP_B)).get_json()["variant_quota"]
        is None
    )
    with session_scope(settings.database_url) as session:  # the hour over: the next products run tries
        ledger_quota.hold(session, shops.a, refused - ledger_quota.HOLD)
    assert client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["variant_quota"]["held"] is False


def test_switching_a_schedule_off_cancels_its_run_still_waiting(client, settings, shops, rq):
    """The tick's run queued behind a busy worker (or waiting for a retry) still ran, retries and
    all, after the merchant switched the flow off; now it is cancelled, and the audit names it. A
    "run now" is no schedule's and stays."""
    with session_scope(settings.database_url) as session:
        for row in session.query(Schedule).all():
            row.enabled = row.shop_id == shops.a and row.flow == "stock"
    [waiting] = scheduler.tick(utcnow())
    assert any(args == (shops.a,) for func, args in queued(rq, "catalog") if func == "jobs.stock.run")
    off = client.put("/api/flows/stock/schedule", json={"enabled": False}, headers=headers())
    assert off.status_code == 200, off.get_json()
    assert [job for job in queued(rq, "catalog") if job[0] == "jobs.stock.run"] == []
    assert Job.fetch(waiting, connection=rq).get_status() == JobStatus.CANCELED
    with session_scope(settings.database_url) as session:
        [audit] = session.query(AuditEvent).filter_by(action="schedule.changed").all()
        assert audit.after["cancelled_run"] == waiting
    assert scheduler.tick(utcnow()) == []  # off: nothing more


def test_a_schedule_switched_off_while_its_run_runs_is_not_retried(client, settings, shops, rq, monkeypatch):
    """Switching off cancels a run still waiting; the run that was running (a stock pass failing
    on the ERP while the team stops the flow for a stock count) raised, and RQ retried it: up to ~9
    minutes of passes of a flow the page shows off. Now its last try is its last; the Flows page
    says it failed, with why."""
    from jobs import stock
    from jobs.worker import build_worker

    with session_scope(settings.database_url) as session:
        for row in session.query(Schedule).all():
            row.enabled = row.shop_id == shops.a and row.flow == "stock"
    [job_id] = scheduler.tick(utcnow())
    runs = []

    def erp_down(shop_id, *args, **kwargs):
        runs.append(shop_id)
        off = client.put("/api/flows/stock/schedule", json={"enabled": False}, headers=headers())
        assert off.status_code == 200, off.get_json()
        raise Transient("Consinco unreachable")

    monkeypatch.setattr(stock, "_run", erp_down)
    build_worker([queues.CATALOG], simple=True, conn=rq).work(burst=True, with_scheduler=False)
    assert runs == [shops.a]
    job = Job.fetch(job_id, connection=rq)
    assert job.get_status() == JobStatus.FAILED and job_id not in ScheduledJobRegistry(
        "catalog", connection=rq
    )
    with session_scope(settings.database_url) as session:
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="stock").one()
        assert (row.enabled, row.last_status, row.last_error) == (False, "failed", "Consinco unreachable")

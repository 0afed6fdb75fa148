"""The alert e-mail where a review found it silent or wrong: a lost Retry crashed every alert of the
shop, a shop whose grant Shopify refused was never told, an order drowned in a night of catalog
failures, two runs at once sent the same items, and the e-mail had no Date."""

from __future__ import annotations

import threading
from datetime import timedelta

from jobs import alerts
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected, Transient
from ledger.models import AlertState, Message, Shop, ShopStatus, utcnow

from .test_alerts import ORDER, _fail, _no_lines, _shop, mail  # noqa: F401 (the fixture)


def test_a_retry_whose_job_was_lost_is_told_as_interrupted_beside_the_rest(mail) -> None:  # noqa: F811
    """A person's Retry left retrying, its job gone from Redis: ledger.stuck counts it interrupted.
    Its group was "<flow>:retrying", which has no heading: the run failed on it, every 10 minutes,
    and the failed order beside it was never told either."""
    shop_id = _shop()
    _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"))
    with session_scope() as session:
        message = trace.begin(session, shop_id, "products", "product:10", "erp_to_shopify", erp_id="10",
                              job_id=f"replay-{shop_id}-1-2")  # fmt: skip
        trace.fail(session, message, Transient("Shopify answered HTTP 503"))
        message.updated_at = utcnow() - timedelta(minutes=20)
    assert alerts.run(shop_id)["items"] == 2
    [sent] = mail.received
    assert "#1001" in sent.text and "interrompida" in sent.text
    assert alerts.run(shop_id) == {"items": 0}  # told once while it stays interrupted


def test_a_shop_whose_grant_shopify_refused_is_told_once_first_in_the_email(mail) -> None:  # noqa: F811
    shop_id = _shop()
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.status, shop.status_reason = ShopStatus.NEEDS_REAUTH.value, "401: invalid access token"
    _fail(shop_id, "orders", f"order:{ORDER}3001", _no_lines("#3001"))
    assert alerts.enqueue_due(utcnow())  # the tick enqueues its run
    assert alerts.run(shop_id)["items"] == 2
    [sent] = mail.received
    body = sent.text
    assert body.index("A Shopify recusou o acesso do app") < body.index("#3001")
    assert "aprove as permissões de novo" in body and "401: invalid access token" in body
    assert alerts.run(shop_id) == {"items": 0}
    with session_scope() as session:
        session.get(Shop, shop_id).status = ShopStatus.ACTIVE.value
    alerts.run(shop_id)
    with session_scope() as session:
        assert alerts.ACCESS_KEY not in session.get(AlertState, shop_id).told  # approved: forgotten


def test_an_order_is_named_before_a_night_of_catalog_failures(mail) -> None:  # noqa: F811
    shop_id = _shop()
    for n in range(alerts.LISTED + 5):
        refused = Rejected("Title can't be blank", system="shopify")
        message_id = _fail(shop_id, "products", f"product:{n}", refused, erp_id=str(n))
        with session_scope() as session:
            from ledger.models import Message

            session.get(Message, message_id).updated_at = utcnow() - timedelta(hours=5)
    _fail(shop_id, "orders", f"order:{ORDER}7001", MappingMissing("payment_method", "pix"))
    assert alerts.run(shop_id)["items"] == alerts.LISTED + 6
    [sent] = mail.received
    assert "/app/messages/" in sent.text and sent.text.index("Pedidos") < sent.text.index("Produtos")
    assert "pix" in sent.text and "e mais 6" in sent.text


def test_two_runs_of_one_shop_at_once_send_one_email(mail, monkeypatch) -> None:  # noqa: F811
    shop_id = _shop()
    _fail(shop_id, "orders", f"order:{ORDER}6001", _no_lines("#6001"))
    real_send, started = alerts.mail.send, threading.Event()

    def slow_send(settings, email):
        started.set()
        threading.Event().wait(3)  # the other run comes meanwhile
        return real_send(settings, email)

    monkeypatch.setattr(alerts.mail, "send", slow_send)
    results: list[dict] = []
    first = threading.Thread(target=lambda: results.append(alerts.run(shop_id)))
    first.start()
    started.wait(10)
    results.append(alerts.run(shop_id))
    first.join()
    assert len(mail.received) == 1
    assert {"skipped": "another alert run of this shop is under way"} in results


def test_the_email_has_a_date_and_a_message_id_of_the_senders_domain(mail) -> None:  # noqa: F811
    shop_id = _shop()
    _fail(shop_id, "orders", f"order:{ORDER}5001", _no_lines("#5001"))
    alerts.run(shop_id)
    [sent] = mail.received
    assert sent.message["Date"] and sent.message["Message-ID"].endswith("@integracao.com.br>")


def test_an_order_held_for_its_fraud_risk_is_told_once(mail) -> None:  # noqa: F811
    """Pending on purpose (ledger.order_risk): the Orders page lists it as needing attention; the
    e-mail said nothing of it."""
    shop_id = _shop()
    with session_scope() as session:
        message = trace.begin(session, shop_id, "orders", f"order:{ORDER}2001", "shopify_to_erp",
                              shopify_id=f"{ORDER}2001")  # fmt: skip
        message.error_text = "Shopify recommends cancelling this order (fraud risk HIGH): held for a person"
        message.error_detail = {"waiting": "risk", "recommendation": "CANCEL"}
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    assert "retido pela análise de fraude" in sent.text and f"/app/messages/{message.id}" in sent.text
    assert alerts.run(shop_id) == {"items": 0}


def test_a_schedule_whose_runs_stopped_coming_is_told_once_unless_its_flow_runs(mail, rconn) -> None:  # noqa: F811
    """The catalog worker down: the stock run sits queued and the tick enqueues no other; the Flows
    page flags it overdue, the e-mail said nothing. A flow still running (its lock held) is not late."""
    from ledger.models import Schedule
    from ledger.schedules import ENQUEUED

    shop_id = _shop()
    with session_scope() as session:
        row = Schedule(shop_id=shop_id, flow="stock", cron="*/3 * * * *", last_status=ENQUEUED,
                       last_run_at=utcnow() - timedelta(hours=3), last_job_id="stock-x")  # fmt: skip
        session.add(row)
    rconn.set(f"lock:flow:{shop_id}:stock", "token")  # running, three hours long: not late
    assert alerts.run(shop_id) == {"items": 0}
    rconn.delete(f"lock:flow:{shop_id}:stock")
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    assert "pararam de sair" in sent.text and "/app/flows" in sent.text
    assert alerts.run(shop_id) == {"items": 0}  # told once while it stays late


def test_a_stalled_schedule_is_said_in_the_stores_time_and_counted_among_the_stopped_runs(mail) -> None:  # noqa: F811
    """Its last run was said in UTC (the rest of the e-mail in the store's time), and the open count
    said "scheduled runs stopped 0" under the very heading that listed it."""
    from datetime import UTC, datetime

    from ledger.models import Schedule
    from ledger.schedules import RUN_FAILED

    shop_id = _shop()  # America/Sao_Paulo
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="*/15 * * * *", enabled=True,
                             last_run_at=datetime(2026, 3, 10, 13, 0, tzinfo=UTC)))  # fmt: skip
        session.add(Schedule(shop_id=shop_id, flow="prices", cron="*/15 * * * *", enabled=True,
                             last_status=RUN_FAILED, last_error="ERP unreachable",
                             last_run_at=datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
                             updated_at=now - timedelta(hours=2)))  # fmt: skip  # failed, and late since
    assert alerts.run(shop_id, now=now)["items"] == 3
    [sent] = mail.received
    assert sent.text.count("a última em 10/03/2026 10:00") == 2 and "UTC" not in sent.text
    assert "execuções agendadas paradas 2;" in sent.text  # the late one and the failed one, each once


def test_the_failed_alert_is_said_no_more_once_what_it_held_was_settled(mail) -> None:  # noqa: F811
    """The mail server busy for one run; the failed order it held was retried and went through before
    the next. Nothing was left to tell, so nothing was tried, and the Flows banner and Setup's last
    alert said "not sent" for good."""
    from ledger import alert_state

    shop_id = _shop()
    message_id = _fail(shop_id, "orders", f"order:{ORDER}8001", _no_lines("#8001"))
    mail.busy()
    assert "error" in alerts.run(shop_id)
    mail.busy(False)
    with session_scope() as session:  # a person's Retry went through
        trace.succeed(session, session.get(Message, message_id))
    later = utcnow() + timedelta(minutes=10)
    assert alerts.run(shop_id, now=later) == {"items": 0}
    assert mail.received == []
    with session_scope() as session:
        last = alert_state.last_attempt(session, shop_id)
    assert (last["ok"], last["error"], last["items"], last["to"]) == (True, None, 0, [])


def test_schedules_of_a_shop_the_tick_does_not_start_are_not_told_as_a_worker_down(mail) -> None:  # noqa: F811
    """A shop whose grant Shopify refused has no schedule started (the tick runs active shops): each
    was told 40 minutes later as "a worker down, or the scheduler" beside the access item that says
    the one thing to do."""
    from ledger.models import Schedule
    from ledger.schedules import RUN_OK

    now = utcnow()
    refused = _shop()
    with session_scope() as session:
        for flow in ("stock", "prices", "order_events"):
            session.add(Schedule(shop_id=refused, flow=flow, cron="*/5 * * * *", enabled=True,
                                 last_status=RUN_OK, last_run_at=now - timedelta(minutes=1)))  # fmt: skip
        shop = session.get(Shop, refused)
        shop.status, shop.status_reason = ShopStatus.NEEDS_REAUTH.value, "401: invalid access token"
    assert alerts.run(refused, now=now)["items"] == 1  # the access item
    assert alerts.run(refused, now=now + timedelta(minutes=40)) == {"items": 0}


def test_a_run_waiting_for_its_retry_is_told_late_only_long_after(mail) -> None:  # noqa: F811
    """A run waiting for its RQ retry (the ERP slow, its error on the row) is told late only after
    OVERDUE_RETRYING, not as a worker down half an hour in."""
    from ledger.models import Schedule
    from ledger.schedules import RUN_RETRYING

    now = utcnow()
    waiting = _shop()
    with session_scope() as session:
        session.add(Schedule(shop_id=waiting, flow="order_events", cron="* * * * *", enabled=True,
                             last_status=RUN_RETRYING, last_job_id="flow-x",
                             last_error="Consinco unreachable at EventoPedido: ReadTimeout",
                             last_run_at=now - timedelta(minutes=35)))  # fmt: skip
    assert alerts.run(waiting, now=now) == {"items": 0}
    assert alerts.run(waiting, now=now + timedelta(hours=2))["items"] == 1


def test_a_message_retried_while_the_alert_reads_it_is_told_by_the_next_run(mail, monkeypatch) -> None:  # noqa: F811
    """The messages are read light, then the listed ones in full: one a person retried in between
    had no heading for its status (KeyError, the run died before recording anything). It is left
    to the next run, which tells it as it is then."""
    from sqlalchemy import update

    shop_id = _shop()
    message_id = _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"))
    real_rank, moved = alerts._rank, []

    def rank(group: str) -> int:  # between the light read and the full one
        if not moved:
            moved.append(1)
            with session_scope() as session:
                session.execute(update(Message).where(Message.id == message_id).values(status="retrying"))
        return real_rank(group)

    with monkeypatch.context() as patched:
        patched.setattr(alerts, "_rank", rank)
        assert alerts.run(shop_id) == {"items": 0}
    with session_scope() as session:
        session.execute(update(Message).where(Message.id == message_id).values(status="failed"))
    assert alerts.run(shop_id)["items"] == 1  # failed again: told now


def test_a_reconciliation_that_found_orders_out_of_step_is_told_once(mail) -> None:  # noqa: F811
    """Lost webhooks (a subscription gone, the app's address unreachable) show only in the daily
    report, which imports the orders and ends done: nothing told the team its webhooks were broken.
    A report's order findings are told once; stock or price drift alone stays on the report."""
    from jobs import reconcile
    from ledger import drift

    shop_id = _shop()

    def report(summary: dict[str, int]) -> int:
        with session_scope() as session:
            message = trace.begin(session, shop_id, "reconcile", reconcile.report_key(utcnow(), None), "both")
            payload = {"summary": summary, "orders": {}}
            trace.succeed(session, message, response=payload)
            message.error_text = drift.line(drift.findings(payload))
            return message.id

    report({"stock_differs": 4, "prices_differ_in_shopify": 2})
    assert alerts.run(shop_id) == {"items": 0}
    found = report({"orders_missing_in_ledger": 37, "orders_missing_in_erp": 3, "stock_differs": 4})
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    assert "Pedidos fora de sintonia na reconciliação diária" in sent.text
    assert "pedidos sem vínculo (importados agora) 37, pedidos ausentes no ERP 3" in sent.text
    assert "estoques" not in sent.text and f"/app/messages/{found}" in sent.text
    assert alerts.run(shop_id) == {"items": 0}  # told once


def test_order_drift_of_a_report_left_incomplete_by_its_stock_is_told(mail) -> None:  # noqa: F811
    """The ERP refuses one company's stock read (a user without permission on a store just mapped):
    every day's report ends failed, its orders compared all the same. Only done reports were read,
    so the e-mail said "stock refused" and never that the webhooks were lost."""
    from jobs import reconcile
    from ledger.errors import Rejected as Refused

    shop_id = _shop()

    def failed(orders: dict) -> int:
        with session_scope() as session:
            message = trace.begin(session, shop_id, "reconcile", reconcile.report_key(utcnow(), None), "both")
            message.response_payload = {"summary": {"orders_missing_in_ledger": 5}, "orders": orders}
            trace.fail(
                session, message, Refused("conciliação incompleta: estoque: Acesso negado", system="erp")
            )
            return message.id

    failed({"error": "the ERP is down"})  # the orders not compared: nothing found to tell
    assert all("Pedidos fora de sintonia" not in m.text for m in mail.received)
    found = failed({})
    alerts.run(shop_id)
    text = "\n".join(m.text for m in mail.received)
    assert "Pedidos fora de sintonia na reconciliação diária" in text and f"/app/messages/{found}" in text


def test_a_shop_made_whole_after_days_parked_is_not_told_overdue_before_its_first_tick(mail) -> None:  # noqa: F811
    """Parked needs_reauth for two days (the tick started nothing), then re-authorized (mark_installed:
    installed_at now): every frequent schedule's last run of two days before read as runs that
    stopped coming, a "worker down" e-mail the moment the install was fixed."""
    from sqlalchemy import select

    from ledger.models import Schedule
    from ledger.schedules import ensure_default_schedules

    shop_id = _shop()
    two_days_ago = utcnow() - timedelta(days=2)
    with session_scope() as session:
        ensure_default_schedules(session, shop_id)
        for row in session.scalars(select(Schedule).where(Schedule.shop_id == shop_id)):
            row.last_run_at, row.last_status, row.last_ended_at = two_days_ago, "ok", two_days_ago
        session.get(Shop, shop_id).installed_at = utcnow()  # made whole a moment ago
    with session_scope() as session:
        assert alerts.overdue(session, shop_id, utcnow() + timedelta(seconds=30)) == []
        session.get(Shop, shop_id).installed_at = two_days_ago - timedelta(days=1)  # no re-auth: told
        assert alerts.overdue(session, shop_id, utcnow() + timedelta(seconds=30))


def test_the_first_alert_the_server_refused_past_a_day_is_sent_whole_when_it_comes_back(mail) -> None:  # noqa: F811
    """The shop's first e-mail refused (a wrong SMTP password over a weekend): no read window was
    kept, every next run looked a day back from its own time, and the first hours' failures slid
    out: the e-mail that finally went did not name them."""
    shop_id = _shop()
    _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"), shopify_id=f"{ORDER}1001")
    start = utcnow()
    mail.busy()
    for hours in (0, 12, 23):
        assert "421" in alerts.run(shop_id, now=start + timedelta(hours=hours))["error"]
    mail.busy(False)
    outcome = alerts.run(shop_id, now=start + timedelta(hours=25))
    assert outcome.get("items") == 1 and "#1001" in mail.received[-1].text, outcome


def test_a_late_schedule_told_is_not_told_again_after_a_redis_blip(mail, rconn, monkeypatch) -> None:  # noqa: F811
    """Which flows are running is asked of Redis: a run without an answer said none late, forgot those
    told, and the next run e-mailed the same late schedule again."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from ledger.models import Schedule
    from ledger.schedules import ENQUEUED

    shop_id = _shop()
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="*/3 * * * *", last_status=ENQUEUED,
                             last_run_at=utcnow() - timedelta(hours=3), last_job_id="stock-x"))  # fmt: skip
    assert alerts.run(shop_id)["items"] == 1  # the catalog worker down: told
    assert alerts.run(shop_id) == {"items": 0}  # told once while it stays late

    def down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(alerts, "is_locked", down)
        alerts.run(shop_id)
    assert alerts.run(shop_id) == {"items": 0} and len(mail.received) == 1


def test_a_failed_webhook_is_headed_with_the_flows_pages_own_words(mail) -> None:  # noqa: F811
    """The e-mail sent the team to "Jobs com falha: Reenfileirar", which the Flows page has not
    ("Execuções e tarefas que falharam de vez", "Tentar de novo"; an unreadable one: "Descartar")."""
    from ledger.models import InboxStatus
    from shopify_app.frontend import load_catalogue

    from .test_alerts import SHOP, _webhook

    shop_id = _shop()
    _webhook(SHOP, "orders/create", InboxStatus.FAILED, "KeyError: 'line_items'")
    assert alerts.run(shop_id)["items"] == 1
    heading = next(
        line for line in mail.received[-1].text.splitlines() if line.startswith("Webhooks da Shopify")
    )
    page = load_catalogue("pt-BR")
    for key in ("flows.failed_jobs_heading", "flows.requeue", "flows.dismiss"):
        assert page[key] in heading, (key, heading)

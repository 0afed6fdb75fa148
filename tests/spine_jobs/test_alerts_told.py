"""What the alert e-mail tells, in the team's language: an order held for a fraud review (said as the
pages say it: it quoted the English error_text) and counted among what is open (it was not); a failed
orders/create delivery listed before a night of catalog failures (the cut dropped it, and the "more"
line named pages it is not on); a webhook whose job died said in pt-BR (an English sentence the app
wrote itself)."""

from __future__ import annotations

from datetime import timedelta

from jobs import alerts
from jobs import order_risk as job_risk
from ledger import trace
from ledger.db import session_scope
from ledger.models import Message, utcnow
from ledger.words import stored
from tests.spine_jobs.test_alerts import ORDER, _shop, mail  # noqa: F401 (fixture)


def _risk_held(shop_id: int, number: int) -> int:
    """As jobs.orders holds an order for its fraud risk (jobs/orders.py:893-897)."""
    held = {
        "waiting": "risk",
        "recommendation": "CANCEL",
        "pending": False,
        "assessments": [{"level": "HIGH", "provider": None, "facts": []}],
        "setting": "cancel",
    }
    with session_scope() as session:
        message = trace.begin(
            session,
            shop_id,
            "orders",
            f"order:{ORDER}{number}",
            "shopify_to_erp",
            shopify_id=f"{ORDER}{number}",
            search=[f"#{number}"],
        )
        message.error_text = job_risk.why(held)
        message.error_detail = {**held, trace.FAIL: stored(job_risk.words(held))}
        return message.id


def test_an_order_held_for_fraud_is_told_in_the_teams_language(mail) -> None:  # noqa: F811
    shop_id = _shop()  # alert_locale: pt-BR (the default)
    _risk_held(shop_id, 2001)
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    line = next(row for row in sent.text.splitlines() if "#2001" in row)
    assert "Shopify recommends" not in line, line  # the English error_text
    assert "a Shopify recomenda cancelar o pedido" in line, line  # the Orders/Messages page's words


def test_an_order_held_for_fraud_is_counted_among_what_is_open(mail) -> None:  # noqa: F811
    shop_id = _shop()
    _risk_held(shop_id, 2002)
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    open_line = next(row for row in sent.text.splitlines() if row.startswith("Em aberto agora"))
    assert "pedidos retidos para análise de fraude 1" in open_line, open_line


def test_a_failed_orders_create_webhook_is_named_before_a_night_of_catalog_failures(mail) -> None:  # noqa: F811
    """An orders/create delivery whose handling failed for good: no message exists for that order
    (the webhook is its only trace) until the daily reconciliation. A night of catalog failures
    (older) fills the e-mail's LISTED lines; the webhook is only counted in "... e mais N (todos nas
    páginas Mensagens e Pedidos do app)", pages where it is not, and it is never listed later."""
    from ledger.errors import Rejected
    from ledger.models import InboxStatus, WebhookInbox
    from tests.spine_jobs.test_alerts import SHOP, _fail

    shop_id = _shop()
    for n in range(alerts.LISTED + 5):
        message_id = _fail(
            shop_id,
            "products",
            f"product:{n}",
            Rejected("Title can't be blank", system="shopify"),
            erp_id=str(n),
        )
        with session_scope() as session:
            session.get(Message, message_id).updated_at = utcnow() - timedelta(hours=5)
    with session_scope() as session:
        row = WebhookInbox(
            shop_domain=SHOP,
            topic="orders/create",
            webhook_id="w-1",
            raw_body=b"{}",
            status=InboxStatus.FAILED.value,
            reason="KeyError: 'line_items'",
            processed_at=utcnow(),
        )
        session.add(row)
        session.flush()
        inbox_id = row.id
    assert alerts.run(shop_id)["items"] == alerts.LISTED + 6
    [sent] = mail.received
    assert f"Webhook orders/create nº {inbox_id}" in sent.text, sent.text[-900:]
    assert "(todos nas páginas Mensagens, Pedidos e Fluxos do app)" in sent.text


def test_a_webhook_whose_job_died_is_told_in_the_teams_language(mail, rconn) -> None:  # noqa: F811
    """A customers/redact delivery whose RQ job ended without an outcome (its worker killed): the
    sweeper fails its row with an English-only sentence (jobs/inbox.py:382), which the pt-BR alert
    e-mail quotes as its reason, advice to a person included ("requeue it from the failed jobs")."""
    from rq.job import Job, JobStatus

    from jobs import inbox
    from ledger import queues
    from ledger.models import InboxStatus, WebhookInbox
    from tests.spine_jobs.test_alerts import SHOP

    shop_id = _shop()
    with session_scope() as session:
        row = WebhookInbox(
            topic="customers/redact",
            shop_domain=SHOP,
            raw_body=b"{}",
            headers={},
            status=InboxStatus.ENQUEUED.value,
            received_at=utcnow() - timedelta(minutes=30),
        )
        session.add(row)
        session.flush()
        inbox_id = row.id
    job_id = queues.enqueue_inbox(inbox_id, "customers/redact", conn=rconn)
    Job.fetch(job_id, connection=rconn).set_status(JobStatus.FAILED)  # the worker was killed
    inbox.sweep(older_than=timedelta(0))
    with session_scope() as session:
        assert session.get(WebhookInbox, inbox_id).status == InboxStatus.FAILED.value
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    line = next(row for row in sent.text.splitlines() if "customers/redact" in row)
    assert "without recording an outcome" not in line, line
    assert "sem registrar um resultado" in line, line

"""jobs.alerts: the team's alert e-mail tells what needs a person, each item once, over real SMTP to
the sandbox's mail server, and loses nothing when that server is down or refuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from jobs import alerts, scheduler
from ledger import kv, order_notes, queues, trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.models import (
    AlertState,
    InboxStatus,
    Message,
    MessageStatus,
    OrderLink,
    Schedule,
    Shop,
    WebhookInbox,
    utcnow,
)
from ledger.schedules import RUN_FAILED, RUN_OK
from sandbox.mail import MailServer
from settings import get_settings

SHOP = "loja-alertas.myshopify.com"
ORDER = "gid://shopify/Order/"
TEAM = ["ecommerce@loja.com.br", "gerente@loja.com.br"]


@pytest.fixture
def mail(jobs_env) -> Iterator[MailServer]:
    with MailServer() as server:
        jobs_env.setenv("SMTP_URL", server.url)
        jobs_env.delenv("SHOPIFY_BASE_URL", raising=False)  # the real Shopify's links
        jobs_env.setenv("ALERT_MAIL_FROM", "alertas@integracao.com.br")
        yield server


def _shop(domain: str = SHOP, **settings) -> int:
    with session_scope() as session:
        saved = {"alert_emails": TEAM, **settings}
        shop = Shop(domain=domain, settings=saved, iana_timezone="America/Sao_Paulo")
        session.add(shop)
        session.flush()
        return shop.id


def _fail(shop_id: int, flow: str, unit: str, exc: Exception, **ids) -> int:
    with session_scope() as session:
        message = trace.begin(session, shop_id, flow, unit, "shopify_to_erp", **ids)
        trace.fail(session, message, exc)
        return message.id


def _done(shop_id: int, message_id: int) -> None:
    with session_scope() as session:
        trace.succeed(session, session.get(Message, message_id))


def _order(shop_id: int, name: str, note: str | None = None) -> int:
    with session_scope() as session:
        link = OrderLink(shop_id=shop_id, shopify_order_id=f"{ORDER}{name[1:]}", shopify_order_name=name)
        if note:
            order_notes.put(link, "cancellations", note)
        session.add(link)
        session.flush()
        return link.id


def _no_lines(order: str) -> Rejected:
    return Rejected(
        f"order {order} has no line left to send", system="app", words=("order_no_lines", {"order": order})
    )


def test_an_alert_tells_each_item_once_in_the_teams_language_and_again_only_when_it_changes(mail) -> None:
    shop_id = _shop()
    failed = _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"), shopify_id=f"{ORDER}1001")
    pix = MappingMissing("payment_method", "pix")
    parked = _fail(shop_id, "orders", f"order:{ORDER}1002", pix, shopify_id=f"{ORDER}1002")
    flagged = _order(shop_id, "#1003", "NF-e 3526... was cancelled in the ERP after invoicing")
    _done(shop_id, _fail(shop_id, "orders", f"order:{ORDER}1004", _no_lines("#1004")))  # closed
    old = _fail(shop_id, "orders", f"order:{ORDER}1005", _no_lines("#1005"))
    with session_scope() as session:  # before the first alert's look back
        before = utcnow() - timedelta(days=2)
        session.execute(update(Message).where(Message.id == old).values(updated_at=before))
    other = _shop("outra-loja.myshopify.com")
    _fail(other, "orders", f"order:{ORDER}9", _no_lines("#9"))

    assert alerts.run(shop_id)["items"] == 3
    [sent] = mail.received
    assert sent.rcpt_to == tuple(TEAM) and sent.mail_from == "alertas@integracao.com.br"
    assert sent.subject == f"[Consinco-Shopify] {SHOP}: 3 itens novos precisam de uma pessoa"
    text = sent.text
    assert "Pedidos — falhou" in text and "o pedido #1001 não tem mais nenhum item a enviar" in text
    assert "Pedidos — aguardando um De:Para ou uma configuração" in text and "pix" in text
    assert "Pedidos com aviso para uma pessoa" in text and "Pedido #1003 (Cancelamentos)" in text
    key = get_settings().api_key
    assert f"    https://{SHOP}/admin/apps/{key}/app/messages/{failed}" in text.splitlines()
    assert f"/app/messages/{parked}" in text
    assert f"/app/orders/{flagged}" in text
    assert "#1004" not in text and "#1005" not in text and "#9" not in text
    counts = (
        "Em aberto agora: com falha 2; aguardando um De:Para ou uma configuração 1; interrompidas 0; "
        "pedidos retidos para análise de fraude 0; pedidos com aviso 1; execuções agendadas paradas 0; "
        "webhooks com falha 0."
    )
    assert counts in text

    assert alerts.run(shop_id) == {"items": 0}  # told: nothing new, no e-mail
    _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"))  # a retry failing alike
    assert alerts.run(shop_id) == {"items": 0} and len(mail.received) == 1

    _fail(shop_id, "orders", f"order:{ORDER}1001", Rejected("the ERP refused it", system="erp"))
    _done(shop_id, parked)  # the mapping came: the next time it parks is news
    assert alerts.run(shop_id)["items"] == 1
    assert "the ERP refused it" in mail.received[-1].text and "pix" not in mail.received[-1].text
    _fail(shop_id, "orders", f"order:{ORDER}1002", MappingMissing("payment_method", "pix"))
    with session_scope() as session:
        link = session.get(OrderLink, flagged)
        order_notes.put(link, "cancellations", "goods may have left: check the van")  # the note changed
    assert alerts.run(shop_id)["items"] == 2
    assert mail.received[-1].subject == f"[Consinco-Shopify] {SHOP}: 2 itens novos precisam de uma pessoa"
    assert "check the van" in mail.received[-1].text
    with session_scope() as session:
        state = session.get(AlertState, shop_id)
        assert state.last_error is None and state.last_items == 2 and state.last_to == TEAM


def test_a_scheduled_run_that_stopped_is_told_once_until_it_runs_again(mail) -> None:
    shop_id = _shop()
    with session_scope() as session:
        row = Schedule(shop_id=shop_id, flow="stock", cron="*/15 * * * *", last_status=RUN_FAILED,
                       last_error="Transient: the ERP did not answer (timeout after 30 s)")  # fmt: skip
        session.add(row)
        session.flush()
        schedule_id = row.id
    assert alerts.run(shop_id)["items"] == 1
    text = mail.received[-1].text
    assert "Execuções agendadas paradas (página Fluxos)" in text and "Estoque: " in text
    assert "the ERP did not answer" in text and "/app/flows" in text
    assert "execuções agendadas paradas 1;" in text

    with session_scope() as session:  # the tick starts the next run: not news
        session.get(Schedule, schedule_id).last_run_at = utcnow()
    assert alerts.run(shop_id) == {"items": 0}
    for status in (RUN_OK, RUN_FAILED):  # it ran again, then stopped again: news
        with session_scope() as session:
            session.get(Schedule, schedule_id).last_status = status
        alerts.run(shop_id)
    assert len(mail.received) == 2 and "Estoque: " in mail.received[-1].text


def _webhook(domain: str, topic: str, status: InboxStatus, reason: str | None = None) -> int:
    """A webhook delivery as jobs.inbox leaves it (a failed one: its reason, when it ended)."""
    with session_scope() as session:
        row = WebhookInbox(topic=topic, shop_domain=domain, raw_body=b"{}", headers={}, status=status.value,
                           reason=reason, processed_at=utcnow())  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_a_webhook_that_failed_for_good_is_told_once_until_it_is_requeued_and_fails_again(mail) -> None:
    """An inbox row failed (a handler's bug, retries run out) waits for a person's Requeue on the
    Flows page; no message traces an uninstall or a GDPR request, so the alert is where it is heard
    of. Another shop's failed row, a processed one, are not this shop's news."""
    shop_id = _shop()
    failed = _webhook(SHOP, "customers/redact", InboxStatus.FAILED, "OperationalError: database is locked")
    _webhook(SHOP, "orders/paid", InboxStatus.PROCESSED)
    _webhook("outra-loja.myshopify.com", "orders/paid", InboxStatus.FAILED, "ValueError: other shop")

    assert alerts.run(shop_id)["items"] == 1
    text = mail.received[-1].text
    assert "Webhooks da Shopify que falharam (página Fluxos" in text
    assert f"Webhook customers/redact nº {failed}: OperationalError: database is locked" in text
    assert "/app/flows" in text and "other shop" not in text and "orders/paid" not in text
    assert "webhooks com falha 1." in text
    assert alerts.run(shop_id) == {"items": 0}  # still failed: told

    with session_scope() as session:  # requeued (Flows page), then failed again
        session.get(WebhookInbox, failed).status = InboxStatus.ENQUEUED.value
    assert alerts.run(shop_id) == {"items": 0}
    with session_scope() as session:
        assert not any(key.startswith("w") for key in session.get(AlertState, shop_id).told)  # forgotten
        row = session.get(WebhookInbox, failed)
        row.status, row.processed_at = InboxStatus.FAILED.value, utcnow()
    assert alerts.run(shop_id)["items"] == 1 and len(mail.received) == 2


def _pending(shop_id: int, flow: str, unit: str, job_id: str, minutes_ago: int, **ids) -> int:
    """A unit left pending `minutes_ago` under RQ job `job_id`."""
    with session_scope() as session:
        message = trace.begin(session, shop_id, flow, unit, "erp_to_shopify", job_id=job_id, **ids)
        message.updated_at = utcnow() - timedelta(minutes=minutes_ago)
        return message.id


def test_a_unit_whose_job_was_lost_is_told_as_interrupted_once_until_it_stops_anew(mail, rconn) -> None:
    shop_id = _shop()
    lost = _pending(shop_id, "orders", f"order:{ORDER}2001", "orders-lost", 40, shopify_id=f"{ORDER}2001")
    queues.enqueue("jobs.products.run", shop_id, queue="catalog", job_id="load-1", conn=rconn)
    _pending(shop_id, "products", "product:77", "load-1", 90, erp_id="77")  # its bulk load still runs
    _pending(shop_id, "orders", f"order:{ORDER}2002", "orders-new", 2)  # under way
    with session_scope() as session:  # waiting on purpose: its payment
        waiting = trace.begin(session, shop_id, "orders", f"order:{ORDER}2003", "shopify_to_erp", job_id="x")
        waiting.error_detail = {"waiting": "payment"}
        waiting.updated_at = utcnow() - timedelta(hours=3)

    assert alerts.run(shop_id)["items"] == 1
    text = mail.received[-1].text
    assert "Pedidos — interrompida" in text and "o processo parou antes de terminar" in text
    assert f"/app/messages/{lost}" in text and "Produto" not in text and "2002" not in text
    assert "interrompidas 1;" in text
    assert alerts.run(shop_id) == {"items": 0}  # told: still interrupted is not news

    _pending(shop_id, "orders", f"order:{ORDER}2001", "orders-retry", 20)  # a Retry, lost again
    assert alerts.run(shop_id)["items"] == 1 and len(mail.received) == 2
    _done(shop_id, lost)
    assert alerts.run(shop_id) == {"items": 0}
    with session_scope() as session:
        assert not any(key.startswith("i") for key in session.get(AlertState, shop_id).told)  # forgotten
    _pending(shop_id, "orders", f"order:{ORDER}2001", "orders-third", 30)  # lost once more: news
    assert alerts.run(shop_id)["items"] == 1


def test_interrupted_units_wait_when_redis_cannot_say_which_jobs_it_holds(mail, monkeypatch) -> None:
    shop_id = _shop()
    _pending(shop_id, "orders", f"order:{ORDER}2001", "orders-lost", 40)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    kv.reset_clients()
    assert alerts.run(shop_id) == {"items": 0} and mail.received == []


def test_in_english_and_a_flood_is_listed_in_part_and_counted(mail) -> None:
    shop_id = _shop(alert_locale="en")
    for number in range(alerts.LISTED + 5):
        _fail(shop_id, "orders", f"order:{ORDER}{number}", _no_lines(f"#{number}"))
    assert alerts.run(shop_id)["items"] == alerts.LISTED + 5
    [sent] = mail.received
    assert sent.subject == f"[Consinco-Shopify] {SHOP}: {alerts.LISTED + 5} new items need a person"
    assert "Orders — failed" in sent.text and "order #0 has no line left to send" in sent.text
    assert "... and 5 more" in sent.text and sent.text.count("/app/messages/") == alerts.LISTED


def test_the_mail_server_down_busy_or_refusing_loses_nothing(mail, jobs_env) -> None:
    shop_id = _shop()
    _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"))
    mail.busy()
    outcome = alerts.run(shop_id)
    assert outcome["items"] == 1 and "421" in outcome["error"]
    mail.busy(False)
    mail.refuse(*TEAM)
    assert "refused every recipient" in alerts.run(shop_id)["error"]
    with session_scope() as session:
        state = session.get(AlertState, shop_id)
        assert "550" in state.last_error and state.told == {} and state.sent_at is None  # shown, not told
    mail.stop()
    assert "could not be reached" in alerts.run(shop_id)["error"]

    with MailServer() as back:
        jobs_env.setenv("SMTP_URL", back.url)
        _fail(shop_id, "orders", f"order:{ORDER}1002", _no_lines("#1002"))  # one more meanwhile
        assert alerts.run(shop_id)["items"] == 2
        assert "#1001" in back.received[0].text and "#1002" in back.received[0].text
    with session_scope() as session:
        state = session.get(AlertState, shop_id)
        assert state.last_error is None and state.sent_at is not None


def test_the_tick_starts_one_run_a_slot_for_each_shop_with_recipients(mail, redis_server) -> None:
    with_team, without = _shop(), _shop("sem-equipe.myshopify.com", alert_emails=[])
    at = utcnow().replace(minute=3, second=0, microsecond=0)
    assert alerts.enqueue_due(at) == [f"alerts-{with_team}-{at:%Y%m%d%H}00"]
    assert alerts.enqueue_due(at + timedelta(minutes=6)) == []  # the same slot: started once
    assert len(alerts.enqueue_due(at + timedelta(minutes=7))) == 1  # the next slot
    assert queues.get_queue(queues.ORDERS).count == 2
    scheduler.tick(at + timedelta(minutes=17))  # the scheduler's tick starts them
    assert queues.get_queue(queues.ORDERS).count == 3
    assert without not in {int(j.args[0]) for j in queues.get_queue(queues.ORDERS).jobs}


def test_without_a_mail_server_nothing_starts(jobs_env) -> None:
    _shop()
    jobs_env.delenv("SMTP_URL", raising=False)
    assert alerts.enqueue_due(utcnow()) == []


def test_a_mistyped_cpf_of_the_wrong_length_is_masked_in_the_alert(mail) -> None:
    """The alert e-mail goes to the team's inboxes: a CPF the buyer typed with a digit left out (not
    CPF/CNPJ-shaped) is masked there as the page masks it for a viewer."""
    from jobs.order_customer import InvalidTaxId, validate_tax_id

    shop_id = _shop()
    typed = "529.982.247-2"
    try:
        validate_tax_id(typed)
    except InvalidTaxId as refused:
        _fail(shop_id, "orders", f"order:{ORDER}1001", refused, shopify_id=f"{ORDER}1001")
    assert alerts.run(shop_id)["items"] == 1
    [sent] = mail.received
    assert "CPF/CNPJ '***.***.247-2'" in sent.text and typed not in sent.text


def test_the_same_failure_retried_meanwhile_is_told_once(mail) -> None:
    """An ERP down for an hour: a schedule's runs fail, its next run retries and fails again with the
    same words, cycle after cycle; a message retried fails alike. Told once, not every cycle: an item
    only being tried again stays told; done, it is forgotten and a new failure is news."""
    from ledger import run_outcome
    from ledger.schedules import RUN_RETRYING

    line = "Consinco unreachable at https://erp.example/api (timeout after 30 s)"
    shop_id = _shop()
    with session_scope() as session:
        session.add(Schedule(shop_id=shop_id, flow="order_events", cron="* * * * *", last_status=RUN_FAILED,
                             last_error=line))  # fmt: skip
    failed = _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"), shopify_id=f"{ORDER}1001")
    assert alerts.run(shop_id)["items"] == 2
    for _cycle in range(3):
        run_outcome.record(shop_id, "order_events", RUN_RETRYING, line)
        with session_scope() as session:  # a person's Retry, in backoff
            session.get(Message, failed).status = MessageStatus.RETRYING.value
        assert alerts.run(shop_id) == {"items": 0}
        run_outcome.record(shop_id, "order_events", RUN_FAILED, line)
        _fail(shop_id, "orders", f"order:{ORDER}1001", _no_lines("#1001"))
        assert alerts.run(shop_id) == {"items": 0}
    assert len(mail.received) == 1
    run_outcome.record(shop_id, "order_events", RUN_OK, None)  # it ran again: done
    assert alerts.run(shop_id) == {"items": 0}  # (forgotten)
    run_outcome.record(shop_id, "order_events", RUN_FAILED, line)
    assert alerts.run(shop_id)["items"] == 1  # failing anew after it was done is news


def test_a_webhook_whose_body_could_not_be_read_is_told_until_dismissed(mail) -> None:
    """A delivery kept `rejected` (signed, its body no JSON object) is no silent drop: told like a
    failed one, and no longer open once a person dismissed it (its row done)."""
    shop_id = _shop()
    rejected = _webhook(SHOP, "orders/paid", InboxStatus.REJECTED, "body is not valid JSON: Expecting value")
    assert alerts.run(shop_id)["items"] == 1
    said = "A Shopify enviou um webhook orders/paid cujo conteúdo não pôde ser lido (não é JSON)"
    assert f"Webhook orders/paid nº {rejected}: {said}" in mail.received[-1].text  # the team's language
    assert "(body is not valid JSON: Expecting value)" in mail.received[-1].text
    with session_scope() as session:  # dismissed on the Flows page
        session.get(WebhookInbox, rejected).status = InboxStatus.PROCESSED.value
    assert alerts.run(shop_id) == {"items": 0}
    with session_scope() as session:
        assert not any(key.startswith("w") for key in session.get(AlertState, shop_id).told)

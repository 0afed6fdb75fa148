"""Compliance webhooks through the receiver and a worker: PII gone from every column, audit kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from sqlalchemy import LargeBinary, select

from jobs.worker import run_worker
from ledger.db import session_scope
from ledger.models import (
    AuditEvent,
    Base,
    Binding,
    Message,
    OfflineToken,
    OrderLink,
    Schedule,
    Shop,
    StoreLink,
    WebhookInbox,
)
from settings import DEFAULT_SCOPES

from .conftest import SHOP

CPF = "529.982.247-25"
EMAIL = "maria.souza@example.com"
NAME = "Mariazinha"
PHONE = "+5511987654321"
CUSTOMER = {"id": 7001, "email": EMAIL, "phone": PHONE}
ORDER_GID = "gid://shopify/Order/9001"


def order_payload() -> dict[str, Any]:
    return {
        "id": 9001,
        "name": "#1001",
        "email": EMAIL,
        "total_price": "50.00",
        "customer": {"id": 7001, "first_name": NAME, "last_name": "Souza", "email": EMAIL},
        "shipping_address": {"name": f"{NAME} Souza", "address1": "Rua das Flores, 1", "phone": PHONE},
        "localizedFields": [{"key": "TAX_CREDENTIAL_BR", "value": CPF}],
    }


@pytest.fixture
def ledger_with_customer(shop_id, deliver, rconn) -> int:
    """The customer's PII spread over messages, the inbox, audit events, links and bindings."""
    deliver("orders/create", order_payload())
    with session_scope() as session:
        session.add(
            Message(
                shop_id=shop_id,
                flow="orders",
                direction="shopify_to_erp",
                unit_key="order-9001",
                shopify_id=ORDER_GID,
                search_text="#1001",
                status="done",
                request_payload={
                    "clienteDto": {
                        "cpfCnpj": CPF.replace(".", "").replace("-", ""),
                        "nomeRazaoSocial": f"{NAME} Souza",
                        "email": EMAIL,
                    },
                    "nroEmpresa": 1,
                },
                response_payload={"nroPedVenda": 555},
            )
        )
        session.add(
            Message(
                shop_id=shop_id,
                flow="orders",
                direction="shopify_to_erp",
                unit_key="order-1",
                shopify_id="gid://shopify/Order/1",
                status="done",
                request_payload={"clienteDto": {"nomeRazaoSocial": "Outra Pessoa"}},
            )
        )
        session.add(
            AuditEvent(
                shop_id=shop_id,
                shop_domain=SHOP,
                actor="u1",
                action="order.fixed",
                target=ORDER_GID,
                before={"customer": {"id": 7001, "email": EMAIL}},
                after={"note": f"CPF {CPF} confirmado por {NAME}"},
            )
        )
        session.add(
            OrderLink(
                shop_id=shop_id,
                shopify_order_id=ORDER_GID,
                shopify_order_name="#1001",
                nro_pedvenda=555,
                needs_attention=f"ligar para {EMAIL}",
            )
        )
        session.add(
            Binding(
                shop_id=shop_id,
                kind="customer",
                erp_id="88",
                shopify_id="gid://shopify/Customer/7001",
                data={"customer": {"id": 7001}, "email": EMAIL},
            )
        )
        session.add(OfflineToken(shop_id=shop_id, access_token_enc=b"enc"))
        session.add(Schedule(shop_id=shop_id, flow="stock", cron="* * * * *"))
        session.add(StoreLink(shop_id=shop_id, nro_empresa=1, nro_segmento=2))
    return shop_id


def every_value() -> str:
    """Every text, JSON and binary column of every ledger table, as one searchable string."""
    parts: list[str] = []
    with session_scope() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(table.c[column].type, LargeBinary):
                        value = bytes(value).decode("utf-8", errors="replace")
                    parts.append(value if isinstance(value, str) else json.dumps(value, default=str))
    return "\n".join(parts)


def work(rconn) -> None:
    run_worker(["webhooks", "orders"], burst=True, simple=True, with_scheduler=False, conn=rconn)


def audit(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def exported(event: AuditEvent) -> dict[str, Any]:
    """The export an admin downloads for a data request's audit record (GET /api/audit/<id>/export)."""
    from ledger.privacy import export_recorded

    with session_scope() as session:
        shop = session.scalar(select(Shop))
        return export_recorded(session, shop, event.after["exported"], event.after["customer_id"])


def test_data_request_exports_what_the_ledger_holds(ledger_with_customer, deliver, rconn):
    deliver(
        "customers/data_request",
        {"shop_domain": SHOP, "customer": CUSTOMER, "orders_requested": [9001], "data_request": {"id": 99}},
    )
    work(rconn)
    [event] = audit("customer.data_exported")
    export = exported(event)
    assert event.after["counts"] == {
        "order_links": 1,
        "messages": 1,
        "webhooks": 1,
        "audit_events": 1,
        "bindings": 1,
        "schedules": 0,
    }
    assert event.after["data_request_id"] == 99
    for secret in (CPF, EMAIL, NAME, PHONE, "52998224725"):  # the audit record keeps ids, no data
        assert secret not in json.dumps(event.after), secret
    assert export["order_links"][0]["erp_order"] == 555
    assert export["messages"][0]["request_payload"]["clienteDto"]["email"] == EMAIL
    assert export["webhooks"][0]["topic"] == "orders/create"


def test_one_customers_requests_leave_a_customer_with_a_longer_email_alone(shop_id, deliver, rconn):
    """ana@example.com's data request and redact do not reach joana@example.com's order (another
    customer, another order): e-mails are matched whole, never as a piece of a longer address."""
    joana = {**order_payload(), "email": "joana@example.com"}
    joana["customer"] = {"id": 801, "first_name": "Joana", "email": "joana@example.com"}
    deliver("orders/create", joana)
    ana = {"id": 802, "email": "ana@example.com"}
    deliver("customers/data_request", {"shop_domain": SHOP, "customer": ana, "orders_requested": []})
    deliver("customers/redact", {"shop_domain": SHOP, "customer": ana, "orders_to_redact": []})
    work(rconn)
    [exported] = audit("customer.data_exported")
    assert exported.after["counts"]["webhooks"] == 0
    [redacted] = audit("customer.redacted")
    assert redacted.after["counts"]["webhook_inbox"] == 2  # ana's own two compliance requests
    assert "joana@example.com" in every_value() and "Joana" in every_value()


def test_data_request_exports_every_column_the_redact_scrubs(ledger_with_customer, deliver, rconn):
    """What customers/redact would scrub, customers/data_request exports: besides the payloads, a
    message's error_text and error_detail (the CPF the buyer mistyped), an order's needs_attention
    and line-change reasons, the audit events and bindings about the customer."""
    from ledger.models import OrderLineChange

    typed = "52998224726"
    with session_scope() as session:
        msg = session.scalar(select(Message).where(Message.unit_key == "order-9001"))
        msg.error_text = f"CPF/CNPJ '{typed}' is invalid"
        msg.error_detail = {"value": typed, "rule": "CPF check digits (modulo 11) do not match"}
        link = session.scalar(select(OrderLink))
        session.add(OrderLineChange(order_link_id=link.id, change_key="e1:1", direction="erp_to_shopify",
                                    kind="cut", sku="789", reason=f"{NAME} pediu para tirar"))  # fmt: skip
    deliver("customers/data_request", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_requested": [9001]})
    work(rconn)
    [event] = audit("customer.data_exported")
    export = exported(event)
    [message] = export["messages"]
    assert message["error_text"] == f"CPF/CNPJ '{typed}' is invalid"
    assert message["error_detail"]["value"] == typed
    [link] = export["order_links"]
    assert link["needs_attention"] == f"ligar para {EMAIL}"
    assert [c["reason"] for c in link["line_changes"]] == [f"{NAME} pediu para tirar"]
    [fixed] = export["audit_events"]
    assert fixed["action"] == "order.fixed" and NAME in fixed["after"]["note"]
    [binding] = export["bindings"]
    assert binding["data"]["email"] == EMAIL


def test_customer_redact_removes_pii_from_every_table(ledger_with_customer, deliver, rconn):
    deliver("customers/data_request", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_requested": [9001]})
    work(rconn)
    before = every_value()
    for secret in (CPF, EMAIL, NAME, PHONE, "52998224725"):
        assert secret in before
    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)

    after = every_value()
    for secret in (CPF, EMAIL, NAME, PHONE, "52998224725", "Rua das Flores"):
        assert secret not in after, secret
    assert "Outra Pessoa" in after  # another customer's trace is untouched
    with session_scope() as session:
        msg = session.scalar(select(Message).where(Message.unit_key == "order-9001"))
        assert msg.request_payload["nroEmpresa"] == 1 and msg.response_payload == {"nroPedVenda": 555}
        assert session.scalar(select(OrderLink)).nro_pedvenda == 555
        statuses = {r.topic: r.status for r in session.scalars(select(WebhookInbox))}
        assert statuses["customers/redact"] == "processed"
    [record] = audit("customer.redacted")
    assert record.after["counts"]["messages"] == 1
    assert record.after["counts"]["webhook_inbox"] == 3
    assert record.after["counts"]["audit_events"] >= 2
    [request] = audit("customer.data_exported")  # its export is rebuilt from the rows as they are now
    assert EMAIL not in json.dumps(exported(request)) and exported(request)["counts"]["messages"] == 1


def test_customer_redact_scrubs_a_line_changes_words_as_its_text(ledger_with_customer, deliver, rconn):
    """A line change's reason is kept twice: its English text and its words (for the page's
    language); the words' params may quote what the ERP or a person wrote, so both are scrubbed."""
    from ledger.models import OrderLineChange

    with session_scope() as session:
        link = session.scalar(select(OrderLink))
        words = [{"key": "line_cut_by", "params": {"by": f"pedido por {EMAIL}", "phone": PHONE}}]
        session.add(OrderLineChange(order_link_id=link.id, change_key="e1:1", direction="erp_to_shopify",
                                    kind="cut", sku="789", reason=f"pedido por {EMAIL} ({PHONE})",
                                    reason_words=words))  # fmt: skip
    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)
    after = every_value()
    for secret in (EMAIL, PHONE):
        assert secret not in after, secret


def test_customer_redact_removes_the_mistyped_cpf_from_the_error_text_and_detail(shop_id, deliver, rconn):
    """The order flow's InvalidTaxId names the CPF the buyer typed (one digit wrong) in the
    message's error_text and error_detail; customers/redact removes it from both."""
    from jobs.order_customer import InvalidTaxId, validate_tax_id
    from ledger import trace

    typed = "52998224726"
    with pytest.raises(InvalidTaxId) as refused:
        validate_tax_id(typed)
    with session_scope() as session:
        msg = trace.begin(session, shop_id, "orders", "order:9001", "shopify_to_erp", shopify_id=ORDER_GID)
        trace.fail(session, msg, refused.value)
    assert typed in every_value()
    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)
    assert audit("customer.redacted")[0].after["counts"]["messages"] == 1
    assert typed not in every_value()
    with session_scope() as session:
        assert "CPF check digits (modulo 11) do not match" in session.scalar(select(Message)).error_text


@pytest.mark.parametrize("typed", ["529.982.247-2", "5299822472", "529982247255"])
def test_customer_redact_removes_a_mistyped_cpf_of_the_wrong_length(shop_id, deliver, rconn, typed):
    """A digit left out or one too many: not CPF/CNPJ-shaped, yet the buyer's, quoted by the text, the
    detail and the failure's words; customers/redact removes it from all of them."""
    from jobs.order_customer import InvalidTaxId, validate_tax_id
    from ledger import trace

    with pytest.raises(InvalidTaxId) as refused:
        validate_tax_id(typed)
    with session_scope() as session:
        msg = trace.begin(session, shop_id, "orders", "order:9001", "shopify_to_erp", shopify_id=ORDER_GID)
        trace.fail(session, msg, refused.value)
    assert typed in every_value()
    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)
    assert audit("customer.redacted")[0].after["counts"]["messages"] == 1
    assert typed not in every_value()
    with session_scope() as session:
        assert "a CPF has 11 digits and a CNPJ 14 characters" in session.scalar(select(Message)).error_text


def test_customer_redact_drops_the_reconcile_report_kept_in_redis(shop_id, deliver, rconn):
    """The reconcile report quotes each held order's error text (the buyer's CPF) and is kept in
    Redis too: customers/redact deletes that copy (the database copy is scrubbed and served
    until the next report rewrites it)."""
    from jobs import reconcile
    from ledger import kv, trace

    why = "CPF/CNPJ '529.982.247-26' is invalid: CPF check digits (modulo 11) do not match"
    report = {"shop": SHOP, "orders": {"held_in_app": [{"order": ORDER_GID, "name": "#1001", "why": why}]}}
    with session_scope() as session:
        msg = trace.begin(session, shop_id, "reconcile", "report:2026-11-28", "both", request={})
        trace.succeed(session, msg, response=report)
    kv.get_redis().set(reconcile.redis_key(shop_id), json.dumps(report))
    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)
    assert kv.get_redis().get(reconcile.redis_key(shop_id)) is None
    shown = reconcile.latest(shop_id)
    assert (
        "529.982.247-26" not in json.dumps(shown) and shown["orders"]["held_in_app"][0]["order"] == ORDER_GID
    )


def test_a_scheduled_reconciliation_leaves_rq_only_its_summary(shop_id, monkeypatch, erp_saved):
    """RQ keeps a job's return value in Redis (a scheduled run's until the next run), out of
    customers/redact's reach: the run, as a job, returns its summary, not the report that lists
    orders with their failures' words (a buyer's CPF); a call in the process still gets it whole."""
    from rq import SimpleWorker
    from rq.job import Job

    from jobs import reconcile
    from ledger import queues

    why = "CPF/CNPJ '529.982.247-26' is invalid: CPF check digits (modulo 11) do not match"
    report = {"shop": SHOP, "generated_at": "2026-11-28T09:00:00+00:00", "summary": {"drift": 1},
              "orders": {"held_in_app": [{"order": ORDER_GID, "name": "#1001", "why": why}]}}  # fmt: skip
    monkeypatch.setattr(reconcile, "_run", lambda *args: dict(report))
    job = queues.enqueue(
        "jobs.reconcile.run", shop_id, queue="default", job_id="reconcile-due", result_ttl=3600
    )
    SimpleWorker([job.origin], connection=queues.connection()).work(burst=True)

    kept = Job.fetch(job.id, connection=queues.connection()).latest_result()
    assert kept is not None and kept.return_value == {
        "shop": SHOP, "generated_at": report["generated_at"], "summary": {"drift": 1}
    }  # fmt: skip
    assert reconcile.run(shop_id) == report


def test_shop_redact_deletes_the_shops_keys_in_redis(shop_id, deliver, rconn):
    """shop/redact deletes what the app keeps in Redis for the shop (the reconcile report,
    catalog diff results, the Shopify pacer's bucket and its leases, bulk-operation records);
    another shop's keys and the shared ones stay. Locks expire on their own (deleting a held one
    is unsafe)."""
    from jobs import reconcile
    from jobs.catalog_diff import result_key
    from ledger import kv
    from shopify_app.admin_api.bulk import finished_key

    conn = kv.get_redis()
    other = "outra-loja.myshopify.com"
    ours = [
        reconcile.redis_key(shop_id),
        result_key(shop_id, "job1"),
        f"shopify:bucket:{SHOP}",
        f"shopify:bucket:{SHOP}:leases",
        f"shopify:bucket:{SHOP}:queued",
        f"shopify:bulk:recent:{SHOP}",
        f"shopify:bulk:slots:{SHOP}",
        f"shopify:bulk:started:{SHOP}:prices-7",
        finished_key(SHOP, "gid://shopify/BulkOperation/1"),
    ]
    kept = [
        reconcile.redis_key(shop_id + 1),
        f"shopify:bucket:{other}",
        finished_key(other, "1"),
        "shopify:cost",
    ]
    for key in ours + kept:
        conn.set(key, "x")
    deliver("app/uninstalled", {"id": 1, "domain": SHOP})
    deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    work(rconn)
    assert audit("shop.redacted")
    assert [key for key in ours if conn.exists(key)] == []
    assert [key for key in kept if conn.exists(key)] == kept


class _RedisDown:
    """Redis restarting: every command refused."""

    def __getattr__(self, name: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise redis.exceptions.ConnectionError("Connection refused")

        return refused


@pytest.mark.parametrize(
    ("topic", "payload", "action"),
    [
        (
            "customers/redact",
            {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]},
            "customer.redacted",
        ),
        ("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, "shop.redacted"),
    ],
)
def test_a_redis_blip_during_a_redaction_is_retried_not_failed(
    shop_id, deliver, rconn, monkeypatch, topic, payload, action
):
    """The redactions are mandatory and Shopify sends each once: Redis refusing the key delete
    (a restart, a failover) must leave the job to RQ's retries, not fail it for good."""
    from rq.job import Job, JobStatus

    from jobs import inbox
    from ledger import kv

    with session_scope() as session:  # uninstalled, as a shop/redact expects (48 h after it)
        session.get(Shop, shop_id).status = "uninstalled"
    inbox_id = deliver(topic, payload).json["inbox_id"]
    real, down = kv.get_redis, [True]
    monkeypatch.setattr(kv, "get_redis", lambda *a, **kw: _RedisDown() if down else real(*a, **kw))
    work(rconn)
    job = Job.fetch(f"inbox-{inbox_id}", connection=rconn)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left
    with session_scope() as session:
        row = session.get(WebhookInbox, inbox_id)
        assert row.status == "enqueued" and "Redis unreachable" in row.reason, (row.status, row.reason)
    assert audit(action) == []  # the transaction rolled back: the retry redacts whole

    down.clear()  # Redis is back: the retry redacts
    assert inbox.process(inbox_id) == "processed"
    assert len(audit(action)) == 1


def test_app_uninstalled_removes_tokens_and_disables_schedules(ledger_with_customer, deliver, rconn):
    deliver("app/uninstalled", {"id": 1, "domain": SHOP})
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(OfflineToken)) is None
        assert [s.enabled for s in session.scalars(select(Schedule))] == [False]
        shop = session.scalar(select(Shop))
        assert shop.status == "uninstalled" and shop.uninstalled_at is not None
    [record] = audit("app.uninstalled")
    assert record.after["tokens_deleted"] == 1 and record.after["schedules_disabled"] == 1


def test_app_uninstalled_of_a_shop_never_installed_says_so(jobs_env, deliver, rconn):
    """It ended processed with no reason, where every other topic of such a shop says "ignored"."""
    inbox_id = deliver("app/uninstalled", {"id": 1, "domain": "outra-loja.myshopify.com"},
                       shop="outra-loja.myshopify.com").json["inbox_id"]  # fmt: skip
    work(rconn)
    with session_scope() as session:
        row = session.get(WebhookInbox, inbox_id)
        assert (row.status, row.reason) == (
            "processed",
            "ignored: outra-loja.myshopify.com is not installed (never installed, or uninstalled and erased)",
        )


def test_shop_redact_deletes_the_shop_and_keeps_one_audit_record(ledger_with_customer, deliver, rconn):
    deliver("app/uninstalled", {"id": 1, "domain": SHOP})  # Shopify asks 48 h after the uninstall
    deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    work(rconn)
    with session_scope() as session:
        for model in (Shop, Message, OrderLink, Binding, OfflineToken, Schedule, StoreLink, WebhookInbox):
            assert session.scalars(select(model)).all() == [], model.__name__
        [record] = session.scalars(select(AuditEvent)).all()
    assert record.action == "shop.redacted" and record.shop_domain == SHOP
    assert record.after["deleted"]["messages"] == 2
    for secret in (CPF, EMAIL, NAME):
        assert secret not in every_value()


def test_a_late_uninstall_does_not_undo_the_reinstall_that_came_after_it(
    ledger_with_customer, deliver, rconn
):
    """An uninstall delivered late (a Shopify retry, the sweeper after Redis was down, a requeue)
    after the merchant installed again: the new token and the schedules survive it."""
    with session_scope() as session:
        session.scalar(select(Shop)).installed_at = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    deliver("app/uninstalled", {"id": 1, "domain": SHOP}, triggered_at="2026-11-28T12:00:00.000Z")
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "active"
        assert session.scalar(select(OfflineToken)) is not None
        assert [s.enabled for s in session.scalars(select(Schedule))] == [True]
    [record] = audit("app.uninstalled.stale")
    assert record.after["triggered_at"].startswith("2026-11-28 12:00")


def test_shop_redact_for_a_shop_installed_again_deletes_nothing(ledger_with_customer, deliver, rconn):
    deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP})  # the shop is active again
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)) is not None and session.scalars(select(Message)).all()
    [record] = audit("shop.redact.refused")
    assert "active" in record.after["reason"]


def test_a_reinstall_turns_back_on_the_schedules_the_uninstall_stopped(ledger_with_customer, deliver, rconn):
    from ledger.schedules import ensure_default_schedules

    with session_scope() as session:
        shop = session.scalar(select(Shop))
        ensure_default_schedules(session, shop.id)
        stopped = session.scalars(select(Schedule).where(Schedule.flow == "stock")).one()
        stopped.enabled = False  # the merchant stopped this one
    deliver("app/uninstalled", {"id": 1, "domain": SHOP})
    work(rconn)
    with session_scope() as session:
        assert not any(s.enabled for s in session.scalars(select(Schedule)))
        ensure_default_schedules(session, session.scalar(select(Shop)).id)  # what the install runs
    with session_scope() as session:
        off = sorted(s.flow for s in session.scalars(select(Schedule)) if not s.enabled)
    assert off == ["stock"]


def test_a_reinstall_runs_the_reconciliation_for_the_orders_placed_while_uninstalled(
    ledger_with_customer, deliver, rconn
):
    """No webhook reaches an uninstalled app: the reconciliation (which imports the orders the
    ledger lacks) runs at once on the reinstall, not at its next due time a day later. A first
    install and a plain re-auth of an installed shop enqueue nothing."""
    from datetime import timedelta

    from rq import Queue

    from ledger.models import utcnow
    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    def reconcile_jobs() -> list[str]:
        return [j for j in Queue("default", connection=rconn).job_ids if "reconcile" in j]

    token = TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600)
    oauth.install(get_settings(), SHOP, token, actor="u1")  # the fixture's shop had no token
    Queue("default", connection=rconn).empty()
    oauth.install(get_settings(), SHOP, token, actor="u1")  # installed and usable: no catch-up
    assert reconcile_jobs() == []
    later = (utcnow() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    deliver("app/uninstalled", {"id": 1, "domain": SHOP}, triggered_at=later)
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "uninstalled"
    oauth.install(get_settings(), SHOP, token, actor="u1")
    assert len(reconcile_jobs()) == 1
    job = Queue("default", connection=rconn).fetch_job(reconcile_jobs()[0])
    assert job.func_name == "jobs.reconcile.run" and job.args == (ledger_with_customer,)


def _installed_long_ago_then_revoked(shop_id: int) -> None:
    """Installed 30 days ago; the merchant uninstalled, Shopify revoked the token and the next
    refresh was refused, so the shop is needs_reauth (the uninstall webhook not in yet)."""
    from datetime import timedelta

    from ledger.models import utcnow
    from shopify_app.shops import mark_needs_reauth

    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.installed_at = utcnow() - timedelta(days=30)
        mark_needs_reauth(session, shop, "token refresh refused: invalid_grant")


def test_a_reinstall_from_needs_reauth_runs_the_reconciliation_too(ledger_with_customer, rconn):
    """The uninstall webhook was missed (or is late), so the shop is needs_reauth with no
    uninstalled_at: orders placed meanwhile sent no webhook, those delivered while it was parked
    failed. The reinstall runs the catch-up reconciliation all the same."""
    from rq import Queue

    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    _installed_long_ago_then_revoked(ledger_with_customer)
    oauth.install(get_settings(), SHOP, TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600), actor="u1")
    jobs = [j for j in Queue("default", connection=rconn).job_ids if "reconcile" in j]
    assert len(jobs) == 1, jobs


def test_a_reinstall_lacking_a_required_scope_waits_to_catch_up(ledger_with_customer, rconn):
    """A reinstall whose grant lacks a scope the app requires leaves the shop parked (every job
    would be denied): the catch-up reconciliation waits for the install that makes it whole."""
    from rq import Queue

    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    _installed_long_ago_then_revoked(ledger_with_customer)
    reduced = ",".join(s for s in DEFAULT_SCOPES.split(",") if s not in ("read_orders", "write_orders"))
    oauth.install(get_settings(), SHOP, TokenSet("shpat_new", reduced, "shprt_new", 3600), actor="u1")
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "needs_reauth"
    assert [j for j in Queue("default", connection=rconn).job_ids if "reconcile" in j] == []
    oauth.install(get_settings(), SHOP, TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600), actor="u1")
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "active"
    assert len([j for j in Queue("default", connection=rconn).job_ids if "reconcile" in j]) == 1


def test_a_late_uninstall_does_not_undo_a_reinstall_made_from_needs_reauth(
    ledger_with_customer, deliver, rconn
):
    """The reinstall's token exchange comes while the shop is needs_reauth (not uninstalled):
    the uninstall triggered before it, processed after it, must leave the new token alone."""
    from datetime import timedelta

    from ledger.models import utcnow
    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    _installed_long_ago_then_revoked(ledger_with_customer)
    uninstalled = utcnow() - timedelta(minutes=2)
    oauth.install(get_settings(), SHOP, TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600), actor="u1")
    deliver(
        "app/uninstalled",
        {"id": 1, "domain": SHOP},
        triggered_at=uninstalled.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)).status == "active"
        assert session.scalar(select(OfflineToken)) is not None
    assert len(audit("app.uninstalled.stale")) == 1


def _reinstall_during(monkeypatch, check: str, inbox_id: int) -> None:
    """Process the inbox row while the merchant reinstalls: the handler pauses right after its
    `check` (a jobs.compliance function) until the reinstall has committed, or 1.5 s: with the
    shop row locked, the reinstall waits for the handler instead."""
    import threading

    from jobs import compliance, inbox
    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    checked, reinstalled = threading.Event(), threading.Event()
    original = getattr(compliance, check)

    def checked_then_wait(*args: Any) -> Any:
        answer = original(*args)
        checked.set()
        reinstalled.wait(timeout=1.5)
        return answer

    def reinstall() -> None:
        checked.wait(timeout=10)
        token = TokenSet("shpat_new", DEFAULT_SCOPES, "shprt_new", 3600)
        oauth.install(get_settings(), SHOP, token, actor="u1")
        reinstalled.set()

    monkeypatch.setattr(compliance, check, checked_then_wait)
    merchant = threading.Thread(target=reinstall)
    merchant.start()
    inbox.process(inbox_id)
    merchant.join(timeout=20)


def _installed_with_the_new_token() -> None:
    from ledger import crypto

    with session_scope() as session:
        shop = session.scalar(select(Shop))
        token = session.scalar(select(OfflineToken))
        assert shop is not None and shop.status == "active", shop and shop.status
        assert token is not None and crypto.decrypt(token.access_token_enc) == "shpat_new"


def test_a_reinstall_committing_during_the_uninstall_keeps_its_new_token(shop_id, deliver, monkeypatch):
    """The uninstall handler has found its webhook newer than the install; before it deletes the
    token, the merchant's reinstall commits a new one. The reinstall must win (it waits for the
    uninstall's row lock, then installs over it), not lose its token to the delete."""
    from datetime import timedelta

    from ledger.models import utcnow
    from settings import get_settings
    from shopify_app import oauth
    from shopify_app.token_endpoint import TokenSet

    oauth.install(get_settings(), SHOP, TokenSet("shpat_old", DEFAULT_SCOPES, "shprt_old", 3600), actor="u1")
    with session_scope() as session:
        session.get(Shop, shop_id).installed_at = utcnow() - timedelta(days=30)
    uninstalled = (utcnow() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    delivered = deliver("app/uninstalled", {"id": 1, "domain": SHOP}, triggered_at=uninstalled)
    _reinstall_during(monkeypatch, "_older_than_install", delivered.json["inbox_id"])
    _installed_with_the_new_token()


def test_a_reinstall_committing_during_the_shop_redact_is_not_erased(shop_id, deliver, monkeypatch):
    """shop/redact has found the shop uninstalled; before it deletes everything, the merchant's
    reinstall commits. The reinstall waits for the redact's row lock, then installs afresh."""
    from datetime import timedelta

    from ledger.models import utcnow

    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        shop.status, shop.uninstalled_at = "uninstalled", utcnow() - timedelta(hours=48)
    delivered = deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    _reinstall_during(monkeypatch, "_installed_since_uninstall", delivered.json["inbox_id"])
    _installed_with_the_new_token()


def test_shop_redact_erases_a_shop_whose_uninstall_webhook_was_missed(ledger_with_customer, deliver, rconn):
    """Shopify sends shop/redact 48 h after the uninstall, once. A shop the ledger still has as
    needs_reauth (the uninstall webhook lost) and not installed since is erased all the same."""

    from ledger.models import utcnow

    _installed_long_ago_then_revoked(ledger_with_customer)
    deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP},
            triggered_at=utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"))  # fmt: skip
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)) is None and session.scalars(select(Message)).all() == []
    assert [r.action for r in audit("shop.redacted")] == ["shop.redacted"]


def test_shop_redact_after_a_reinstall_within_48_hours_deletes_nothing(ledger_with_customer, deliver, rconn):
    from datetime import timedelta

    from ledger.models import utcnow

    with session_scope() as session:
        session.scalar(select(Shop)).installed_at = utcnow() - timedelta(hours=20)  # reinstalled
    deliver("shop/redact", {"shop_id": 1, "shop_domain": SHOP},
            triggered_at=utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"))  # fmt: skip
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)) is not None
    [record] = audit("shop.redact.refused")
    assert "installed again" in record.after["reason"]


CAPITALS_EMAIL = "maria.souza@example.com"


def _message_quoting_the_email_in_capitals(shop_id):
    with session_scope() as session:
        session.add(
            Message(
                shop_id=shop_id,
                flow="orders",
                direction="shopify_to_erp",
                unit_key="order-9002",
                shopify_id="gid://shopify/Order/9002",  # a guest order Shopify does not list
                status="failed",
                error_text="ERP recusou o cliente: e-mail MARIA.SOUZA@EXAMPLE.COM já usado por outro CPF",
                request_payload={"clienteDto": {"email": "Maria.Souza@Example.com", "nroEmpresa": 1}},
            )
        )


def test_data_request_and_redact_find_the_customers_email_whatever_its_case(shop_id, deliver, rconn):
    _message_quoting_the_email_in_capitals(shop_id)
    customer = {"id": 7001, "email": CAPITALS_EMAIL}
    deliver("customers/data_request", {"shop_domain": SHOP, "customer": customer, "orders_requested": []})
    work(rconn)
    [exported] = audit("customer.data_exported")
    deliver("customers/redact", {"shop_domain": SHOP, "customer": customer, "orders_to_redact": []})
    work(rconn)
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "order-9002")).one()
        left = (message.error_text, message.request_payload)
    assert exported.after["counts"]["messages"] == 1 and "MARIA.SOUZA" not in left[0], (
        f"the message quoting the customer's e-mail in capitals was neither exported "
        f"(counts {exported.after['counts']}) nor redacted: {left}"
    )


def test_a_store_with_no_shop_row_has_its_inbox_exported_and_redacted(jobs_env, deliver, rconn):
    """Shopify's managed install delivers a store's webhooks before anyone opens the app there: kept
    whole in the inbox (answered "not installed"), they hold the buyer. A data request exports them,
    and customers/redact scrubs them, though the ledger has no shop row to start from."""
    deliver("orders/create", order_payload())
    work(rconn)
    with session_scope() as session:
        assert session.scalar(select(Shop)) is None
    deliver(
        "customers/data_request",
        {"shop_domain": SHOP, "customer": CUSTOMER, "orders_requested": [9001], "data_request": {"id": 7}},
    )
    work(rconn)
    [event] = audit("customer.data_exported")
    assert event.after["counts"]["webhooks"] == 1 and event.shop_domain == SHOP
    assert EMAIL not in json.dumps(event.after)

    deliver("customers/redact", {"shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [9001]})
    work(rconn)

    assert audit("customer.redacted")[0].after["counts"]["webhook_inbox"] == 3  # the order, both requests
    with session_scope() as session:
        [order] = session.scalars(select(WebhookInbox).where(WebhookInbox.topic == "orders/create")).all()
        body = bytes(order.raw_body).decode()
    assert EMAIL not in body and CPF not in body and "52998224725" not in body


def test_the_inbox_is_searched_in_sql_and_still_finds_a_body_quoting_the_email_in_capitals(
    jobs_env, deliver, rconn
) -> None:
    """The shop's webhook rows are narrowed in SQL by the customer's needles (every body parsed in
    Python outlasted the job's timeout for a busy shop): a body quoting the e-mail in capitals is
    still found (the match ignores case, as the Python one does), another customer's order not."""
    deliver(
        "orders/create", {"id": 9100, "email": EMAIL.upper(), "customer": {"id": 1}}
    )  # nothing else of hers
    other = order_payload()
    other["id"], other["email"], other["customer"] = 9200, "outra@example.com", {"id": 2}
    other.pop("billing_address", None), other.pop("shipping_address", None)
    deliver("orders/create", other)
    work(rconn)
    deliver(
        "customers/data_request",
        {"shop_domain": SHOP, "customer": CUSTOMER, "orders_requested": [], "data_request": {"id": 8}},
    )
    work(rconn)
    [event] = audit("customer.data_exported")
    assert event.after["counts"]["webhooks"] == 1  # the order quoting the e-mail in capitals

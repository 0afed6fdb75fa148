"""customers/redact dropped RQ failed jobs only when their exception text named the customer's e-mail
or phone: a failed job of HER order that is not an inbox job (the reconciliation's import of the
order, a Retry's replay of its message) whose exception quotes her CPF and name (an ERP 5xx answer
echoing GE_PESSOA) stayed in Redis for FAILURE_TTL, shown on the Failed jobs page. A job whose
arguments name her order, or a replay of her message, goes with the redaction now."""

from __future__ import annotations

import json

from rq import Queue, SimpleWorker
from spine_auth.factories import SHOP_A

import jobs.orders
from erp.errors import ErpTransient
from jobs import compliance
from jobs.inbox import WebhookEvent
from ledger import queues
from ledger.db import session_scope
from ledger.models import Message, Role, utcnow

from .conftest import headers
from .test_api_redact_failure_texts import _store

EMAIL = "maria.souza@example.com"
CPF = "52998224725"
NAME = "MARIA SOUZA"
ORDER = 820982911946154508
GID = f"gid://shopify/Order/{ORDER}"


def test_a_failed_import_of_her_order_quoting_her_cpf_goes_with_customers_redact(
    client, shops, rq, monkeypatch
):
    with session_scope() as session:  # her order's message (the import's), failed retrying
        session.add(
            Message(
                shop_id=shops.a,
                flow="orders",
                direction="shopify_to_erp",
                unit_key=f"order:{ORDER}",
                shopify_id=GID,
                status="failed",
                error_text=f"Consinco PedidoVenda answered HTTP 500: GE_PESSOA {CPF} {NAME}",
            )
        )

    def import_order(shop_id, order_id, **_kw):  # the ERP's 5xx echoing the customer register
        raise ErpTransient(
            f"Consinco PedidoVenda answered HTTP 500: ORA-20001 GE_PESSOA NROCGCCPF={CPF} NOMERAZAO={NAME}",
            status=500,
        )

    monkeypatch.setattr(jobs.orders, "import_order", import_order)
    # the reconciliation's import of her order (jobs.reconcile.IMPORT_JOB), after RQ's retries: failed
    queue = Queue(queues.ORDERS, connection=rq)
    queue.enqueue(
        "jobs.orders.import_order",
        shops.a,
        GID,
        job_id=queues.job_key("reconcile-import", shops.a, ORDER),
        failure_ttl=queues.FAILURE_TTL,
    )
    SimpleWorker([queue], connection=rq).work(burst=True, with_scheduler=False)
    before = [j["exc"] for j in queues.failed_jobs(queues.ORDERS, conn=rq)]
    assert any(CPF in e for e in before)

    redact = {"shop_domain": SHOP_A, "customer": {"id": 4242, "email": EMAIL}, "orders_to_redact": [ORDER]}
    redact_id = _store("customers/redact", redact, "w-redact")
    compliance.customers_redact(
        WebhookEvent(redact_id, "customers/redact", SHOP_A, None, None, None, utcnow(), redact)
    )

    with session_scope() as session:  # the ledger's copy of the same text is scrubbed...
        text = session.query(Message.error_text).filter(Message.shopify_id == GID).scalar()
    assert CPF not in text
    shown = json.dumps(client.get("/api/jobs/failed", headers=headers(Role.OWNER)).get_json())
    left = {
        "rq failed job exc quotes her CPF": any(
            CPF in e for e in (j["exc"] for j in queues.failed_jobs(queues.ORDERS, conn=rq))
        ),
        "/api/jobs/failed quotes her CPF": CPF in shown,
        "/api/jobs/failed quotes her name": NAME in shown,
    }
    assert not any(left.values()), left

"""customers/redact while an order of the customer is still being worked on: its NF-e applied in
Shopify, its capture pending at the gateway (the invoices message retrying). Shopify: keep what is
needed to fulfil. The redaction must not stop the retry from taking the money: the invoice's issuer
CNPJ (the supermarket's, kept on the message the retry reads) was scrubbed as if a CPF, and the retry
failed for good telling the merchant to correct the NF-e key in the ERP."""

from __future__ import annotations

from jobs import compliance, invoices
from jobs.inbox import WebhookEvent
from jobs.order_event_codec import event_from_payload
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, utcnow
from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures
from tests.orders_out.conftest import World


def _redact(world: World, gid: str) -> None:
    num = int(gid.rsplit("/", 1)[-1])
    payload = {
        "shop_domain": world.domain,
        "customer": {"id": 1, "email": "maria@example.com"},
        "orders_to_redact": [num],
    }
    compliance.customers_redact(
        WebhookEvent(0, "customers/redact", world.domain, None, None, "2026-10", utcnow(), payload)
    )


def test_a_capture_pending_when_the_customer_is_redacted_is_still_taken(world: World) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.RETRYING.value, message.error_text
    issuer = event_from_payload(message.request_payload).invoice.issuer_cnpj  # the STORE's CNPJ

    _redact(world, order.gid)
    with session_scope() as session:
        kept = event_from_payload(session.get(Message, message.id).request_payload).invoice
    assert issuer and kept.issuer_cnpj == issuer  # the store's own CNPJ: no customer's data

    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    outcome = invoices.replay(message.id)
    with session_scope() as session:
        after = session.get(Message, message.id)
        why = after.error_text
    assert outcome == MessageStatus.DONE.value, why
    assert world.settlement(order.gid).paid == nfe_total

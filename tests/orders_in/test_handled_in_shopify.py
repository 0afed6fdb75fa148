"""An order the app never sent to the ERP that the store handled in Shopify (its webhooks missed, the
store fulfilled it there, maybe typing it into the ERP by hand) must not become a second ERP sale:
goods picked twice, a second NF-e.

- The import (a late orders/updated, or the one the reconciliation enqueues for an order with no
  link) refuses an order whose goods Shopify shows fulfilled for a person (HANDLED_IN_SHOPIFY): a
  visible failure, not a silent skip, and the next report holds it in the app. Cancelling its
  fulfillments in Shopify (it was fulfilled by mistake) and Retry sends it; a gift card fulfilled
  at checkout beside goods still to ship refuses nothing.
- Its `not_for_erp` rules come first: a missed register sale or an order selling only a gift card,
  fulfilled (and archived) by nature, is skipped for good with its own reason, not refused, and
  the reconciliation lists it as no drift to enter in the ERP by hand.
- Not refused: an order archived with nothing fulfilled (staff archive an unpaid boleto order, the
  customer pays), nor one bearing the app's invoice tag ("NF-e emitida": the app sent it and the
  ERP invoiced it before shop/redact erased its link; posted again, the ERP's idempotency answers
  the order it holds and the link learns its number again).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rq import Queue
from sqlalchemy import delete

from jobs import orders, reconcile
from jobs.order_kinds import refuse_handled_in_shopify
from jobs.worker import run_worker
from ledger import drift, kv, queues
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import MessageStatus, WebhookInbox
from sandbox.shopify.checkout import mark_paid
from shopify_app import fail_words
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.admin_api.order_settlement import fulfillment_cancel, settlement
from shopify_app.api_explain import APP_CHECKS, KNOWN_CODES

from .test_edit_and_cancel_flags import poll_erp_events
from .test_import_rules import rest_event
from .test_not_for_erp import change_order
from .test_order_map import raw_order
from .test_pos_sales import pos_sale
from .test_reinstall_after_redact import reinstalled


def _lose_webhooks(world) -> None:
    """Every webhook delivered so far is lost (its inbox row and job gone): the app never saw it."""
    world.delivered()
    for name in queues.QUEUE_NAMES:
        Queue(name, connection=kv.get_redis()).empty()
    with session_scope() as session:
        session.execute(delete(WebhookInbox))


def _fulfil(world, gid: str, quantity: int | None = None) -> None:
    """The store fulfils the order in the Shopify admin: all of it, or `quantity` of its first line."""
    client = for_shop(world.domain)
    [fo] = [fo for fo in client.fulfillment_orders(gid) if fo.status not in ("CLOSED", "CANCELLED")]
    lines = None if quantity is None else [{"id": fo.lines[0].id, "quantity": quantity}]
    client.fulfillment_create({fo.id: lines})


def test_reconcile_does_not_post_to_the_erp_an_order_fulfilled_by_hand_in_shopify(world, monkeypatch):
    """The review's case: the app missed the order's webhooks, the store fulfilled it in Shopify
    (nothing left to ship); the reconciliation enqueued its import and the ERP got a second sale.
    The reconciliation still enqueues its import (it lists no order apart); the import refuses it
    for a person, a lasting failed message with a link, never posted. Beside it, one fulfilled in
    part is refused the same, and one untouched is imported as any missed order."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago
    fulfilled = world.place([(world.sku(0), 1)], gateway="pix")
    part = world.place([(world.sku(0), 2), (world.sku(1), 1)], gateway="pix")
    missed = world.place([(world.sku(1), 1)], gateway="pix")
    _lose_webhooks(world)
    _fulfil(world, fulfilled)
    _fulfil(world, part, quantity=1)
    assert world.order_doc(fulfilled)["displayFulfillmentStatus"] == "FULFILLED"
    assert world.order_doc(part)["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    _lose_webhooks(world)

    report = reconcile.run(world.shop_id, stock_sample=1)
    run_worker(burst=True, simple=True, with_scheduler=False)

    orders_section = report["orders"]
    assert set(orders_section["imports_enqueued"]) == {fulfilled, part, missed}
    assert "handled_in_shopify" not in orders_section
    assert "orders_handled_in_shopify" not in report["summary"]
    # Fulfilled, whole or in part: refused by the import for a person, linked with no ERP number.
    for gid in (fulfilled, part):
        assert world.erp_orders_for(gid) == []
        message = world.message(gid)
        assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
        assert message.error_detail["code"] == "HANDLED_IN_SHOPIFY"
        assert message.error_detail["fail"]["key"] == "order_fulfilled_in_shopify"
        link = world.link(gid)
        assert link is not None and link.nro_pedvenda is None
    # Untouched: imported as any missed order.
    assert len(world.erp_orders_for(missed)) == 1
    # The next report holds the refused ones in the app (their messages say why), no longer unlinked.
    again = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert {fulfilled, part} <= {row["order"] for row in again["held_in_app"]}
    assert not {fulfilled, part} & {row["order"] for row in again["missing_in_ledger"]}
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.erp_orders_for(fulfilled) == [] and world.erp_orders_for(part) == []


def _gift_card_only(order) -> None:
    for line in order["_lines"]:
        line["isGiftCard"] = True
        line["requiresShipping"] = False


def test_a_missed_register_sale_and_gift_card_sale_are_not_drift_to_enter_by_hand(world, monkeypatch):
    """Review case: a POS register sale (its NFC-e issued at the counter) and an order selling only a
    gift card are FULFILLED (and archived) in Shopify by nature. Their webhooks missed, the
    reconciliation listed them as drift "fulfilled in Shopify ... enter it in the ERP by hand": a
    register sale typed into the ERP is the second fiscal document `not_for_erp` exists to prevent.
    Their import is enqueued and `not_for_erp`, before the fulfilled-goods rule, skips them for good
    with their own reason."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    register = pos_sale(world, [{"sku": world.sku(0), "quantity": 1}], "register")
    gift = world.place([(world.sku(1), 1)], gateway="pix")
    _lose_webhooks(world)
    change_order(world, gift, _gift_card_only)
    client = for_shop(world.domain)  # Shopify fulfils a gift card at checkout
    [fo] = [fo for fo in client.fulfillment_orders(gift) if fo.status not in ("CLOSED", "CANCELLED")]
    client.fulfillment_create({fo.id: None})
    # paid and fulfilled: Shopify archives it (closedAt), as its default "automatically archive" does
    change_order(world, gift, lambda order: order.update(closed=True, closedAt="2026-11-30T12:00:00Z"))
    _lose_webhooks(world)
    assert world.order_doc(register)["displayFulfillmentStatus"] == "FULFILLED"
    assert world.order_doc(gift)["closedAt"]

    report = reconcile.run(world.shop_id, stock_sample=1)
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert "handled_in_shopify" not in report["orders"]
    assert not drift.findings(report).get("orders_handled_in_shopify"), drift.findings(report)
    # what the import says of them: skipped for good, with their reason
    for gid in (register, gift):
        message = world.message(gid)
        assert message is not None and message.status == MessageStatus.SKIPPED.value
        assert message.error_detail["not_for_erp"] is True
    assert world.erp_orders_for(register) == [] and world.erp_orders_for(gift) == []


def test_a_late_orders_updated_of_an_order_fulfilled_in_shopify_is_refused_for_a_person(world):
    """Its webhooks missed, the order was fulfilled in Shopify; a later orders/updated (a tag, a
    note) reaches the app. Refused, linked with no ERP number (the Orders page lists it, a person
    can link it to the ERP order typed by hand), said in both languages; once its fulfillment is
    cancelled in Shopify (fulfilled by mistake), Retry sends it."""
    gid = world.place([(world.sku(0), 1)], gateway="pix")
    _lose_webhooks(world)
    _fulfil(world, gid)
    _lose_webhooks(world)

    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 31)) == MessageStatus.FAILED.value
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.error_class == "rejected" and message.error_detail["code"] == "HANDLED_IN_SHOPIFY"
    assert "fulfilled in Shopify before it reached the ERP" in message.error_text, message.error_text
    name = world.order_doc(gid)["name"]
    assert message.error_detail["fail"] == {"key": "order_fulfilled_in_shopify", "params": {"order": name}}
    said = fail_words.reason(message, "pt-BR")
    assert said and "processado na Shopify antes de chegar ao ERP" in said, said
    assert fail_words.reason(message, "en") == message.error_text  # its words say what it wrote
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda is None
    assert "HANDLED_IN_SHOPIFY" in APP_CHECKS and "HANDLED_IN_SHOPIFY" in KNOWN_CODES

    # A redelivery says the same, and sends nothing.
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 32)) == MessageStatus.FAILED.value
    assert world.erp_orders_for(gid) == []

    # Fulfilled by mistake: its fulfillment cancelled in Shopify, Retry sends it.
    client = for_shop(world.domain)
    for fulfillment in settlement(client, gid).active_fulfillments:
        fulfillment_cancel(client, fulfillment.id)
    assert orders.replay(message.id) == "done"
    assert len(world.erp_orders_for(gid)) == 1


def test_an_unfulfilled_order_archived_while_waiting_for_its_boleto_goes_once_paid(world):
    """Review case: a boleto order waits for its payment; staff archive it in the Shopify admin
    (closedAt set, nothing fulfilled nor shipped); the customer pays days later. Nobody picked the
    goods: it goes to the ERP (closedAt alone refused it as HANDLED_IN_SHOPIFY)."""
    gid = world.place(gateway="boleto")
    world.drain()
    assert world.erp_orders_for(gid) == [] and world.message(gid).status == MessageStatus.PENDING.value
    change_order(world, gid, lambda order: order.update(closed=True, closedAt="2026-11-30T12:00:00Z"))
    world.drain()
    mark_paid(world.shopify.sandbox, world.name, gid)  # orders/paid + orders/updated
    world.drain()
    doc = world.order_doc(gid)
    assert doc["displayFulfillmentStatus"] == "UNFULFILLED" and doc["closedAt"]
    message = world.message(gid)
    assert len(world.erp_orders_for(gid)) == 1, (message.status, message.error_text)
    assert message.status == MessageStatus.DONE.value


def test_an_order_sent_and_fulfilled_by_the_app_before_the_redact_is_linked_again(world):
    """Review case: the app sent the order, the ERP invoiced it and the app fulfilled it in Shopify at
    the NF-e (tagged "NF-e emitida"); uninstall, shop/redact (links erased), reinstall. An
    orders/updated reaches the import with no link: the tag proves the ERP has it, so it is posted
    again and the ERP, idempotent on the channel id, answers the order it holds (the documented
    contract), not refused as handled in Shopify."""
    gid = world.place(gateway="pix")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    nro = erp_order["nropedvenda"]
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    doc = world.order_doc(gid)
    assert doc["displayFulfillmentStatus"] == "FULFILLED" and "NF-e emitida" in doc["tags"]
    reinstalled(world)
    status = orders.on_webhook(rest_event(world, gid, "orders/updated", 1))
    message = world.message(gid)
    assert len(world.erp_orders_for(gid)) == 1
    assert status == "done", (status, message.status, message.error_text)
    assert world.link(gid).nro_pedvenda == nro
    assert message.status == MessageStatus.DONE.value and message.response_payload["duplicated"] is True


# -- the rule, pure -----------------------------------------------------------------------------


def _read(
    unfulfilled: list[int],
    *,
    gift_card: int | None = None,
    tags: list[str] | None = None,
    ships: list[bool] | None = None,
):
    raw = raw_order([(Decimal("10.00"), 2, 2, Decimal(0)) for _ in unfulfilled])
    for node, left, shipped in zip(raw["lineItems"]["nodes"], unfulfilled, ships or [True] * len(unfulfilled),
                                   strict=True):  # fmt: skip
        node["unfulfilledQuantity"] = left
        node["requiresShipping"] = shipped
    if gift_card is not None:
        raw["lineItems"]["nodes"][gift_card]["isGiftCard"] = True
    raw["closedAt"] = "2026-11-28T16:00:00Z"  # archived: no reason by itself (not read)
    raw["tags"] = tags or []
    return parse_erp_order(raw)


def test_a_gift_card_fulfilled_at_checkout_beside_goods_to_ship_refuses_nothing():
    """Shopify fulfils a gift card line at checkout (the order shows PARTIALLY_FULFILLED): the
    goods are still to be picked, so the order goes to the ERP as any other. Archived with nothing
    fulfilled, or fulfilled bearing the app's invoice tag (the ERP invoiced it), refuses nothing."""
    refuse_handled_in_shopify(_read([2, 0], gift_card=1))
    refuse_handled_in_shopify(_read([2, 2]))
    refuse_handled_in_shopify(_read([0, 0], tags=["VIP", "NF-e emitida"]))
    refuse_handled_in_shopify(_read([1, 2], tags=["nfc-e emitida"]))


@pytest.mark.parametrize(
    ("unfulfilled", "tags"),
    [
        ([1, 2], None),  # one unit of goods fulfilled
        ([0, 0], None),
        ([0, 0], ["NF-e cancelada", "emitida"]),  # no invoice tag of the app's
    ],
)
def test_goods_fulfilled_in_shopify_are_refused(unfulfilled, tags):
    with pytest.raises(Rejected) as refused:
        refuse_handled_in_shopify(_read(unfulfilled, tags=tags))
    assert refused.value.code == "HANDLED_IN_SHOPIFY"
    assert refused.value.words == ("order_fulfilled_in_shopify", {"order": "#1001"})


def test_a_line_needing_no_shipping_fulfilled_at_checkout_refuses_nothing():
    """Review case: a bag fee or a service (requiresShipping false) that an app or Flow fulfils at
    checkout, beside groceries still to pick, does not show the store handled the order: it goes to
    the ERP (before, HANDLED_IN_SHOPIFY refused every such order). Fulfilled in part, too."""
    refuse_handled_in_shopify(_read([2, 0], ships=[True, False]))
    refuse_handled_in_shopify(_read([2, 1], ships=[True, False]))
    refuse_handled_in_shopify(_read([1, 2], ships=[False, False]))


@pytest.mark.parametrize(
    ("unfulfilled", "ships"),
    [
        ([1, 0], [True, False]),  # a shipping line fulfilled in part beside the fee
        ([2, 0], [False, True]),  # the groceries fulfilled, the fee not
        ([0, 0], [False, False]),  # nothing ships and all of it was handed over: handled as a whole
    ],
)
def test_goods_that_ship_fulfilled_or_everything_fulfilled_are_refused(unfulfilled, ships):
    with pytest.raises(Rejected) as refused:
        refuse_handled_in_shopify(_read(unfulfilled, ships=ships))
    assert refused.value.code == "HANDLED_IN_SHOPIFY"

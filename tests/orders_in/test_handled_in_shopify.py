"""An order the app never sent to the ERP that the store handled in Shopify (its webhooks missed, the
store fulfilled it there, or closed it, maybe typing it into the ERP by hand) must not become a
second ERP sale: goods picked twice, a second NF-e.

- The reconciliation, finding it with no link, does not enqueue its import: it lists it apart
  (`handled_in_shopify`, said in words, counted as drift) for a person to check the ERP has it.
  One only partly fulfilled (Shopify also shows a gift card fulfilled at checkout so) is left to
  the import, which reads its lines.
- The import (a late orders/updated, or the reconciliation's) refuses an order whose goods Shopify
  shows fulfilled, or that is closed, for a person (HANDLED_IN_SHOPIFY): a visible failure, not a
  silent skip. Cancelling its fulfillments in Shopify (it was fulfilled by mistake) and Retry sends
  it; a gift card fulfilled at checkout beside goods still to ship refuses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rq import Queue
from sqlalchemy import delete

from jobs import orders, reconcile, reconcile_cli
from jobs.order_kinds import refuse_handled_in_shopify
from jobs.worker import run_worker
from ledger import drift, kv, queues
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import MessageStatus, WebhookInbox
from shopify_app import fail_words, reconcile_words
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.admin_api.order_settlement import fulfillment_cancel, settlement
from shopify_app.api_explain import APP_CHECKS, KNOWN_CODES

from .test_import_rules import rest_event
from .test_not_for_erp import change_order
from .test_order_map import raw_order


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
    Beside it, one fulfilled in part goes to the import, which refuses it, and one untouched is
    imported as any missed order."""
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
    assert fulfilled not in orders_section["imports_enqueued"]
    assert world.erp_orders_for(fulfilled) == [] and world.link(fulfilled) is None
    [row] = orders_section["handled_in_shopify"]
    assert (row["order"], orders_section["handled_in_shopify_count"]) == (fulfilled, 1)
    assert "fulfilled in Shopify" in row["why"] and "enter it in the ERP by hand" in row["why"], row
    assert row["why_words"] == [{"key": "recon_fulfilled_in_shopify", "params": {}}]
    assert {r["order"] for r in orders_section["missing_in_ledger"]} == {part, missed}
    assert report["summary"]["orders_handled_in_shopify"] == 1
    assert drift.findings(report)["orders_handled_in_shopify"] == 1  # drift: a person checks the ERP
    # said where the report is shown: the CLI, and the page in the merchant's language
    text = reconcile_cli.render(report)
    assert "Orders handled in Shopify with no trace in the app" in text and fulfilled in text, text
    said = reconcile_words.in_locale(report, "pt-BR")["orders"]["handled_in_shopify"][0]["why"]
    assert "processado na Shopify" in said and "fulfilled" not in said, said

    # Fulfilled in part: imported by the reconciliation, refused by the import for a person.
    assert world.erp_orders_for(part) == []
    message = world.message(part)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_detail["code"] == "HANDLED_IN_SHOPIFY"
    # Untouched: imported as any missed order.
    assert len(world.erp_orders_for(missed)) == 1
    # The next report holds the refused one in the app (its message says why), no longer unlinked.
    again = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert part in {row["order"] for row in again["held_in_app"]}
    assert [row["order"] for row in again["handled_in_shopify"]] == [fulfilled]


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


def test_an_order_closed_in_shopify_before_it_reached_the_erp_is_refused_too(world):
    """Closed (archived) in the Shopify admin, not fulfilled: the store settled it there."""
    gid = world.place([(world.sku(0), 1)], gateway="pix")
    _lose_webhooks(world)
    closed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    change_order(world, gid, lambda order: order.update(closed=True, closedAt=closed))

    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 33)) == MessageStatus.FAILED.value
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.error_detail["code"] == "HANDLED_IN_SHOPIFY"
    assert "closed in Shopify before it reached the ERP" in message.error_text, message.error_text
    assert message.error_detail["fail"]["key"] == "order_closed_in_shopify"


# -- the rule, pure -----------------------------------------------------------------------------


def _read(unfulfilled: list[int], *, gift_card: int | None = None, closed_at: str | None = None):
    raw = raw_order([(Decimal("10.00"), 2, 2, Decimal(0)) for _ in unfulfilled])
    for node, left in zip(raw["lineItems"]["nodes"], unfulfilled, strict=True):
        node["unfulfilledQuantity"] = left
    if gift_card is not None:
        raw["lineItems"]["nodes"][gift_card]["isGiftCard"] = True
    raw["closedAt"] = closed_at
    return parse_erp_order(raw)


def test_a_gift_card_fulfilled_at_checkout_beside_goods_to_ship_refuses_nothing():
    """Shopify fulfils a gift card line at checkout (the order shows PARTIALLY_FULFILLED): the
    goods are still to be picked, so the order goes to the ERP as any other."""
    refuse_handled_in_shopify(_read([2, 0], gift_card=1))
    refuse_handled_in_shopify(_read([2, 2]))


@pytest.mark.parametrize(
    ("unfulfilled", "closed_at", "key"),
    [
        ([1, 2], None, "order_fulfilled_in_shopify"),  # one unit of goods fulfilled
        ([0, 0], None, "order_fulfilled_in_shopify"),
        ([2, 2], "2026-11-28T16:00:00Z", "order_closed_in_shopify"),
    ],
)
def test_goods_fulfilled_or_the_order_closed_in_shopify_is_refused(unfulfilled, closed_at, key):
    with pytest.raises(Rejected) as refused:
        refuse_handled_in_shopify(_read(unfulfilled, closed_at=closed_at))
    assert refused.value.code == "HANDLED_IN_SHOPIFY"
    assert refused.value.words == (key, {"order": "#1001"})

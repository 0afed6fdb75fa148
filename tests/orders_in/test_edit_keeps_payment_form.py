"""An edit of an order already in the ERP re-sends its payment forms. Made from the De:Para as it is
now, a Pix line changed since (a new bank for Pix from today on) moved the old order's receivable
to the new form with no word; one mistyped (a form the ERP lacks) failed every edit of orders
imported right; one deleted parked them. The forms the import posted stay the order's."""

from __future__ import annotations

import pytest

from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, edit_message, imported


@pytest.mark.parametrize("change", ["another form", "a form the ERP lacks", "deleted"])
def test_an_edit_keeps_the_payment_form_the_order_was_imported_under(world, change: str) -> None:
    gid, nro = imported(world, gateway="pix")
    assert [p["nroFormaPagto"] for p in world.chain.order(nro)["formasPagto"]] == [2]
    with session_scope() as session:  # the merchant changes the Pix line for orders from now on
        if change == "deleted":
            session.delete(mappings.find_mapping(session, world.shop_id, "payment_method", "Pix"))
        else:
            code = "5" if change == "another form" else "9"
            mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", code)
    edit_in_shopify(world, gid, world.sku(0), 1)  # 2 -> 1: a unit taken off the old order
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert [p["nroFormaPagto"] for p in world.chain.order(nro)["formasPagto"]] == [2]
    assert [p["nro_forma_pagto"] for p in message.request_payload["payments"]] == [2]


def test_a_refund_after_an_edit_sends_the_payment_forms_as_the_money_now_is(world) -> None:
    """A Pix order raised by an edit, the rest paid by card; another edit lowers it and the money
    owed back is refunded to the Pix. The lowering edit split its forms by gateway in turn (before
    the refund), and the refund's job, finding the lines right, ended skipped: the ERP booked the
    card at money it no longer held and the Pix at money given back."""
    from decimal import Decimal

    from jobs import order_edits
    from jobs.inbox import WebhookEvent
    from sandbox.shopify.checkout import pay_balance, place_order
    from sandbox.shopify.resolvers.order_refunds import refund_order
    from tests.orders_in.test_edits_and_cancels import edit_in_shopify

    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 2}],
                      gateway="pix", discount_rate=0.0, shipping=None, seed=11)  # fmt: skip
    world.drain()
    nro = world.link(gid).nro_pedvenda
    edit_in_shopify(world, gid, world.sku(0), 4)
    pay_balance(world.shopify.sandbox, world.name, gid, gateway="cartao")  # the rest by card
    world.drain()
    edit_in_shopify(world, gid, world.sku(0), 3)  # one unit owed back to the customer
    world.drain()
    doc = world.order_doc(gid)
    owed_back = Decimal(doc["totalReceivedSet"]["shopMoney"]["amount"]) - Decimal(
        doc["currentTotalPriceSet"]["shopMoney"]["amount"]
    )
    made = refund_order(world.shopify.sandbox, world.name, gid, {}, amount=owed_back)  # to the Pix
    refund_id = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund_id, "order_id": int(gid.rsplit("/", 1)[-1])}
    keys = (f"r-{refund_id}", f"re-{refund_id}")
    event = WebhookEvent(refund_id, "refunds/create", world.domain, *keys, "2026-10", None, payload)
    assert order_edits.on_refund(event) == "done"
    kept: dict[str, Decimal] = {}
    for txn in world.order_doc(gid)["_transactions"]:
        sign = (
            {"SALE": 1, "CAPTURE": 1, "REFUND": -1}.get(txn["kind"], 0) if txn["status"] == "SUCCESS" else 0
        )
        kept[txn["gateway"]] = kept.get(txn["gateway"], Decimal(0)) + sign * Decimal(
            txn["amountSet"]["shopMoney"]["amount"]
        )
    forms = [Decimal(str(p["vlrPagto"])) for p in world.chain.order(nro)["formasPagto"]]
    assert sorted(forms) == sorted(v for v in kept.values() if v > 0)

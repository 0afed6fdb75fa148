"""Sales rung up at a Shopify POS register. One handed over at the counter (paid, its NFC-e issued
there) never goes to the ERP. One whose goods are shipped to the customer (POS "Ship to customer":
a shipping line and address, a fulfillment order OPEN to ship from the location) was handed over to
nobody: the ERP picks, invoices (NF-e) and ships it as any e-commerce order. One that hands part over
and ships the rest is refused for a person: the app sends no part of an order, and the whole would be
invoiced and taken from stock a second time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs.order_kinds import not_for_erp, refuse_ship_and_carry
from ledger import trace
from ledger.errors import Rejected
from ledger.models import MessageStatus
from sandbox.shopify.checkout import place_order
from shopify_app import fail_words
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_not_for_erp import change_order
from tests.orders_in.test_order_map import raw_order


def pos_sale(world, lines: list[dict], pos: str, **options) -> str:
    options.setdefault("discount_rate", 0.0)
    return place_order(world.shopify.sandbox, world.name, lines=lines, gateway="pix", pos=pos, **options)


def location_name(world, gid: str) -> str:
    doc = world.order_doc(gid)
    return world.shopify.sandbox.store.get(world.name, doc["_retailLocationId"])["name"]


def test_a_pos_sale_shipped_to_the_customer_goes_to_the_erp(world):
    gid = pos_sale(world, [{"sku": world.sku(0), "quantity": 2}], "ship", shipping="SEDEX")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    [erp_order] = world.erp_orders_for(gid)
    sent = world.chain.order(erp_order["nropedvenda"])
    assert "Entrega:" in sent["obsPedido"]  # a delivery, to the customer's address
    assert Decimal(str(sent["vlrTotFrete"])) == Decimal("32.50")  # the SEDEX shipping line


def test_the_reviewers_shape_a_web_order_turned_pos_with_its_shipping_kept_goes_too(world):
    """The order as the review found it: sourceName "pos" and a retail location on an order whose
    shipping address, shipping line and OPEN fulfillment order (SHIPPING) were kept."""
    gid = world.place([(world.sku(0), 1)], gateway="pix", shipping="PAC")

    def _pos_ship_to_customer(order):
        order.update(sourceName="pos", sourceIdentifier="1-1001-1000")
        order["retailLocation"] = {"id": order["_fulfillmentOrders"][0]["_locationId"], "name": "Loja Centro"}

    change_order(world, gid, _pos_ship_to_customer)
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1, world.message(gid).error_text


def test_a_register_sale_is_still_skipped_with_its_words(world):
    gid = pos_sale(world, [{"sku": world.sku(0), "quantity": 1}], "register")
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value, (message.status, message.error_text)
    where = location_name(world, gid)
    said = {"key": "order_at_register", "params": {"location": where}}
    assert message.error_detail == {"not_for_erp": True, "skip": said}
    assert f"sold at the register of {where}" in message.error_text and "NFC-e was issued there" in (
        message.error_text
    )


def test_a_pos_sale_shipping_part_and_handing_over_the_rest_is_refused_for_a_person(world):
    lines = [{"sku": world.sku(0), "quantity": 1, "carried_out": True}, {"sku": world.sku(1), "quantity": 2}]
    gid = pos_sale(world, lines, "ship", shipping="PAC")
    world.drain()
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_detail["code"] == "POS_SHIP_AND_CARRY"
    where = location_name(world, gid)
    assert f"sold at the register of {where}" in message.error_text
    assert "handed over at the counter" in message.error_text and "to be shipped" in message.error_text
    said = message.error_detail[trace.FAIL]
    assert fail_words.said(said, "en") == message.error_text
    name = world.order_doc(gid)["name"]
    portuguese = fail_words.said(said, "pt-BR") or ""
    assert portuguese.startswith(f"o pedido {name} foi vendido no caixa de {where}"), portuguese
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda is None  # listed on the Orders page as needing attention


def _read(*fulfillment_orders: tuple[str, str | None], shipping: bool = True):
    """An OrderForErp answer of a POS sale whose fulfillment orders are (status, methodType)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw.update(sourceName="pos", retailLocation={"name": "Loja Centro"})
    if not shipping:
        raw.update(shippingAddress=None, shippingLines={"nodes": []})
    raw["fulfillmentOrders"]["nodes"] = [
        {
            "id": f"gid://shopify/FulfillmentOrder/{n}",
            "status": status,
            "deliveryMethod": {"methodType": method} if method else None,
            "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
        }
        for n, (status, method) in enumerate(fulfillment_orders, 1)
    ]
    return parse_erp_order(raw)


@pytest.mark.parametrize(
    ("fulfillment_orders", "shipping", "register"),
    [
        ([("CLOSED", "RETAIL")], False, True),  # handed over, fulfilled at once
        ([("OPEN", "RETAIL")], False, True),  # handed over, the register not marking it fulfilled
        ([("OPEN", "SHIPPING")], True, False),  # ship to customer
        ([("OPEN", "LOCAL")], True, False),  # the store's own delivery
        ([("ON_HOLD", "SHIPPING")], True, False),  # held, still to ship
        # shipped by the store from Shopify before its import: no NFC-e at the counter, not a till
        # sale (refused for a person as handled in Shopify)
        ([("CLOSED", "SHIPPING")], True, False),
        ([("OPEN", None)], True, False),  # no method given, a shipping line: to ship
        ([("OPEN", None)], False, True),  # no method given, nothing to ship
    ],
)
def test_a_pos_sale_is_a_register_sale_only_with_nothing_left_to_ship(fulfillment_orders, shipping, register):
    read = _read(*fulfillment_orders, shipping=shipping)
    assert read.sold_at_pos and read.at_register is register
    assert (not_for_erp(read, None) is not None) is register


def test_ship_and_carry_is_told_apart_from_a_register_sale_and_from_a_shipped_one():
    refuse_ship_and_carry(_read(("OPEN", "SHIPPING")))  # shipped whole: sent
    refuse_ship_and_carry(_read(("CLOSED", "RETAIL"), shipping=False))  # a register sale: skipped apart
    refuse_ship_and_carry(_read(("CANCELLED", "RETAIL"), ("OPEN", "SHIPPING")))  # nothing handed over
    with pytest.raises(Rejected) as refused:
        refuse_ship_and_carry(_read(("CLOSED", "RETAIL"), ("OPEN", "SHIPPING")))
    assert refused.value.code == "POS_SHIP_AND_CARRY"
    assert refused.value.words == ("pos_ship_and_carry", {"order": "#1001", "location": "Loja Centro"})


def test_a_pos_ship_to_customer_sale_shipped_in_shopify_before_its_import_is_refused_for_a_person(
    world, monkeypatch
):
    """POS "Ship to customer": nothing handed over at the counter, so no NFC-e issued there. Its
    webhooks lost, the store ships it from Shopify; the reconciliation enqueues its import. It read
    as a till sale (nothing left to ship) and was skipped, "its NFC-e was issued there", the goods
    gone with no fiscal document; it is refused for a person now, as a web order handled in Shopify."""
    from datetime import timedelta

    from jobs import reconcile
    from jobs.worker import run_worker
    from tests.orders_in.test_handled_in_shopify import _fulfil, _lose_webhooks

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    gid = pos_sale(world, [{"sku": world.sku(0), "quantity": 1}], "ship", shipping="SEDEX")
    _lose_webhooks(world)
    _fulfil(world, gid)
    _lose_webhooks(world)
    reconcile.run(world.shop_id, stock_sample=1)
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.erp_orders_for(gid) == []
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == "HANDLED_IN_SHOPIFY"

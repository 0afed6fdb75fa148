"""Sales at a Shopify POS register, as the checkout simulator places them (`pos`): rung up at a
location (sourceName "pos", its retailLocation); what the customer takes at the counter is a RETAIL
fulfillment order fulfilled at once (POS "Mark as fulfilled"), with no shipping line nor address;
"Ship to customer" leaves a SHIPPING (or LOCAL) fulfillment order OPEN at the location, with a
shipping line and address; "ship and carry out" in one order has both."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.shopify import checkout

from .helpers import Catalogue, Receiver, ShopClient, amount, stock

POS_ORDER = """
query PosOrder($id: ID!) {
  order(id: $id) {
    sourceName displayFulfillmentStatus displayFinancialStatus
    retailLocation { id name }
    shippingAddress { address1 }
    totalShippingPriceSet { shopMoney { amount } }
    shippingLines(first: 5) { nodes { title code } }
    fulfillmentOrders(first: 5) {
      nodes { status deliveryMethod { methodType } assignedLocation { location { id } }
        lineItems(first: 20) { nodes { totalQuantity remainingQuantity lineItem { sku } } } }
    }
    fulfillments { status fulfillmentLineItems(first: 10) { nodes { quantity lineItem { sku } } } }
  }
}"""


def pos_order(shop: ShopClient, order_id: str) -> dict:
    return shop.data(POS_ORDER, {"id": order_id})["order"]


def _groups(doc: dict) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(methodType, status, [(sku, remaining)]) of each fulfillment order."""
    return [
        (
            fo["deliveryMethod"]["methodType"],
            fo["status"],
            [(i["lineItem"]["sku"], i["remainingQuantity"]) for i in fo["lineItems"]["nodes"]],
        )
        for fo in doc["fulfillmentOrders"]["nodes"]
    ]


def test_a_register_sale_is_handed_over_at_the_counter(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], gateway="pix",
        discount_rate=0.0, seed=3, pos="register",
    )  # fmt: skip
    doc = pos_order(shop, order_id)
    assert doc["sourceName"] == "pos" and doc["retailLocation"]["id"] == catalogue.location_id
    assert doc["retailLocation"]["name"]
    assert doc["shippingAddress"] is None and doc["shippingLines"]["nodes"] == []
    assert amount(doc["totalShippingPriceSet"]) == Decimal("0")
    assert _groups(doc) == [("RETAIL", "CLOSED", [("ARZ-1", 0)])]
    assert doc["displayFulfillmentStatus"] == "FULFILLED" and doc["displayFinancialStatus"] == "PAID"
    [fulfillment] = doc["fulfillments"]
    assert [(n["lineItem"]["sku"], n["quantity"]) for n in fulfillment["fulfillmentLineItems"]["nodes"]] == [
        ("ARZ-1", 2)
    ]
    assert stock(shop, catalogue, "ARZ-1") == {"available": 8, "committed": 0, "on_hand": 8}  # taken away
    shop.wait_webhooks()
    [created] = receiver.topics("orders/create")
    assert created.json["source_name"] == "pos"


def test_a_sale_shipped_to_the_customer_is_left_open_to_ship(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 2}], gateway="pix",
        discount_rate=0.0, seed=3, pos="ship", shipping="SEDEX",
    )  # fmt: skip
    doc = pos_order(shop, order_id)
    assert doc["sourceName"] == "pos" and doc["retailLocation"]["id"] == catalogue.location_id
    assert doc["shippingAddress"]["address1"]
    assert [(s["title"], s["code"]) for s in doc["shippingLines"]["nodes"]] == [("Correios SEDEX", "SEDEX")]
    assert _groups(doc) == [("SHIPPING", "OPEN", [("ARZ-1", 2)])]
    assert doc["displayFulfillmentStatus"] == "UNFULFILLED" and doc["fulfillments"] == []
    assert stock(shop, catalogue, "ARZ-1") == {"available": 8, "committed": 2, "on_hand": 10}


def test_ship_and_carry_out_in_one_sale_is_two_fulfillment_orders(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", gateway="pix", discount_rate=0.0, seed=3, pos="ship", shipping="PAC",
        lines=[{"sku": "ARZ-1", "quantity": 1, "carried_out": True}, {"sku": "FJN-1", "quantity": 3}],
    )  # fmt: skip
    doc = pos_order(shop, order_id)
    assert sorted(_groups(doc)) == [
        ("RETAIL", "CLOSED", [("ARZ-1", 0)]),
        ("SHIPPING", "OPEN", [("FJN-1", 3)]),
    ]
    assert doc["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert stock(shop, catalogue, "ARZ-1") == {"available": 9, "committed": 0, "on_hand": 9}
    assert stock(shop, catalogue, "FJN-1") == {"available": 17, "committed": 3, "on_hand": 20}


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"pos": "kiosk"}, "pos must be one of"),
        ({"pos": "register", "carried": True}, "carried_out"),
        ({"pos": "ship", "shipping": "RETIRADA"}, "ships to the customer"),
    ],
)
def test_a_pos_sale_asked_otherwise_is_refused(shop: ShopClient, catalogue: Catalogue, options, why) -> None:
    carried = options.pop("carried", False)
    with pytest.raises(checkout.CheckoutError, match=why):
        checkout.place_order(
            shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1, "carried_out": carried}],
            **options,
        )  # fmt: skip

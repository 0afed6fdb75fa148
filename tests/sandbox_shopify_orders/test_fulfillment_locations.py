"""fulfillmentCreate takes the fulfillment orders of one order assigned to one location: the
2026-10 schema's "are associated with the same Order and are assigned to the same Location"
(the invoice run makes one call per location, jobs.invoices)."""

from __future__ import annotations

from sandbox.shopify import checkout

from .helpers import PRODUCT_SET, ShopClient, order, product_input

FULFILL = """
mutation Fulfill($groups: [FulfillmentOrderLineItemsInput!]!) {
  fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: $groups}) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""


def test_fulfillment_orders_at_two_locations_are_refused_in_one_call_and_taken_one_by_one(
    shop: ShopClient,
) -> None:
    locations = [n["id"] for n in shop.data("{ locations(first: 2) { nodes { id } } }")["locations"]["nodes"]]
    assert len(locations) == 2
    variants = []
    for n, location in enumerate(locations):
        rows = [("1kg", "10.00", f"LOC-{n}", 5)]
        data = shop.data(PRODUCT_SET, {"input": product_input(f"Produto {n}", rows, location)})
        assert data["productSet"]["userErrors"] == []
        variants.append(data["productSet"]["product"]["variants"]["nodes"][0]["id"])
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"variantId": v, "quantity": 1} for v in variants], gateway="pix"
    )
    fos = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    assert {fo["assignedLocation"]["location"]["id"] for fo in fos} == set(locations)
    both = shop.data(FULFILL, {"groups": [{"fulfillmentOrderId": fo["id"]} for fo in fos]})[
        "fulfillmentCreate"
    ]
    assert both["fulfillment"] is None
    assert [e["message"] for e in both["userErrors"]] == [
        "All fulfillment orders must be assigned to the same location."
    ]
    assert order(shop, order_id)["fulfillments"] == []
    for fo in fos:
        one = shop.data(FULFILL, {"groups": [{"fulfillmentOrderId": fo["id"]}]})["fulfillmentCreate"]
        assert one["userErrors"] == []
    assert len(order(shop, order_id)["fulfillments"]) == 2

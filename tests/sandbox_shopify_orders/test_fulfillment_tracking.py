"""fulfillmentTrackingInfoUpdate: a fulfillment's tracking given after it was made replaces the one
it showed; notifyCustomer true sends the customer the shipping update (kept in `_notifications`),
left out sends nothing; an unknown or a cancelled fulfillment is a userError on fulfillmentId."""

from __future__ import annotations

from typing import Any

from sandbox.shopify import checkout

from .helpers import Catalogue, Receiver, ShopClient
from .test_fulfillment_cancel import _cancel_fulfillment, _fulfill, order

UPDATE = """
mutation Track($id: ID!, $tracking: FulfillmentTrackingInput!, $notify: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $tracking, notifyCustomer: $notify) {
    fulfillment { id status trackingInfo(first: 5) { company number url } }
    userErrors { field message }
  }
}"""


def _update(
    shop: ShopClient, fulfillment_id: str, tracking: dict[str, Any], notify: bool | None = None
) -> Any:
    return shop.data(UPDATE, {"id": fulfillment_id, "tracking": tracking, "notify": notify})[
        "fulfillmentTrackingInfoUpdate"
    ]


def _notices(shop: ShopClient, order_id: str) -> list[dict[str, Any]]:
    doc = shop.handle.sandbox.store.get("acme", order_id)
    return [n for n in doc.get("_notifications") or [] if n["kind"].startswith("SHIPPING")]


def test_tracking_given_later_replaces_the_fulfillments_and_notifies_only_when_asked(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway="pix", seed=9
    )
    [fo] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    fulfillment_id = _fulfill(shop, fo["id"])  # no tracking, nobody notified
    assert _notices(shop, order_id) == []
    shop.wait_webhooks()
    updates_before = len(receiver.topics("orders/updated"))

    quiet = _update(
        shop, fulfillment_id, {"company": "Loggi", "number": "LG1", "url": "https://t.example/LG1"}
    )
    assert quiet["userErrors"] == []
    assert quiet["fulfillment"]["trackingInfo"] == [
        {"company": "Loggi", "number": "LG1", "url": "https://t.example/LG1"}
    ]
    assert _notices(shop, order_id) == []  # notifyCustomer left out: no e-mail

    told = _update(shop, fulfillment_id, {"company": "Correios", "number": "BR2BR"}, notify=True)
    assert told["userErrors"] == []
    assert told["fulfillment"]["trackingInfo"] == [{"company": "Correios", "number": "BR2BR", "url": None}]
    assert [(n["kind"], n["fulfillmentId"]) for n in _notices(shop, order_id)] == [
        ("SHIPPING_UPDATE", fulfillment_id)
    ]
    shipped = order(shop, order_id)["fulfillments"][0]["trackingInfo"][0]
    assert shipped["number"] == "BR2BR"
    shop.wait_webhooks()
    updates = receiver.topics("orders/updated")
    assert len(updates) == updates_before + 2
    assert updates[-1].json["fulfillments"][0]["tracking_number"] == "BR2BR"


def test_an_unknown_or_cancelled_fulfillment_is_refused_and_nothing_changes(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-5", "quantity": 1}], gateway="pix", seed=10
    )
    [fo] = order(shop, order_id)["fulfillmentOrders"]["nodes"]
    fulfillment_id = _fulfill(shop, fo["id"])
    unknown = _update(shop, "gid://shopify/Fulfillment/999999999", {"number": "X1"}, notify=True)
    assert unknown["fulfillment"] is None
    assert unknown["userErrors"] == [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}]

    assert _cancel_fulfillment(shop, fulfillment_id)["userErrors"] == []
    cancelled = _update(shop, fulfillment_id, {"number": "X2"}, notify=True)
    assert cancelled["fulfillment"] is None and cancelled["userErrors"][0]["field"] == ["fulfillmentId"]
    assert "cancelled" in cancelled["userErrors"][0]["message"]
    assert order(shop, order_id)["fulfillments"][0]["trackingInfo"] == []
    assert _notices(shop, order_id) == []

"""orderUpdate: staff change an order's shipping address (the customer phoned) after it was placed:
the address is overwritten as a whole, the order reads it back, and orders/updated (never
orders/edited) carries it; an input that changes nothing sends nothing; an unknown order is a
userError on id; an input field the sandbox does not emulate says so."""

from __future__ import annotations

from sandbox.shopify import checkout

from .helpers import Catalogue, Receiver, ShopClient

UPDATE = """
mutation Update($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id note shippingAddress { name address1 address2 city provinceCode zip phone countryCodeV2 } }
    userErrors { field message }
  }
}"""

NEW = {
    "firstName": "Ana",
    "lastName": "Souza",
    "address1": "Rua Nova, 99",
    "city": "Campinas",
    "provinceCode": "SP",
    "province": "São Paulo",
    "zip": "13010-000",
    "countryCode": "BR",
    "phone": "+5519999990000",
}


def test_a_new_shipping_address_overwrites_the_old_and_sends_orders_updated(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], gateway="pix", seed=3
    )
    shop.wait_webhooks()
    before = len(receiver.topics("orders/updated"))

    done = shop.data(UPDATE, {"input": {"id": order_id, "shippingAddress": NEW}})["orderUpdate"]
    assert done["userErrors"] == []
    assert done["order"]["shippingAddress"] == {
        "name": "Ana Souza",
        "address1": "Rua Nova, 99",
        "address2": None,  # left out of the input: overwritten, not kept
        "city": "Campinas",
        "provinceCode": "SP",
        "zip": "13010-000",
        "phone": "+5519999990000",
        "countryCodeV2": "BR",
    }
    shop.wait_webhooks()
    updates = receiver.topics("orders/updated")
    assert len(updates) == before + 1
    sent = updates[-1].json["shipping_address"]
    assert (sent["address1"], sent["city"], sent["zip"], sent["country_code"]) == (
        "Rua Nova, 99", "Campinas", "13010-000", "BR"
    )  # fmt: skip
    assert receiver.topics("orders/edited") == []

    again = shop.data(UPDATE, {"input": {"id": order_id, "shippingAddress": NEW}})["orderUpdate"]
    assert again["userErrors"] == []
    shop.wait_webhooks()
    assert len(receiver.topics("orders/updated")) == before + 1  # nothing changed: nothing sent


def test_an_unknown_order_is_a_user_error_and_an_input_not_emulated_says_so(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    missing = shop.data(UPDATE, {"input": {"id": "gid://shopify/Order/999999", "note": "x"}})["orderUpdate"]
    assert missing == {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    order_id = checkout.place_order(
        shop.handle.sandbox, "acme", lines=[{"sku": "ARZ-1", "quantity": 1}], gateway="pix", seed=4
    )
    body = shop.gql(UPDATE, {"input": {"id": order_id, "metafields": []}})
    assert "not emulated: OrderInput.metafields" in body["errors"][0]["message"]

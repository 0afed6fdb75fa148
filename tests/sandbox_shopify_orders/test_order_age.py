"""Shopify lets an app read only the last 60 days of a store's orders unless it holds the
read_all_orders scope (the Order object's description in the 2026-10 schema): an older order reads
null by id (order, orderByIdentifier, node, nodes) and is not listed by orders(query:). The
emulator does the same, against the grant of the token the request carries."""

from __future__ import annotations

from sandbox.shopify import checkout
from sandbox.shopify.tokens import DEFAULT_SCOPES

from .helpers import API_KEY, Catalogue, ShopClient

DAY = 86400.0

READS = """
query Reads($id: ID!) {
  order(id: $id) { id }
  orderByIdentifier(identifier: {id: $id}) { id }
  node(id: $id) { id }
  nodes(ids: [$id]) { id }
  orders(first: 5, query: "status:any") { nodes { id } }
}"""


def _reads(shop: ShopClient, order_id: str) -> dict[str, object]:
    data = shop.data(READS, {"id": order_id})
    return {
        "order": data["order"],
        "orderByIdentifier": data["orderByIdentifier"],
        "node": data["node"],
        "nodes": data["nodes"],
        "listed": [n["id"] for n in data["orders"]["nodes"]],
    }


def test_an_order_older_than_60_days_reads_null_without_read_all_orders(
    shop: ShopClient, catalogue: Catalogue, clock
) -> None:
    old = checkout.place_order(shop.handle.sandbox, "acme", gateway="pix", seed=3)
    clock.advance(59 * DAY)
    recent = checkout.place_order(shop.handle.sandbox, "acme", gateway="pix", seed=4)
    seen = _reads(shop, old)
    assert seen["order"] == {"id": old} and seen["listed"] == [old, recent]  # 59 days: readable

    clock.advance(2 * DAY)  # the first order is 61 days old, the second 2
    assert "read_all_orders" not in DEFAULT_SCOPES.split(",")
    assert _reads(shop, old) == {
        "order": None,
        "orderByIdentifier": None,
        "node": None,
        "nodes": [None],
        "listed": [recent],
    }
    assert _reads(shop, recent)["order"] == {"id": recent}

    granted = DEFAULT_SCOPES + ",read_all_orders"
    assert shop.control("/scopes", {"scopes": granted}).status_code == 200
    token = shop.handle.sandbox.tokens.issue_access_token("acme", API_KEY, expiring=False)["access_token"]
    with_scope = ShopClient(shop.handle, "acme", token)
    seen = _reads(with_scope, old)
    assert seen["order"] == {"id": old} and seen["node"] == {"id": old} and seen["listed"] == [old, recent]

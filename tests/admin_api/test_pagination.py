"""Cursor pagination and MAX_COST_EXCEEDED halving, against requests-mock."""

from __future__ import annotations

import pytest

from shopify_app.admin_api.errors import MaxCostExceeded
from tests.admin_api.conftest import URL, gql_body, sent

MAX_COST = {
    "message": "Query cost is 1510, which exceeds the single query max cost limit (1000).",
    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1510, "maxCost": 1000},
}


def variant(n: int, sku: str = "789") -> dict:
    return {
        "id": f"gid://shopify/ProductVariant/{n}",
        "sku": sku,
        "barcode": None,
        "price": "9.90",
        "compareAtPrice": None,
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{n}"},
        "product": {"id": "gid://shopify/Product/1"},
    }


def page(nodes: list, has_next: bool, cursor: str | None) -> dict:
    return {"productVariants": {"nodes": nodes, "pageInfo": {"hasNextPage": has_next, "endCursor": cursor}}}


def test_max_cost_exceeded_halves_the_page_size_and_keeps_it(client, http):
    http.post(
        URL,
        [
            {"json": {"errors": [MAX_COST]}},
            {"json": {"errors": [MAX_COST]}},
            {"json": gql_body(page([variant(1)], True, "c1"))},
            {"json": gql_body(page([variant(2), variant(3, sku="7890")], False, None))},
        ],
    )
    found = client.variants_by_sku("789")
    assert [v.id for v in found] == ["gid://shopify/ProductVariant/1", "gid://shopify/ProductVariant/2"]
    firsts = [(b["variables"]["first"], b["variables"]["after"]) for b in sent(http)]
    assert firsts == [(250, None), (125, None), (62, None), (62, "c1")]
    assert sent(http)[0]["variables"]["query"] == 'sku:"789"'
    assert http.call_count == 4  # MAX_COST_EXCEEDED is not retried as is


def test_max_cost_exceeded_at_page_size_one_is_raised(client, http):
    http.post(URL, json={"errors": [MAX_COST]})
    with pytest.raises(MaxCostExceeded):
        list(client.orders_updated_since("2026-11-01T00:00:00Z", first=1))
    assert http.call_count == 1


def test_pagination_is_lazy(client, http):
    http.post(
        URL,
        [
            {
                "json": gql_body(
                    {
                        "locations": {
                            "nodes": [
                                {
                                    "id": "gid://shopify/Location/1",
                                    "name": "Loja 1",
                                    "isActive": True,
                                    "fulfillsOnlineOrders": True,
                                    "address": {"city": "Curitiba"},
                                }
                            ],
                            "pageInfo": {"hasNextPage": True, "endCursor": "x"},
                        }
                    }
                )
            },
        ],
    )
    first = next(client.locations())
    assert first.name == "Loja 1" and first.city == "Curitiba"
    assert http.call_count == 1


def test_sku_query_escapes_quotes():
    from shopify_app.admin_api.catalog_ops import sku_query

    assert sku_query('A"B\\C') == 'sku:"A\\"B\\\\C"'


def test_a_cursor_shopify_gives_again_with_a_next_page_is_an_error_not_a_loop():
    """Read on, the same page came back for ever: the rate limit spent, the same nodes handed back."""
    from shopify_app.admin_api.errors import UnexpectedResponse
    from shopify_app.admin_api.pagination import paginate

    class Repeating:
        calls = 0

        def query(self, name, variables=None):
            self.calls += 1
            assert self.calls < 10, "still paging on one repeated cursor"
            page = {"hasNextPage": True, "endCursor": "c1"}
            return {"publications": {"nodes": [{"id": "gid://shopify/Publication/1"}], "pageInfo": page}}

    runner = Repeating()
    with pytest.raises(UnexpectedResponse, match="again"):
        list(paginate(runner, "Publications", ("publications",)))
    assert runner.calls == 2

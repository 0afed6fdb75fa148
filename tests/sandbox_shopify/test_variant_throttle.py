"""Shopify's daily limit on new variants (sandbox/shopify/variant_throttle.py): a store not on Plus
that holds the threshold's variants creates at most the day's allowance more; the refusal is a
top-level error VARIANT_THROTTLE_EXCEEDED on the field, nothing written; updates of existing
variants go on; a bulk line gets the same error; Plus is never held; a day later it allows again."""

from __future__ import annotations

import json

import requests

from sandbox.shopify.variant_throttle import CODE, DAY

from .helpers import PRODUCT_SET, ShopClient, two_variant_input
from .test_bulk_operations import RUN, _upload

SET_TIER = "{base}/shops/acme/tier"


def _throttle(shop: ShopClient, **body: object) -> dict:
    response = requests.post(f"{shop.handle.url}/_sandbox/shops/acme/variant_throttle", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_store_over_the_threshold_creates_at_most_the_days_allowance(shop: ShopClient, clock) -> None:
    assert _throttle(shop, threshold=4, per_day=3) == {
        "shop": "acme",
        "threshold": 4,
        "perDay": 3,
        "created": [],
    }
    first = shop.data(PRODUCT_SET, {"input": two_variant_input("A")})["productSet"]["product"]
    shop.data(PRODUCT_SET, {"input": two_variant_input("B")})  # 4 variants now: under, not counted
    shop.data(PRODUCT_SET, {"input": two_variant_input("C")})  # 2 of the day's 3
    store = shop.handle.sandbox.store
    assert store.count("acme", "ProductVariant") == 6

    refused = shop.gql(PRODUCT_SET, {"input": two_variant_input("D")})  # 2 more would be 4 > 3
    assert refused["data"] == {"productSet": None}
    [error] = refused["errors"]
    assert error["extensions"]["code"] == CODE and error["path"] == ["productSet"]
    assert error["message"].startswith("Daily variant creation limit reached")
    assert store.count("acme", "Product") == 3 and store.count("acme", "ProductVariant") == 6

    # Updating existing variants creates none: not held.
    update = {**two_variant_input("A renamed"), "id": first["id"]}
    assert shop.data(PRODUCT_SET, {"input": update})["productSet"]["product"]["title"] == "A renamed"
    # One new variant still fits the day (2 + 1 = 3).
    one = {**two_variant_input("E"), "variants": two_variant_input()["variants"][:1],
           "productOptions": [{"name": "Peso", "values": [{"name": "1kg"}]}]}  # fmt: skip
    assert shop.data(PRODUCT_SET, {"input": one})["productSet"]["userErrors"] == []

    # In a bulk operation the line carries the error; the others run.
    path = _upload(shop, [json.dumps({"input": two_variant_input("F")}), json.dumps({"input": update})])
    started = shop.data(RUN, {"mutation": PRODUCT_SET, "path": path})["bulkOperationRunMutation"]
    shop.handle.sandbox.bulk.wait(started["bulkOperation"]["id"])
    op = shop.data(
        "query($id: ID!) { bulkOperation(id: $id) { url } }", {"id": started["bulkOperation"]["id"]}
    )
    lines = [
        json.loads(line) for line in requests.get(op["bulkOperation"]["url"], timeout=10).text.splitlines()
    ]
    assert lines[0]["errors"][0]["extensions"]["code"] == CODE
    assert lines[1]["data"]["productSet"]["product"]["title"] == "A renamed"

    clock.advance(DAY + 1)  # a day later the allowance is whole again
    assert shop.data(PRODUCT_SET, {"input": two_variant_input("D")})["productSet"]["userErrors"] == []
    assert len(_throttle(shop)["created"]) == 1  # the day's own, the older ones dropped


def test_plus_stores_are_never_held_and_a_new_day_can_be_forced(shop: ShopClient) -> None:
    _throttle(shop, threshold=0, per_day=1)
    assert shop.gql(PRODUCT_SET, {"input": two_variant_input("A")})["errors"][0]["extensions"]["code"] == CODE
    base = f"{shop.handle.url}/_sandbox"
    assert requests.post(SET_TIER.format(base=base), json={"tier": "plus"}, timeout=10).status_code == 200
    assert shop.data(PRODUCT_SET, {"input": two_variant_input("A")})["productSet"]["userErrors"] == []
    assert requests.post(SET_TIER.format(base=base), json={"tier": "standard"}, timeout=10).status_code == 200
    _throttle(shop, per_day=2, new_day=True)
    assert shop.data(PRODUCT_SET, {"input": two_variant_input("B")})["productSet"]["userErrors"] == []
    bad = requests.post(f"{base}/shops/acme/variant_throttle", json={"threshold": "many"}, timeout=10)
    assert bad.status_code == 400

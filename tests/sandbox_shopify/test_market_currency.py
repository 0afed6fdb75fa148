"""A market sells in its base currency (currencySettings): Shopify takes a price list into a
market's catalog only in that currency, whichever way the two are joined."""

from __future__ import annotations

from sandbox.shopify.resolvers.pricing import currency_settings

from .helpers import ShopClient

MARKETS = "{ markets(first: 5) { nodes { id currencySettings { baseCurrency { currencyCode } } } } }"
LIST_CREATE = """mutation($name: String!, $currency: CurrencyCode!, $catalog: ID) {
  priceListCreate(input: {name: $name, currency: $currency, catalogId: $catalog,
    parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
    priceList { id currency } userErrors { field code } } }"""
CATALOG_CREATE = """mutation($m: ID!, $pl: ID) { catalogCreate(input: {title: "Loja", status: ACTIVE,
  context: {marketIds: [$m]}, priceListId: $pl}) { catalog { id } userErrors { field code } } }"""


def test_a_price_list_joins_a_market_catalog_only_in_the_market_currency(shop: ShopClient) -> None:
    (market,) = shop.data(MARKETS)["markets"]["nodes"]
    assert market["currencySettings"]["baseCurrency"]["currencyCode"] == "BRL"  # a Brazilian shop's
    store = shop.handle.sandbox.store
    store.put("acme", {**store.get("acme", market["id"]), "currencySettings": currency_settings("USD")})
    (market,) = shop.data(MARKETS)["markets"]["nodes"]
    assert market["currencySettings"]["baseCurrency"]["currencyCode"] == "USD"

    catalog = shop.data(CATALOG_CREATE, {"m": market["id"]})["catalogCreate"]["catalog"]
    brl = shop.data(LIST_CREATE, {"name": "BRL", "currency": "BRL", "catalog": catalog["id"]})
    assert brl["priceListCreate"] == {
        "priceList": None,
        "userErrors": [{"field": ["input", "currency"], "code": "CURRENCY_MARKET_MISMATCH"}],
    }
    loose = shop.data(LIST_CREATE, {"name": "BRL solta", "currency": "BRL"})["priceListCreate"]["priceList"]
    refused = shop.data(CATALOG_CREATE, {"m": market["id"], "pl": loose["id"]})["catalogCreate"]
    assert refused["userErrors"] == [
        {"field": ["input", "priceListId"], "code": "MARKET_AND_PRICE_LIST_CURRENCY_MISMATCH"}
    ]
    usd = shop.data(LIST_CREATE, {"name": "USD", "currency": "USD", "catalog": catalog["id"]})
    assert (
        usd["priceListCreate"]["userErrors"] == []
        and usd["priceListCreate"]["priceList"]["currency"] == "USD"
    )

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


MARKET_CATALOGS = """query($id: ID!, $first: Int!, $after: String) { market(id: $id) {
  catalogsCount { count precision }
  catalogs(first: $first, after: $after) { nodes { id title status priceList { id currency } }
    pageInfo { hasNextPage endCursor } } } }"""
DELETE = "mutation($id: ID!) { priceListDelete(id: $id) { deletedId userErrors { code } } }"


def test_a_markets_price_lists_are_answered_through_its_catalogs(shop: ShopClient) -> None:
    """Market.catalogs -> MarketCatalog.priceList, the replacement of the deprecated
    Market.priceList: every catalog of the market in id order (one holding no list too), each with
    its own list and that list's currency, paged; a catalog of two markets is on both."""
    (market,) = shop.data(MARKETS)["markets"]["nodes"]
    store = shop.handle.sandbox.store
    other = store.put(
        "acme", {**store.get("acme", market["id"]), "id": "gid://shopify/Market/99", "name": "B"}
    )
    bare = shop.data(CATALOG_CREATE, {"m": market["id"]})["catalogCreate"]["catalog"]["id"]
    both = shop.data(
        """mutation($m: ID!, $o: ID!) { catalogCreate(input: {title: "Ambos", status: DRAFT,
          context: {marketIds: [$m, $o]}}) { catalog { id } userErrors { code } } }""",
        {"m": market["id"], "o": other["id"]},
    )["catalogCreate"]["catalog"]["id"]
    listed = shop.data(LIST_CREATE, {"name": "Ambos BRL", "currency": "BRL", "catalog": both})
    price_list = listed["priceListCreate"]["priceList"]

    first = shop.data(MARKET_CATALOGS, {"id": market["id"], "first": 1})["market"]
    assert first["catalogsCount"] == {"count": 2, "precision": "EXACT"}
    assert first["catalogs"]["nodes"] == [
        {"id": bare, "title": "Loja", "status": "ACTIVE", "priceList": None}
    ]
    assert first["catalogs"]["pageInfo"]["hasNextPage"] is True
    after = first["catalogs"]["pageInfo"]["endCursor"]
    rest = shop.data(MARKET_CATALOGS, {"id": market["id"], "first": 1, "after": after})["market"]["catalogs"]
    assert rest["nodes"] == [{"id": both, "title": "Ambos", "status": "DRAFT", "priceList": price_list}]
    assert rest["pageInfo"]["hasNextPage"] is False
    on_other = shop.data(MARKET_CATALOGS, {"id": other["id"], "first": 5})["market"]["catalogs"]["nodes"]
    assert [(c["id"], c["priceList"]) for c in on_other] == [(both, price_list)]

    assert shop.data(DELETE, {"id": price_list["id"]})["priceListDelete"]["userErrors"] == []
    nodes = shop.data(MARKET_CATALOGS, {"id": market["id"], "first": 5})["market"]["catalogs"]["nodes"]
    assert [(c["id"], c["priceList"]) for c in nodes] == [(bare, None), (both, None)]  # the catalog stays

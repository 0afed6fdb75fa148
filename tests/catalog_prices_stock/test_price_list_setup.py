"""A pair's price list set up once per market: a catalog, then a BRL price list in it. A setup cut
short between the two creations creates no second catalog, nor does a creation whose answer was
lost after Shopify made it (catalogCreate and priceListCreate are never sent again blindly: the
next pass finds what it made among the market's catalogs); a market selling in another currency
(Shopify takes only a list in the market's currency) gets one clear message and nothing created or
sent, pass after pass."""

from __future__ import annotations

import contextlib

from jobs import prices
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.mappings import upsert_mapping
from ledger.models import MessageStatus
from sandbox.shopify.resolvers.pricing import currency_settings
from sandbox.shopify.state_dump import dump
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyNetworkError
from shopify_app.admin_api.transport import AdminTransport
from shopify_app.api_explain import explain

from .chain import messages


def _map_market(chain, shop, currency: str | None = None) -> str:
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    if currency is not None:
        _sell_in(chain, shop, market.id, currency)
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2")
    return market.id


def _sell_in(chain, shop, market_id: str, currency: str) -> None:
    """The market's base currency, as the merchant sets it in Shopify's Markets settings."""
    store = chain.shopify.sandbox.store
    doc = store.get(shop.name, market_id)
    store.put(shop.name, {**doc, "currencySettings": currency_settings(currency)})


def _setups(shop) -> list:
    return [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":setup")]


def _cut_short(shop, monkeypatch) -> None:
    """One pass whose priceListCreate fails after its catalogCreate (the connection dropped, or the
    worker was killed right there); later calls go through."""
    real = AdminClient.price_list_create
    failures = {"left": 1}

    def flaky(self, *a, **k):
        if failures["left"]:
            failures["left"] -= 1
            raise Transient("connection reset")
        return real(self, *a, **k)

    monkeypatch.setattr(AdminClient, "price_list_create", flaky)
    with contextlib.suppress(Transient):
        prices.run(shop.shop_id)


def _answer_lost(shop, monkeypatch, operation: str) -> None:
    """One pass whose `operation` Shopify carries out but whose answer never reaches the app (a
    read timeout); later answers come back."""
    real = AdminTransport.send
    lost = {"left": 1}

    def lossy(self, op, variables, token):
        answer = real(self, op, variables, token)
        if op.name == operation and lost["left"]:
            lost["left"] -= 1
            raise ShopifyNetworkError("read timed out")
        return answer

    monkeypatch.setattr(AdminTransport, "send", lossy)
    with contextlib.suppress(Transient):
        prices.run(shop.shop_id)


def _list_calls(calls, mark) -> list[str]:
    return [m for m in calls.mutations(mark) if m.startswith(("Catalog", "PriceList"))]


def _catalogs(chain, shop) -> list[dict]:
    return chain.shopify.sandbox.store.scan(shop.name, "MarketCatalog")


def test_a_failure_between_catalog_and_price_list_creation_creates_no_second_catalog(
    chain, calls, monkeypatch
):
    shop = chain.install("entre-criacoes", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _map_market(chain, shop)
    mark = calls.mark()
    _cut_short(shop, monkeypatch)
    assert [m.status for m in _setups(shop)] == [MessageStatus.RETRYING.value]
    result = prices.run(shop.shop_id)
    made = calls.mutations(mark)
    assert made.count("CatalogCreate") == 1 and made.count("PriceListCreate") == 1
    (only,) = _catalogs(chain, shop)  # the first pass's catalog got the list
    (price_list,) = chain.shopify.sandbox.store.scan(shop.name, "PriceList")
    assert only["priceListId"] == price_list["id"] and result.list_prices == len(catalog)
    assert [m.status for m in _setups(shop)] == [MessageStatus.DONE.value]


def test_a_catalog_whose_answer_was_lost_is_found_and_given_its_list_not_made_again(
    chain, calls, monkeypatch
):
    """Shopify made the catalog and the answer was lost (nothing remembered): the next pass finds it
    on the market by the title the app gives it, not a second catalog for the market."""
    shop = chain.install("catalogo-sem-resposta", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _map_market(chain, shop)
    mark = calls.mark()
    _answer_lost(shop, monkeypatch, "CatalogCreate")
    (made,) = _catalogs(chain, shop)  # Shopify has it; the app never heard
    assert made["priceListId"] is None and made["marketIds"] == [market]
    assert [m.status for m in _setups(shop)] == [MessageStatus.RETRYING.value]
    result = prices.run(shop.shop_id)
    sent = calls.mutations(mark)
    assert sent.count("CatalogCreate") == 1 and sent.count("PriceListCreate") == 1
    (only,) = _catalogs(chain, shop)
    (price_list,) = chain.shopify.sandbox.store.scan(shop.name, "PriceList")
    assert only["id"] == made["id"] and only["priceListId"] == price_list["id"]
    assert result.list_prices == len(catalog)
    assert [m.status for m in _setups(shop)] == [MessageStatus.DONE.value]
    with session_scope() as session:
        bound = bindings.get_many(session, shop.shop_id, "price_list", [f"2:2@{market}"])[f"2:2@{market}"]
    assert (bound.shopify_id, bound.data["catalog_id"]) == (price_list["id"], made["id"])


def test_a_price_list_whose_answer_was_lost_is_found_in_its_catalog_not_made_again(chain, calls, monkeypatch):
    shop = chain.install("lista-sem-resposta", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _map_market(chain, shop)
    mark = calls.mark()
    _answer_lost(shop, monkeypatch, "PriceListCreate")
    (made,) = chain.shopify.sandbox.store.scan(shop.name, "PriceList")
    result = prices.run(shop.shop_id)
    sent = calls.mutations(mark)
    assert sent.count("CatalogCreate") == 1 and sent.count("PriceListCreate") == 1
    (only,) = _catalogs(chain, shop)
    assert only["priceListId"] == made["id"]
    assert [p["id"] for p in chain.shopify.sandbox.store.scan(shop.name, "PriceList")] == [made["id"]]
    assert result.list_prices == len(catalog)
    assert [m.status for m in _setups(shop)] == [MessageStatus.DONE.value]


def test_a_catalog_deleted_before_its_price_list_was_created_is_created_again(chain, calls, monkeypatch):
    """The catalog a cut-short setup remembered was deleted in the admin meanwhile: a new one."""
    shop = chain.install("catalogo-apagado", 1, 1, [1])
    chain.load_catalog(shop)
    _map_market(chain, shop)
    _cut_short(shop, monkeypatch)
    (gone,) = _catalogs(chain, shop)
    chain.shopify.sandbox.store.delete(shop.name, gone["id"])
    prices.run(shop.shop_id)
    (made,) = _catalogs(chain, shop)
    assert made["id"] != gone["id"] and made["priceListId"]
    assert [m.status for m in _setups(shop)] == [MessageStatus.DONE.value]


def test_a_market_in_another_currency_is_one_message_and_nothing_created(chain, calls):
    shop = chain.install("mercado-dolar", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _map_market(chain, shop, "USD")
    mark = calls.mark()
    for _ in range(3):  # three scheduled passes
        prices.run(shop.shop_id)
    assert _list_calls(calls, mark) == [] and _catalogs(chain, shop) == []
    (setup,) = _setups(shop)
    assert setup.status == MessageStatus.FAILED.value and setup.error_class == "rejected"
    assert setup.error_detail["code"] == "MARKET_CURRENCY" and setup.error_detail["currency"] == "USD"
    assert "USD" in setup.error_text and "BRL" in setup.error_text
    for locale in ("en", "pt-BR"):
        shown = explain(setup, locale)
        said = f"{shown['what_happened']} {shown['what_to_do']}"
        assert "USD" in said and "BRL" in said, said
    listed = [m for m in messages(shop.shop_id, "prices") if m.unit_key.startswith("pricelist:")]
    assert [m.unit_key for m in listed] == [setup.unit_key]  # no message per SKU

    _sell_in(chain, shop, market, "BRL")  # the merchant switched the market to reais
    assert prices.run(shop.shop_id).list_prices == len(catalog)
    assert len(_catalogs(chain, shop)) == 1
    assert [m.status for m in _setups(shop)] == [MessageStatus.DONE.value]


def test_a_market_with_its_own_list_in_another_currency_gets_no_brl_prices(chain, calls):
    shop = chain.install("lista-dolar", 1, 1, [1])
    chain.load_catalog(shop)
    market = _map_market(chain, shop, "USD")
    client = for_shop(shop.domain)  # the merchant's own USD list on the market
    usd = client.price_list_create("Merchant USD list", "USD")
    client.catalog_create("Merchant USD catalog", [market], price_list_id=usd.id)
    client.close()
    mark = calls.mark()
    for _ in range(3):
        prices.run(shop.shop_id)
    assert _list_calls(calls, mark) == []
    (setup,) = _setups(shop)
    assert setup.status == MessageStatus.FAILED.value and setup.error_detail["code"] == "MARKET_CURRENCY"
    failed = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    assert [m.unit_key for m in failed] == [setup.unit_key]
    assert chain.shopify.sandbox.store.find(shop.name, "price.list", usd.id) == []


def test_a_list_bound_before_the_currency_check_is_checked_once(chain, calls):
    """A pair bound to a market's USD list by an earlier version (no currency in its binding): the
    next pass stops it there; a BRL one is stamped and not asked about again."""
    shop = chain.install("lista-antiga", 1, 1, [1])
    chain.load_catalog(shop)
    market = _map_market(chain, shop, "USD")
    client = for_shop(shop.domain)
    usd = client.price_list_create("Merchant USD list", "USD")
    client.catalog_create("Merchant USD catalog", [market], price_list_id=usd.id)
    client.close()
    key = f"2:2@{market}"
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "price_list", [BindingRow(key, usd.id, None, {})])
    mark = calls.mark()
    prices.run(shop.shop_id)
    assert _list_calls(calls, mark) == []
    assert [m.error_detail["code"] for m in _setups(shop)] == ["MARKET_CURRENCY"]

    _sell_in(chain, shop, market, "BRL")  # the merchant moved the market and its list to reais
    store = chain.shopify.sandbox.store
    store.put(shop.name, {**store.get(shop.name, usd.id), "currency": "BRL"})
    prices.run(shop.shop_id)
    with session_scope() as session:
        stamped = bindings.get_many(session, shop.shop_id, "price_list", [key])[key]
        assert (stamped.shopify_id, stamped.data) == (usd.id, {"currency": "BRL"})
    mark = calls.mark()
    prices.run(shop.shop_id)
    assert not {"Markets", "MarketCatalogs"} & set(calls.names(mark))


def _merchant_catalog(shop, market: str, title: str, status: str = "ACTIVE", currency: str = "") -> str:
    """A catalog the merchant made on the market in the admin, with a list in `currency` if given."""
    client = for_shop(shop.domain)
    list_id = client.price_list_create(f"{title} list", currency).id if currency else None
    made = client.catalog_create(title, [market], price_list_id=list_id, status=status)
    client.close()
    return list_id or made.id


def test_the_merchants_own_list_on_the_market_is_kept_found_through_its_catalogs(chain, calls):
    """The market's lists are its catalogs' (Market.catalogs -> MarketCatalog.priceList; the
    market's own priceList field is deprecated): a catalog of the merchant's holding no list is
    passed over, an active one's BRL list is the pair's, and nothing is created."""
    shop = chain.install("lista-do-lojista", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _map_market(chain, shop)
    _merchant_catalog(shop, market, "Vitrine")  # no list
    draft = _merchant_catalog(shop, market, "Rascunho", status="DRAFT", currency="BRL")
    own = _merchant_catalog(shop, market, "Tabela Moema", currency="BRL")
    mark = calls.mark()
    result = prices.run(shop.shop_id)
    assert _list_calls(calls, mark) == ["PriceListFixedPricesAdd"] and result.list_prices == len(catalog)
    assert "MarketCatalogs" in calls.names(mark)
    prices_in = {p["id"]: p["prices"] for p in dump(chain.shopify.sandbox, shop.name)["priceLists"]}
    assert len(prices_in[own]) == len(catalog) and prices_in[draft] == {}
    key = f"2:2@{market}"
    with session_scope() as session:
        bound = bindings.get_many(session, shop.shop_id, "price_list", [key])[key]
    assert (bound.shopify_id, bound.data) == (own, {"currency": "BRL"})
    assert _setups(shop) == []  # no setup failed


def test_a_list_on_a_draft_catalog_only_is_still_the_markets_and_not_doubled(chain, calls):
    shop = chain.install("lista-rascunho", 1, 1, [1])
    chain.load_catalog(shop)
    market = _map_market(chain, shop)
    draft = _merchant_catalog(shop, market, "Rascunho", status="DRAFT", currency="BRL")
    mark = calls.mark()
    prices.run(shop.shop_id)
    assert _list_calls(calls, mark) == ["PriceListFixedPricesAdd"]
    key = f"2:2@{market}"
    with session_scope() as session:
        assert bindings.get_many(session, shop.shop_id, "price_list", [key])[key].shopify_id == draft

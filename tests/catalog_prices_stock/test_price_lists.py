"""Further (company, segment) pairs mapped to markets get a price list, created once, updated by
digest, 250 prices per call."""

from __future__ import annotations

from decimal import Decimal

from jobs import prices
from ledger.db import session_scope
from ledger.mappings import upsert_mapping
from sandbox.shopify.state_dump import dump
from shopify_app.admin_api import for_shop


def test_a_mapped_market_gets_the_pairs_prices_once(chain, calls):
    shop = chain.install("mercados", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2 da loja 2")
    mark = calls.mark()
    result = prices.run(shop.shop_id)
    assert result.list_prices == len(catalog)
    made = calls.mutations(mark)
    assert made.count("CatalogCreate") == 1 and made.count("PriceListCreate") == 1
    assert made.count("PriceListFixedPricesAdd") == 1  # 16 prices: one call
    erp = chain.erp()
    items = {i.id_sku: i for i in erp.price_items(None, 2, 2)}
    erp.close()
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    for sku, data in catalog.items():
        item = items[sku]
        want = item.promotional if item.promotion_running else item.normal
        assert Decimal(str(price_list["prices"][data["variant_id"]])) == want.quantize(Decimal("0.01"))

    mark = calls.mark()
    prices.run(shop.shop_id)
    assert calls.mutations(mark) == []  # nothing changed, nothing created again
    seq = next(iter(catalog.values()))["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 1.2, 2)
    prices.run(shop.shop_id)
    assert calls.mutations(mark) == ["PriceListFixedPricesAdd"]  # the store's own prices (company 1) kept

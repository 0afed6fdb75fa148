"""A store moving from another connector: its products (SKU = idSku, no custom id, stocked and
priced by the old tool) are adopted by the first catalog load. The stock and prices schedules run
apart, and stock's (every 3 minutes) usually comes first: it took an adopted variant the prices
flow had not priced yet for a new one at R$ 0.00 and set it to 0, selling the catalog out until the
prices caught up. An adopted variant is live at the old tool's price: its level is the ERP's."""

from __future__ import annotations

from collections import defaultdict

from jobs import catalog_flow, stock
from jobs.catalog_map import cache_sku, variant_input
from shopify_app.admin_api import for_shop

from .test_stock_flow import erp_stock, expected


def _as_the_old_connector_made_it(chain, shop, quantity: int = 50) -> dict[str, str]:
    """Every ERP SKU as a variant of a product per ERP product, priced 9.99 and stocked `quantity`
    by the old tool; SKU -> inventory item."""
    erp = chain.erp()
    by_product = defaultdict(list)
    for s in erp.skus():
        by_product[s.seq_produto].append(s)
    erp.close()
    at = [{"locationId": loc, "name": "available", "quantity": quantity} for loc in shop.locations.values()]
    client = for_shop(shop.domain)
    items = {}
    for seq, group in sorted(by_product.items()):
        option = [{"name": s.id_sku} for s in group]
        result = client.product_set({
            "title": f"Produto {seq}", "status": "ACTIVE",
            "productOptions": [{"name": "Embalagem", "values": option}],
            "variants": [{
                "optionValues": [{"optionName": "Embalagem", "name": s.id_sku}], "price": "9.99",
                "inventoryItem": variant_input(True, cache_sku(s), s.id_sku)["inventoryItem"],
                "inventoryQuantities": at} for s in group],
        })  # fmt: skip
        for s in group:
            items[s.id_sku] = result.product.variant_by_sku(s.id_sku).inventory_item_id
    client.close()
    return items


def test_the_first_stock_pass_after_adoption_sets_the_erps_levels_not_0(chain) -> None:
    shop = chain.install("migrando", 1, 1, [1])
    items = _as_the_old_connector_made_it(chain, shop)
    client = for_shop(shop.domain)
    result = catalog_flow.initial_load(shop.shop_id, client=client)
    client.close()
    assert result.created == 0 and result.adopted > 0
    stock.run(shop.shop_id)  # before any prices pass
    rows = erp_stock(chain, 1)
    want = {sku: expected(*rows[sku]) for sku in items if sku in rows}
    assert any(want.values())
    levels = {sku: chain.level(shop, item, 1) for sku, item in items.items() if sku in want}
    assert levels == want

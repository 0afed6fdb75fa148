"""The products flow replaces a variant (catalog_ledger._reprice: price binding due, awaiting_price,
the new variant at R$ 0.00) while a prices pass is between reading its bindings and recording what
Shopify took: the pass writes the OLD variant's price binding over the mark, awaiting_price is lost,
and the stock flow (stock_map.for_sale reads only the flag, not the variant id) puts stock on the
new variant, sellable at R$ 0.00 until the next prices pass."""

from __future__ import annotations

from decimal import Decimal

import jobs.prices as flow
from jobs import catalog_ledger, prices, stock
from jobs.catalog_map import cache_sku, variant_input
from jobs.stock_map import for_sale
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from shopify_app.admin_api import for_shop


def test_a_variant_replaced_during_a_prices_pass_stays_off_sale_until_priced(chain, monkeypatch):
    shop = chain.install("troca-variante", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d)
        for s, d in catalog.items()
        if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0 and Decimal(d["qtd_embalagem"]) == 1
    )
    seq = data["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 1.2, 1)  # a price change of the store's pair
    erp = chain.erp()
    the_sku = next(s for s in erp.skus() if s.id_sku == sku)
    erp.close()
    real = flow.send_direct
    new: dict = {}

    def racing(shop_id, client, product_id, lines, today, result):
        if not new and any(line.id_sku == sku for line in lines):
            # meanwhile the products flow recreated the variant (deleted by hand in Shopify):
            c = for_shop(shop.domain)
            at = [{"locationId": loc, "name": "available", "quantity": 0} for loc in shop.locations.values()]
            made = c.product_set(
                {
                    "title": "Recriado",
                    "status": "ACTIVE",
                    "productOptions": [{"name": "Embalagem", "values": [{"name": sku}]}],
                    "variants": [
                        {
                            "optionValues": [{"optionName": "Embalagem", "name": sku}],
                            "price": "0.00",
                            "inventoryItem": variant_input(True, cache_sku(the_sku), sku)["inventoryItem"],
                            "inventoryQuantities": at,
                        }
                    ],
                }
            )
            c.close()
            v = made.product.variant_by_sku(sku)
            new.update(variant_id=v.id, item=v.inventory_item_id, product_id=made.product.id)
            with session_scope() as session:
                vdata = {
                    **bindings.get_many(session, shop_id, "variant", [sku])[sku].data,
                    "product_id": made.product.id,
                    "inventory_item_id": v.inventory_item_id,
                }
                bindings.upsert_many(session, shop_id, "variant", [BindingRow(sku, v.id, None, vdata)])
                catalog_ledger._reprice(session, shop_id, [sku])
                bindings.upsert_many(session, shop_id, "stock_recheck", [BindingRow(sku, None)])
        return real(shop_id, client, product_id, lines, today, result)

    monkeypatch.setattr(flow, "send_direct", racing)
    prices.run(shop.shop_id)
    assert new
    with session_scope() as session:
        pb = bindings.get_many(session, shop.shop_id, "price", [sku])[sku]
        price_binding = (pb.shopify_id, pb.digest, dict(pb.data))
    # the pass did not write the old variant's price over the replacement's mark
    assert price_binding[1] is None and price_binding[2].get("awaiting_price"), price_binding
    stock.run(shop.shop_id)
    shown = chain.variant(shop, new["variant_id"])["price"]
    level = chain.level(shop, new["item"], 1)
    assert not (Decimal(str(shown)) == 0 and (level or 0) > 0), (
        f"new variant sells at R$ {shown} with {level} in stock; price binding now {price_binding}"
    )
    # the next pass prices the new variant, and the stock flow puts it on sale
    monkeypatch.setattr(flow, "send_direct", real)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert Decimal(str(chain.variant(shop, new["variant_id"])["price"])) > 0
    assert (chain.level(shop, new["item"], 1) or 0) > 0


def test_a_price_sent_to_another_variant_than_the_skus_prices_nothing():
    """Whatever its flags say, a price binding on a variant since replaced does not put the SKU on sale."""
    priced = {"sale_active": True}
    assert for_sale(
        {},
        priced,
        variant_id="gid://shopify/ProductVariant/1",
        priced_variant="gid://shopify/ProductVariant/1",
    )
    assert not for_sale(
        {},
        priced,
        variant_id="gid://shopify/ProductVariant/2",
        priced_variant="gid://shopify/ProductVariant/1",
    )
    assert not for_sale({}, priced, variant_id="gid://shopify/ProductVariant/2", priced_variant=None)


def test_a_variant_replaced_during_a_price_list_call_gets_its_market_price_from_the_next_pass(
    chain, monkeypatch
):
    """The products flow makes a variant anew (its list price marked due) right after a prices pass's
    priceListFixedPricesAdd for the old variant returned: the pass must not write the old variant's
    binding over that mark, or the new variant has no market price until the daily sweep."""
    from sandbox.shopify.state_dump import dump
    from shopify_app.admin_api.client import AdminClient

    from .test_price_lists import _beyond_the_overlap, _list_market

    def listed() -> dict[str, str]:
        (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
        return price_list["prices"]

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-troca", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)  # the pair 2:2
    prices.run(shop.shop_id)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    chain.consinco.erp.simulator.update_prices([data["seq_produto"]], 1.2, 2)  # the market's pair only
    erp = chain.erp()
    the_sku = next(s for s in erp.skus() if s.id_sku == sku)
    erp.close()
    real = AdminClient.price_list_fixed_prices_add
    new: dict[str, str] = {}

    def racing(self, list_id, entries):
        out = real(self, list_id, entries)
        if not new and any(e["variantId"] == data["variant_id"] for e in entries):
            client = for_shop(shop.domain)  # the products flow makes the variant anew meanwhile
            option = {"optionName": "Embalagem", "name": sku}
            item = variant_input(True, cache_sku(the_sku), sku)["inventoryItem"]
            made = client.product_set({
                "title": "Recriado", "status": "ACTIVE",
                "productOptions": [{"name": "Embalagem", "values": [{"name": sku}]}],
                "variants": [{"optionValues": [option], "price": "0.00", "inventoryItem": item}],
            })  # fmt: skip
            client.close()
            variant = made.product.variant_by_sku(sku)
            new["variant_id"] = variant.id
            with session_scope() as session:
                was = bindings.get_many(session, shop.shop_id, "variant", [sku])[sku].data
                vdata = {**was, "product_id": made.product.id, "inventory_item_id": variant.inventory_item_id}
                bindings.upsert_many(
                    session, shop.shop_id, "variant", [BindingRow(sku, variant.id, None, vdata)]
                )
                catalog_ledger._reprice(session, shop.shop_id, [sku])
        return out

    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_add", racing)
    prices.run(shop.shop_id)
    assert new
    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_add", real)

    prices.run(shop.shop_id)  # the next ordinary pass
    assert new["variant_id"] in listed()

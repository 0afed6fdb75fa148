"""One bad SKU never blocks the others: Shopify's per-SKU refusals are shown on the unit's
message, everything else lands, and replay redoes the unit once the cause is fixed."""

from __future__ import annotations

from jobs import prices, stock
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop

from .chain import messages

GONE = "gid://shopify/ProductVariant/999999999"


def test_a_refused_variant_is_named_and_its_siblings_still_get_their_price(chain):
    shop = chain.install("recusa", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    product = next(
        p
        for p in {d["product_id"] for d in catalog.values()}
        if sum(d["product_id"] == p for d in catalog.values()) > 1
    )
    bad, good = [s for s, d in catalog.items() if d["product_id"] == product][:2]
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    result = prices.run(shop.shop_id)
    assert result.failed == [bad]
    assert result.variants_sent == len(catalog) - 1
    assert chain.variant(shop, catalog[good]["variant_id"])["price"] != "1.00"
    failed = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    assert len(failed) == 1 and failed[0].error_class == "rejected"
    assert bad in failed[0].error_text
    assert failed[0].error_detail["user_errors"][0]["sku"] == bad

    with session_scope() as session:  # the products flow repairs the binding; the operator replays
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, catalog[bad]["variant_id"], None, data)]
        )
    prices.replay(failed[0].id)
    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] != "1.00"
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_an_untracked_item_is_named_and_the_rest_of_its_batch_lands(chain):
    shop = chain.install("nao-rastreado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    erp = chain.erp()
    rows = {s.id_sku: row for row in erp.stock(None, 1) for s in row.skus}
    erp.close()
    controlled = [s for s in catalog if rows[s].controlled and not catalog[s]["weighed"]]
    bad, good = controlled[0], controlled[1]
    client = for_shop(shop.domain)
    client.variants_bulk_update(
        catalog[bad]["product_id"], [{"id": catalog[bad]["variant_id"], "inventoryItem": {"tracked": False}}]
    )
    client.close()
    result = stock.run(shop.shop_id)
    assert result.failed == [bad]
    assert chain.level(shop, catalog[good]["inventory_item_id"], 1) == int(
        next(s for s in erp_skus(chain, good)).available_ecommerce
    )
    failed = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    assert len(failed) == 1 and bad in failed[0].error_text and failed[0].error_class == "rejected"


def erp_skus(chain, sku):
    erp = chain.erp()
    try:
        return [s for row in erp.stock(None, 1) for s in row.skus if s.id_sku == sku]
    finally:
        erp.close()

"""One bad SKU never blocks the others: Shopify's per-SKU refusals are shown on the unit's
message, everything else lands, and replay redoes the unit once the cause is fixed."""

from __future__ import annotations

from decimal import Decimal

from jobs import prices, stock
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages
from .test_price_lists import _beyond_the_overlap
from .test_prices_flow import _stock_reads_from_its_watermark

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


def _rebind(shop, sku, variant_id, data) -> None:
    """The "variant" binding of `sku` pointed at `variant_id` (GONE: Shopify refuses its price)."""
    plain = {k: v for k, v in data.items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(sku, variant_id, None, plain)])


def test_a_sale_status_flip_refused_once_still_zeroes_the_stock_when_it_lands(chain, monkeypatch):
    """statusVenda A -> I, and Shopify refuses that SKU's price once. Shopify still holds it for
    sale, and so does the "price" binding: when the price lands next pass (the ERP row behind the
    watermark) the flip is seen then, so the stock flow is asked to zero its level."""
    _beyond_the_overlap(monkeypatch)
    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("flip-recusado", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d) for s, d in catalog.items() if (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    qtd = int(Decimal(data["qtd_embalagem"]))
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": qtd}
    erp_update(chain, t.mrl_prodempseg, where, statusvenda="I")
    _rebind(shop, sku, GONE, data)
    assert prices.run(shop.shop_id).failed == [sku]  # refused once
    with session_scope() as session:
        assert bindings.get_many(session, shop.shop_id, "price", [sku])[sku].data["sale_active"] is True
    _rebind(shop, sku, data["variant_id"], data)  # the catalog flow binds it again
    prices.run(shop.shop_id)  # due again: lands now
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0, sku


def test_a_real_price_refused_once_sells_again_and_closes_its_no_price_message_when_it_lands(
    chain, monkeypatch
):
    """PRECOVALIDNORMAL 0: off sale, and a "no price" message fails. A real price comes back but
    Shopify refuses it once; when it lands next pass the SKU is for sale again (the stock flow
    asked for its level) and its "no price" message is done."""
    _beyond_the_overlap(monkeypatch)
    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("sem-preco-recusa", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    sku, data = next(
        (s, d)
        for s, d in catalog.items()
        if Decimal(d["qtd_embalagem"]) == 1 and (chain.level(shop, d["inventory_item_id"], 1) or 0) > 0
    )
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=0, statusvenda="A")
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=12.34, precovalidpromoc=0)
    _rebind(shop, sku, GONE, data)
    assert prices.run(shop.shop_id).failed == [sku]  # refused once
    _rebind(shop, sku, data["variant_id"], data)
    prices.run(shop.shop_id)
    assert Decimal(str(chain.variant(shop, data["variant_id"])["price"])) == Decimal("12.34")
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) > 0, sku
    unit = f"price:{data['seq_produto']}:{sku}"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    assert said.status == MessageStatus.DONE.value, said.error_text


def test_a_first_price_refused_keeps_the_variant_off_sale_until_it_lands(chain):
    """A new variant (R$ 0.00 in Shopify) whose first price Shopify refuses is still unpriced:
    the stock flow holds it at 0 until the price lands."""
    shop = chain.install("primeiro-recusado", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    sku, data = next(iter(catalog.items()))
    _rebind(shop, sku, GONE, data)
    assert prices.run(shop.shop_id).failed == [sku]
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == 0, sku
    _rebind(shop, sku, data["variant_id"], data)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) > 0, sku

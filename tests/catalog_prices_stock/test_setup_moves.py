"""The setup under the flows moves after the first load: the store link to another company or
segment (and back), the ERP connection to another ERP. Each flow's next pass reads what it must
whole (ledger.setup_moves): no price, policy or level of the old setup stays in Shopify."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from erp.client import ErpClient
from jobs import prices, stock
from jobs.price_map import erp_today
from ledger import bindings, setup_moves
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import ErpConnection
from sandbox.consinco import tables as t
from sandbox.consinco.runner import serve_in_thread as consinco_in_thread
from settings import get_settings

from .chain import ERP_PASSWORD, ERP_USER, erp_update


def erp_prices(url_or_chain, company: int, segment: int) -> dict:
    erp = (
        url_or_chain.erp()
        if hasattr(url_or_chain, "erp")
        else ErpClient(url_or_chain, ERP_USER, ERP_PASSWORD)
    )
    try:
        return {i.id_sku: i for i in erp.price_items(None, company, segment)}
    finally:
        erp.close()


def shown(chain, shop, variant_id) -> Decimal:
    return Decimal(str(chain.variant(shop, variant_id)["price"]))


def no_promotions(store) -> None:
    with store.write() as (conn, _now):
        conn.execute(
            t.mrl_prodempseg.update().values(precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
        )


def beyond_the_overlap(monkeypatch, module) -> None:
    """As in production once more than the reads' overlap (minutes) passed between the passes."""
    real = module.erp_for_shop
    monkeypatch.setattr(
        module, "erp_for_shop", lambda shop_id, **o: real(shop_id, **{"overlap": timedelta(0), **o})
    )


def today():
    return erp_today(get_settings().erp_timezone)


def test_a_link_moved_to_another_segment_and_back_sells_at_the_first_segments_prices_again(
    chain, monkeypatch
):
    """1 -> 2 -> 1 with no ERP price changed: segment 1's watermark was past every row, so its
    pass read nothing and segment 2's prices stayed on sale."""
    beyond_the_overlap(monkeypatch, prices)
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("volta", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    seg1, seg2 = erp_prices(chain, 1, 1), erp_prices(chain, 1, 2)
    differ = [s for s in catalog if s in seg1 and s in seg2 and seg1[s].normal != seg2[s].normal]
    assert differ, "the sandbox chain has segment-specific prices"
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=today())
    assert {s: shown(chain, shop, catalog[s]["variant_id"]) for s in differ} == {
        s: seg2[s].normal for s in differ
    }
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 1)
    prices.run(shop.shop_id, today=today())
    assert {s: shown(chain, shop, catalog[s]["variant_id"]) for s in differ} == {
        s: seg1[s].normal for s in differ
    }


def test_a_link_moved_to_a_segment_without_the_products_price_takes_it_off_sale(chain):
    """Segment 2 has no price record for one product: its SKU has no price in the store now, not
    segment 1's price for sale."""
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("sem-linha", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    sku, data = next(iter(sorted(catalog.items())))
    with chain.consinco.erp.store.write() as (conn, _now):
        conn.execute(t.mrl_prodempseg.delete().where(
            t.mrl_prodempseg.c.nroempresa == 1, t.mrl_prodempseg.c.nrosegmento == 2,
            t.mrl_prodempseg.c.seqproduto == data["seq_produto"]))  # fmt: skip
    assert sku not in erp_prices(chain, 1, 2)
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=today())
    with session_scope() as session:
        price = bindings.get_many(session, shop.shop_id, bindings.PRICE_KIND, [sku])[sku]
        assert (price.data or {}).get("sale_active") is False, price.data
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    others = [s for s in catalog if s != sku and catalog[s]["seq_produto"] != data["seq_produto"]]
    with session_scope() as session:
        kept = bindings.get_many(session, shop.shop_id, bindings.PRICE_KIND, others)
    assert all((b.data or {}).get("normal") != "0" for b in kept.values())  # only that product went


def test_the_inventory_policy_follows_the_new_linked_company(chain, monkeypatch):
    """The store sells as company 2 now, no ERP stock row changed: company 2's stock control
    decides each SKU's inventoryPolicy, not company 1's any more."""
    beyond_the_overlap(monkeypatch, stock)
    shop = chain.install("politica", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    _, data = next(iter(sorted(catalog.items())))
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 1}, indcontrolaestoqueecomm="S")
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 2}, indcontrolaestoqueecomm="S")
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 2, "seqproduto": data["seq_produto"]},
               indcontrolaestoqueecomm="N")  # fmt: skip
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"  # company 1 decides
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 2, 1)
    stock.run(shop.shop_id)
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE"


def test_prices_come_from_the_new_erp_after_the_connection_moves(chain, tmp_path, monkeypatch):
    """Homologation -> production after the first load: production's prices are read whole, not
    from homologation's change times (before which production changed them all)."""
    beyond_the_overlap(monkeypatch, prices)
    production = consinco_in_thread(
        port=0, db=str(tmp_path / "prod.db"), skus=16, companies=4, segments=2, seed=8
    )
    try:
        for store in (chain.consinco.erp.store, production.erp.store):
            no_promotions(store)
        shop = chain.install("homolog", 1, 1, [1])
        catalog = chain.load_catalog(shop)
        prices.run(shop.shop_id, today=today())
        wanted = erp_prices(production.url, 1, 1)
        with session_scope() as session:  # what PUT /api/setup/erp-connection does with a new address
            row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == shop.shop_id)).one()
            row.base_url = production.url
            setup_moves.erp_moved(session, row)
        prices.run(shop.shop_id, today=today())
        wrong = {
            sku: (shown(chain, shop, data["variant_id"]), wanted[sku].normal)
            for sku, data in catalog.items()
            if sku in wanted and shown(chain, shop, data["variant_id"]) != wanted[sku].normal
        }
        assert wrong == {}
    finally:
        production.stop()

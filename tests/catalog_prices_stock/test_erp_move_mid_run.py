"""The ERP connection moves to another ERP while a prices pass of the old one is running: the pass
must not re-create the watermark erp_moved just forgot at the old ERP's read time (the new ERP
would be read only from there and its prices never reach Shopify): it ends transient, writing no
cursor (ledger.fence.check_erp), and the next pass reads the new ERP whole."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import prices
from ledger import setup_moves, watermarks
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import ErpConnection
from sandbox.consinco.runner import serve_in_thread as consinco_in_thread
from tests.catalog_prices_stock.test_setup_moves import (
    beyond_the_overlap,
    erp_prices,
    no_promotions,
    shown,
    today,
)


def test_erp_moved_while_a_prices_pass_reads_the_old_erp_still_reads_the_new_one_whole(
    chain, tmp_path, monkeypatch
):
    beyond_the_overlap(monkeypatch, prices)
    production = consinco_in_thread(
        port=0, db=str(tmp_path / "prod.db"), skus=16, companies=4, segments=2, seed=8
    )
    try:
        for store in (chain.consinco.erp.store, production.erp.store):
            no_promotions(store)
        shop = chain.install("corrida", 1, 1, [1])
        catalog = chain.load_catalog(shop)
        prices.run(shop.shop_id, today=today())  # first load from homologation

        real = prices.erp_for_shop
        moved = []

        def erp_for_shop(shop_id, **options):
            client = real(shop_id, **options)
            read = client.price_items

            def price_items(*args, **kwargs):
                result = read(*args, **kwargs)
                if not moved:  # the merchant saves production's address while this pass reads
                    with session_scope() as session:
                        row = session.scalars(
                            select(ErpConnection).where(ErpConnection.shop_id == shop_id)
                        ).one()
                        row.base_url = production.url
                        setup_moves.erp_moved(session, row)
                    moved.append(True)
                return result

            client.price_items = price_items
            return client

        monkeypatch.setattr(prices, "erp_for_shop", erp_for_shop)
        with pytest.raises(Transient) as stopped:  # the pass that was running with the old ERP
            prices.run(shop.shop_id, today=today())
        assert moved
        assert stopped.value.words[0] == "erp_moved_during_run"
        with session_scope() as session:
            state = watermarks.read(session, shop.shop_id, "prices", "1:1")
        monkeypatch.setattr(prices, "erp_for_shop", real)
        prices.run(shop.shop_id, today=today())  # the first pass that knows the new ERP
        wanted = erp_prices(production.url, 1, 1)
        wrong = {
            sku: (str(shown(chain, shop, data["variant_id"])), str(wanted[sku].normal))
            for sku, data in catalog.items()
            if sku in wanted and shown(chain, shop, data["variant_id"]) != wanted[sku].normal
        }
        assert state.last_changed_at is None and wrong == {}, (state, wrong)
    finally:
        production.stop()

"""A promotion whose end date passes while the ERP is unreachable (a night's maintenance window): the
app knows the end date already (the price binding's `recheck_on`), yet kept the promotional price on
sale in Shopify for as long as the ERP stayed down. The prices due by date are sent all the same."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from jobs import prices
from jobs.price_map import erp_today
from ledger.errors import Transient
from sandbox.consinco import tables as t
from settings import get_settings
from tests.catalog_prices_stock.chain import erp_update
from tests.catalog_prices_stock.test_prices_flow import erp_prices, shown


def test_a_promotion_ended_by_date_during_an_erp_outage_is_ended_in_shopify(chain):
    shop = chain.install("promo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(
        chain, t.mrl_prodempseg, {"nroempresa": 1}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None
    )
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    item = erp_prices(chain, 1, 1)[sku]
    key = (1, 1, item.seq_produto, int(item.qtd_embalagem))
    chain.consinco.erp.simulator.set_promotion(key, 0.2, days=3)  # starts today, ends in 3 days
    promo = erp_prices(chain, 1, 1)[sku]
    prices.run(shop.shop_id, today=today)
    assert shown(chain, shop, data["variant_id"]) == (promo.promotional, promo.normal)

    chain.consinco.erp.faults.set(down_for=3600)  # the ERP's maintenance window, past the end date
    try:
        with pytest.raises(Transient):
            prices.run(shop.shop_id, today=today + timedelta(days=4))
    finally:
        chain.consinco.erp.faults.clear()
    # the end date is known to the app: the promotion must not stay on sale for the whole outage
    assert shown(chain, shop, data["variant_id"]) == (promo.normal, None)

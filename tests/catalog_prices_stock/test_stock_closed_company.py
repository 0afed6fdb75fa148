"""A company mapped to a location that the ERP marks inactive (a store closed): never skipped
silently. Its levels are set to 0 and a failed message names it, until it is active again."""

from __future__ import annotations

from jobs import stock
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from shopify_app.api_explain import KNOWN_CODES

from .chain import erp_update, messages
from .test_stock_flow import _erp_level, erp_stock, expected, pick


def test_a_mapped_company_the_erp_deactivates_is_zeroed_and_named_until_it_is_active_again(chain):
    shop = chain.install("loja-fechada", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2, minimum=3)
    item = data["inventory_item_id"]
    assert chain.level(shop, item, 2) >= 3
    kept = chain.level(shop, item, 1)
    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="I")
    run = stock.run(shop.shop_id)
    assert run.closed == [2] and 2 not in run.companies and run.vacated > 0
    assert chain.level(shop, item, 2) == 0  # a closed store sells nothing
    assert chain.level(shop, item, 1) == kept  # the open store is untouched
    [shown] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:2:inactive"]
    assert shown.status == MessageStatus.FAILED.value
    assert (shown.error_detail or {}).get("code") == "COMPANY_INACTIVE" and "COMPANY_INACTIVE" in KNOWN_CODES
    assert "ERP company 2 is inactive" in shown.error_text and shop.locations[2] in shown.error_text
    again = stock.run(shop.shop_id)
    assert again.levels_sent == 0 and again.vacated == 0 and chain.level(shop, item, 2) == 0

    erp_update(chain, t.max_empresa, {"nroempresa": 2}, status="A")
    _erp_level(chain, 2, data["seq_produto"], 7)
    reopened = stock.run(shop.shop_id)
    assert reopened.closed == [] and 2 in reopened.companies
    row, s = erp_stock(chain, 2)[sku]
    assert chain.level(shop, item, 2) == expected(row, s) == 7  # every level written there again
    [shown] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:2:inactive"]
    assert shown.status == MessageStatus.DONE.value

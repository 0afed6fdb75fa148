"""The reconciliation's stock check computes what the stock flow would set: the ERP's figure less
the orders pending (sold in Shopify, not in the ERP yet). An order reaching the ERP while the check
reads (the orders job's POST: the ERP reserves it, its message closes) is no drift. Taken after the
ERP rows, the pending orders would miss it (the rows read before the reservation, the message closed
since: in neither, Shopify one sale lower than "expected"); taken before them alone (the check did
that), it counts twice when the reservation is in the rows (a false drift of 2). The check takes
the orders pending before the ERP read and again after it; for an order that closed in between,
Shopify's level is in step with or without it."""

from __future__ import annotations

from typing import Any

from jobs import reconcile, stock
from shopify_app.admin_api import for_shop

from .test_stock_flow import add_pending_order, pick
from .test_stock_pending_race import _order_reaches_erp


def _sold_in_shopify(chain, shop) -> tuple[str, dict[str, Any]]:
    """Levels set by the stock flow; then 2 of a SKU sold in Shopify (its level lowered) and its
    orders message open (the order not in the ERP yet)."""
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale in Shopify
    add_pending_order(shop, 9401, 1, [{"sku": sku, "quantity": 2}])
    return sku, data


class _Taken(list):
    """The rows of a read taken whole, as the read hands them over (none it could not read)."""

    keep_malformed = False
    malformed: list = []


def _stock_check(
    chain, shop, *, reaches_erp: str | None = None, seq: int = 0, during_read: Any = None
) -> dict[str, Any]:
    """The report's stock section for company 1; `reaches_erp` "before_rows" or "after_rows": the
    order reaches the ERP during the check's ERP read, before or after its rows are taken;
    `during_read`: called once the rows are taken (a big company's read pages for minutes)."""
    erp = chain.erp()
    read = erp.stock

    def stock_read(since, company):
        if reaches_erp == "before_rows":
            _order_reaches_erp(chain, seq, 9401, 2)
        rows = _Taken(read(since, company))
        if reaches_erp == "after_rows":
            _order_reaches_erp(chain, seq, 9401, 2)
        if during_read is not None:
            during_read()
        return rows

    erp.stock = stock_read
    client = for_shop(shop.domain)
    try:
        [location] = reconcile._stock(shop.shop_id, client, erp, 1000)["locations"]
    finally:
        client.close()
        erp.close()
    return location


def test_an_order_pending_is_no_stock_drift(chain):
    shop = chain.install("concilia-pendente", 1, 1, [1])
    _sold_in_shopify(chain, shop)
    location = _stock_check(chain, shop)
    assert location["checked"] > 0 and location["differ"] == [], location


def test_an_order_reaching_the_erp_after_the_rows_are_read_is_no_stock_drift(chain):
    """The ERP's rows read before the reservation, the message closed before the check would read
    the pending orders: the order is in the snapshot taken before the ERP read."""
    shop = chain.install("concilia-depois", 1, 1, [1])
    sku, data = _sold_in_shopify(chain, shop)
    location = _stock_check(chain, shop, reaches_erp="after_rows", seq=data["seq_produto"])
    assert sku not in {row["sku"] for row in location["differ"]}, location["differ"]
    assert location["differ_count"] == 0, location


def test_an_order_reaching_the_erp_before_the_rows_are_read_is_not_counted_twice(chain):
    """The ERP's rows hold the reservation, the snapshot before the read still has the order as
    pending: subtracting it again would be a false drift of 2."""
    shop = chain.install("concilia-antes", 1, 1, [1])
    sku, data = _sold_in_shopify(chain, shop)
    location = _stock_check(chain, shop, reaches_erp="before_rows", seq=data["seq_produto"])
    assert sku not in {row["sku"] for row in location["differ"]}, location["differ"]
    assert location["differ_count"] == 0, location

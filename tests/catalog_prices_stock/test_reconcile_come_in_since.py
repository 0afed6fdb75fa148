"""The reconciliation's stock check took the orders pending before the ERP read and after it: an
order (or an edit adding units) that came in after the first snapshot (or whose import had written
no lines yet at it), reached the ERP after its SKU's row was read and closed its message before the
second snapshot was in neither: no reservation in the rows read, no pending order subtracting it,
Shopify already lower, so "stock differs" by its units though Shopify was right. The stock flow
counts such orders (stock_pending.pending_since, "come in since"); so does the check now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from jobs import stock
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, utcnow

from .test_reconcile_stock_pending_race import _stock_check
from .test_stock_flow import erp_stock, expected, pick
from .test_stock_pending_race import _order_reaches_erp, apply_edit_adding_three


def _check(chain, shop, during_read=None) -> dict[str, Any]:
    """The report's stock section for company 1, `during_read` run once the ERP rows are taken."""
    return _stock_check(chain, shop, during_read=during_read)


def _setup(chain, name: str):
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    return shop, sku, data


def _sale_imported_and_posted(chain, shop, sku, data, order_id: int, *, begun_before: bool = False):
    """2 sold in Shopify (available -2); the orders job writes its lines, POSTs (the ERP reserves 2)
    and closes the message."""
    item, seq = data["inventory_item_id"], data["seq_produto"]

    def sale() -> None:
        chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)
        request = {"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 2}], "sold_at": utcnow().isoformat()}
        with session_scope() as session:
            if begun_before:
                unit = f"order:{order_id}"
                message = session.scalars(select(Message).where(Message.unit_key == unit)).one()
                message.request_payload = request
            else:
                trace.begin(session, shop.shop_id, "orders", f"order:{order_id}", SHOPIFY_TO_ERP,
                            shopify_id=f"gid://shopify/Order/{order_id}", request=request)  # fmt: skip
        _order_reaches_erp(chain, seq, order_id, 2)

    return sale


def _no_false_drift(chain, shop, sku, data, location) -> None:
    rows = {r["sku"]: r for r in location["differ"]}
    assert sku not in rows, f"false 'stock differs': {rows[sku]}"
    item = data["inventory_item_id"]
    level = chain.level(shop, item, 1)
    row, s = erp_stock(chain, 1)[sku]
    assert level == expected(row, s)  # Shopify is right: the ERP's figure now
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == level  # and the stock flow leaves it so


def test_a_sale_imported_and_posted_during_the_erp_read_is_no_drift(chain) -> None:
    shop, sku, data = _setup(chain, "rec-since-new")
    location = _check(chain, shop, _sale_imported_and_posted(chain, shop, sku, data, 9501))
    _no_false_drift(chain, shop, sku, data, location)


def test_an_import_begun_before_the_check_without_its_lines_is_no_drift(chain) -> None:
    """jobs.orders begins its message with no lines (it reads the order first) before the check's
    first snapshot; it writes them, POSTs and closes during the ERP read."""
    shop, sku, data = _setup(chain, "rec-since-begun")
    with session_scope() as session:
        trace.begin(session, shop.shop_id, "orders", "order:9502", SHOPIFY_TO_ERP,
                    shopify_id="gid://shopify/Order/9502")  # fmt: skip
    sale = _sale_imported_and_posted(chain, shop, sku, data, 9502, begun_before=True)
    _no_false_drift(chain, shop, sku, data, _check(chain, shop, sale))


def test_an_edit_adding_units_applied_during_the_erp_read_is_no_drift(chain) -> None:
    shop, sku, data = _setup(chain, "rec-since-edit")
    order = "gid://shopify/Order/9503"
    with session_scope() as session:  # the order, in the ERP for two hours (reserved there)
        message = trace.begin(session, shop.shop_id, "orders", "order:9503", SHOPIFY_TO_ERP, shopify_id=order,
                              request={"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 1}],
                                       "sold_at": (utcnow() - timedelta(hours=2)).isoformat()})  # fmt: skip
        trace.succeed(session, message)

    def edit_applied() -> None:
        apply_edit_adding_three(chain, shop, data, sku, order, "edit:9503")

    _no_false_drift(chain, shop, sku, data, _check(chain, shop, edit_applied))

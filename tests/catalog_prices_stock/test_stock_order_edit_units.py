"""Units a person adds in Shopify to an order already in the ERP (orders/edited, flow order_edits)
are sold in Shopify at once and reserved by the ERP only when the edit reaches it: while its
message is open they are held back like an order not posted yet, pass after pass (not only by the
first write's guard against drops not explained); once it closes, its products are computed again
(jobs.stock_pending.edit_payloads, flag_order_changes)."""

from __future__ import annotations

from datetime import timedelta

from jobs import stock
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import utcnow
from tests.catalog_prices_stock.test_stock_flow import erp_stock, expected, pick

ORDER = "gid://shopify/Order/9001"


def _order_in_the_erp(shop, sku: str) -> None:
    """The order, posted to the ERP two hours ago (its message done)."""
    with session_scope() as session:
        message = trace.begin(session, shop.shop_id, "orders", "order:9001", SHOPIFY_TO_ERP, shopify_id=ORDER,
                              request={"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 1}],
                                       "sold_at": (utcnow() - timedelta(hours=2)).isoformat()})  # fmt: skip
        trace.succeed(session, message)


def _edit_waiting(shop, sku: str) -> int:
    """The person's edit, 1 -> 4 units, read from both sides and waiting to reach the ERP (as
    jobs.order_edits.to_erp keeps its request: the ERP's quantity and Shopify's); its message id."""
    change = {"kind": "qty", "sku": sku, "before": "1", "after": "4", "value_before": None,
              "value_after": None, "note": None}  # fmt: skip
    with session_scope() as session:
        lines = [{"sku": sku, "quantity": 4}]
        request = {"nro_pedvenda": 55, "lines": lines, "changes": [change], "freight": "0"}
        key = "edit:777"
        message = trace.begin(session, shop.shop_id, "order_edits", key, SHOPIFY_TO_ERP, shopify_id=ORDER,
                              request=request)  # fmt: skip
        return message.id


def test_units_an_edit_adds_stay_held_until_the_edit_reaches_the_erp(chain) -> None:
    shop = chain.install("edit-units", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    _order_in_the_erp(shop, sku)
    level = chain.level(shop, item, 1)
    chain.set_level(shop, item, 1, level - 3)  # Shopify commits the 3 units the edit adds
    edit = _edit_waiting(shop, sku)

    for received in (5, 1):  # goods received in the ERP twice; the edit still not there
        chain.consinco.erp.simulator.move_stock(1, seq, received)
        stock.run(shop.shop_id)
        row, s = erp_stock(chain, 1)[sku]
        assert chain.level(shop, item, 1) == expected(row, s) - 3, "the edit's units offered again"

    # The edit reaches the ERP, which reserves the 3 units: counted once, by the ERP.
    chain.consinco.erp.simulator.move_stock(1, seq, -3)
    with session_scope() as session:
        trace.succeed(session, trace.get_message(session, edit))
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s)


def test_an_edit_closed_without_reaching_the_erp_gives_its_units_back(chain) -> None:
    """The person undid the edit in Shopify (its units back on sale there) and closed its flag as
    handled: the next pass computes the product again, without them."""
    shop = chain.install("edit-undone", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    _order_in_the_erp(shop, sku)
    level = chain.level(shop, item, 1)
    chain.set_level(shop, item, 1, level - 3)
    edit = _edit_waiting(shop, sku)
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == level - 3

    chain.set_level(shop, item, 1, level)  # undone in Shopify: the units back
    with session_scope() as session:
        trace.skip(session, trace.get_message(session, edit), "undone in Shopify")
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s) == level


def test_a_weighed_lines_added_kilograms_count_in_shopify_units() -> None:
    """A change counts in the ERP's quantity (kilograms of a weighed line): with the edit's lines
    (Shopify units beside the ERP's), it is held in Shopify's units, as an order's payload is."""
    from decimal import Decimal

    from jobs.stock_pending import added_units

    payload = {
        "lines": [
            {"sku": "P9E1", "quantity": 6, "erp_qty": "3.0"},
            {"sku": "P1E1", "quantity": 2, "erp_qty": "2"},
        ],
        "changes": [
            {"kind": "qty", "sku": "P9E1", "before": "1.0", "after": "3.0"},  # 2 kg more: 4 units of 0.5 kg
            {"kind": "qty", "sku": "P1E1", "before": "1", "after": "2"},
            {"kind": "removed", "sku": "P5E1", "before": "1", "after": "0"},
        ],
    }
    assert added_units(payload) == {"P9E1": Decimal(4), "P1E1": Decimal(1)}
    held_back = {"changes": payload["changes"]}  # a held edit keeps no lines: as the changes count
    assert added_units(held_back) == {"P9E1": Decimal(2), "P1E1": Decimal(1)}

"""A sale taken in Shopify, before its order reaches the ERP, lowers every level selling the same
units at once: the product's other packagings, the other stores on the same ERP. An order
cancelled in Shopify before the ERP had it gives its units back, whether Shopify restocked it or
not. The ERP row of the product does not move meanwhile (the order waits for a boleto, a mapping,
or just the minutes before the POST)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from jobs import stock
from jobs.stock_pending import CLOSED_OVERLAP, SKIP_NOTED_KIND
from ledger import handled, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Binding, Message, utcnow

from .test_stock_flow import _age_erp_row, add_pending_order, erp_stock, expected, pick


def test_a_sale_in_store_a_lowers_store_b_without_waiting_for_the_erp_row_to_move(chain):
    """Stores A and B sell company 1's units. A sells 3 (its order not in the ERP yet): B must not
    offer those 3 units again. B's pass reads no ERP row (none moved) and learns of the order from
    its orders message, as A's does."""
    a = chain.install("loja-a", 1, 1, [1])
    b = chain.install("loja-b", 1, 2, [1])
    cat_a = chain.load_catalog(a, priced=True)
    cat_b = chain.load_catalog(b, priced=True)
    stock.run(a.shop_id)
    stock.run(b.shop_id)
    sku, data_a = pick(cat_a, chain, a, 1, minimum=5)
    _age_erp_row(chain, 1, data_a["seq_produto"])  # the row does not move again
    item_a, item_b = data_a["inventory_item_id"], cat_b[sku]["inventory_item_id"]
    chain.set_level(a, item_a, 1, chain.level(a, item_a, 1) - 3)  # the sale in store A
    add_pending_order(a, 9211, 1, [{"sku": sku, "quantity": 3}])
    stock.run(a.shop_id)
    stock.run(b.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    want = expected(row, s, pending=Decimal(3))
    assert (chain.level(a, item_a, 1), chain.level(b, item_b, 1)) == (want, want)


def test_a_box_sold_lowers_the_single_unit_packaging_of_the_same_product(chain):
    """A box of N (P{seq}E{N}) sold in Shopify lowers the box's own level; the single-unit variant
    of the same product shares those base units, so its level drops by N in the same pass."""
    shop = chain.install("caixa", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    rows = erp_stock(chain, 1)
    by_seq: dict[int, dict[Decimal, str]] = defaultdict(dict)
    for sku, data in catalog.items():
        if not data["weighed"]:
            by_seq[data["seq_produto"]][Decimal(data["qtd_embalagem"])] = sku
    found = None
    for seq, packs in by_seq.items():
        if Decimal(1) in packs and len(packs) > 1:
            box_qtd = max(packs)
            row, s = rows[packs[Decimal(1)]]
            if row.controlled and expected(row, s) >= 2 * box_qtd:
                found = (seq, packs[Decimal(1)], packs[box_qtd], box_qtd)
                break
    assert found, "no product with a unit and a box packaging in stock"
    seq, unit_sku, box_sku, box_qtd = found
    _age_erp_row(chain, 1, seq)
    box_item, unit_item = catalog[box_sku]["inventory_item_id"], catalog[unit_sku]["inventory_item_id"]
    box_level = chain.level(shop, box_item, 1)
    chain.set_level(shop, box_item, 1, box_level - 1)  # one box sold in Shopify
    add_pending_order(shop, 9311, 1, [{"sku": box_sku, "quantity": 1}])
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[unit_sku]
    assert chain.level(shop, unit_item, 1) == expected(row, s, pending=box_qtd)
    assert chain.level(shop, box_item, 1) == box_level - 1  # the sale itself is not given back


def _cancelled_in_shopify(number: int) -> None:
    """What the orders/cancelled webhook does to an order not in the ERP yet: its message skipped."""
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == f"order:{number}")).one()
        trace.skip(session, message, "cancelled in Shopify before it reached the ERP")


def test_an_order_cancelled_in_shopify_without_restock_before_the_erp_had_it_is_given_back(chain):
    """A sale of 2 (the order pending), a pass counting it, then the order cancelled in Shopify
    without restocking (the merchant's choice in the cancel dialog): Shopify keeps the 2 units off
    "available", the ERP never had the order, so the level goes back to the ERP's figure."""
    shop = chain.install("sem-estorno", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale
    add_pending_order(shop, 9321, 1, [{"sku": sku, "quantity": 2}])
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s, pending=Decimal(2))
    _cancelled_in_shopify(9321)
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == expected(row, s)


def test_an_order_taken_and_cancelled_in_shopify_between_two_passes_is_given_back(chain):
    """The same, with no pass while the order was pending: the recheck finds the target equal to
    the level last written, yet Shopify shows 2 less (the sale it never gave back). Shopify's
    level is read again: the skipped order explains the drop."""
    shop = chain.install("entre-passadas", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale
    add_pending_order(shop, 9331, 1, [{"sku": sku, "quantity": 2}])
    _cancelled_in_shopify(9331)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s)


def _sold_then_cancelled_in_shopify(chain, shop, number, minimum=6):
    """A sale of 2 taken in Shopify (its order pending) and cancelled there without restock, both
    before any pass; the pass after gives the units back. The SKU, its item, its ERP figure."""
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=minimum)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    row, s = erp_stock(chain, 1)[sku]
    figure = expected(row, s)
    chain.set_level(shop, item, 1, figure - 2)  # the sale
    add_pending_order(shop, number, 1, [{"sku": sku, "quantity": 2}])
    _cancelled_in_shopify(number)
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == figure  # given back once
    return sku, data, figure


def test_a_shopify_cancel_is_one_movement_a_sale_taken_after_it_is_not_given_back(chain):
    """The orders cursor is read back 10 minutes, so the passes of those minutes read the skipped
    message again. Noted again, the cancel would count its 2 units as fallen once more: a sale of 1
    taken since (its orders/create webhook not processed yet) would then look explained by it, and
    be given back. The cancel is one movement, noted once."""
    shop = chain.install("cancelado-uma-vez", 1, 1, [1])
    _sku, data, figure = _sold_then_cancelled_in_shopify(chain, shop, 9401)
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 1, figure - 1)  # a sale whose order the app does not know yet
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == figure - 1


def test_the_quiet_passes_after_a_shopify_cancel_was_handled_cost_no_call(chain, calls):
    """Once a pass gave the cancelled units back, the passes of the cursor's overlap that read the
    skipped message again only recheck it (free): no level is read from Shopify again."""
    shop = chain.install("cancelado-sem-custo", 1, 1, [1])
    _sold_then_cancelled_in_shopify(chain, shop, 9402)
    mark = calls.mark()
    stock.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert calls.since(mark) == []
    # Past the overlap, what remembers the skip was noted goes: no pass reads the message again.
    with session_scope() as session:
        gone = utcnow() - CLOSED_OVERLAP - timedelta(minutes=1)
        session.execute(update(Message).where(Message.unit_key == "order:9402").values(updated_at=gone))
        session.execute(update(Binding).where(Binding.kind == SKIP_NOTED_KIND).values(updated_at=gone))
    stock.run(shop.shop_id)
    with session_scope() as session:
        assert session.scalars(select(Binding).where(Binding.kind == SKIP_NOTED_KIND)).all() == []
    assert calls.since(mark) == []


def test_a_shopify_cancel_stored_without_its_company_moves_the_store_links_company_only(chain):
    """An order parked before the orders flow named its company (nro_empresa None), then cancelled
    in Shopify: its sale was at the store link's company (as `pending_payloads` counts it), so the
    other company's level is not taken as moved by it: a sale of 1 taken there meanwhile (order not
    known yet) is not given back."""
    shop = chain.install("cancelado-sem-empresa", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=6)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    _age_erp_row(chain, 2, data["seq_produto"])
    at_2 = chain.level(shop, item, 2)
    assert at_2 >= 3
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale, at the linked company
    add_pending_order(shop, 9403, None, [{"sku": sku, "quantity": 2}])
    _cancelled_in_shopify(9403)
    chain.set_level(shop, item, 2, at_2 - 1)  # a sale at company 2, its order not known yet
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s)
    assert chain.level(shop, item, 2) == at_2 - 1


def test_a_sale_at_a_pos_register_skipped_as_not_for_the_erp_is_not_given_back(chain):
    """A sale of 2 at a Shopify POS register lowers the level; its orders message is skipped as not
    for the ERP (handed over at the counter, its NFC-e issued there). The units are gone: unlike an
    order cancelled before the ERP had it, the pass must not offer them again."""
    shop = chain.install("venda-no-caixa", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    figure = chain.level(shop, item, 1)
    chain.set_level(shop, item, 1, figure - 2)  # the sale at the register
    add_pending_order(shop, 9501, 1, [{"sku": sku, "quantity": 2}])
    with session_scope() as session:  # what jobs.orders does with a POS sale
        message = session.scalars(select(Message).where(Message.unit_key == "order:9501")).one()
        trace.skip(session, message, "sold at the register (Shopify POS): not sent to the ERP")
        message.error_detail = {"not_for_erp": True}
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == figure - 2


def test_an_order_of_before_the_app_does_not_explain_a_new_drop(chain):
    """An orders/updated of an order the store took before the app was installed makes a message
    now, skipped as not for the ERP (jobs.order_kinds: before the app); its sale lowered the level
    long ago. Meanwhile a sale of 2 whose order is not known yet lowers the level, and the ERP
    receives stock (the target moves, the compare-and-swap is stale): that drop is kept out of the
    level, not explained by the old order (dated by its message) and its 2 units given back."""
    shop = chain.install("pedido-antigo", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    figure = chain.level(shop, item, 1)
    add_pending_order(shop, 9601, 1, [{"sku": sku, "quantity": 2}])
    with session_scope() as session:  # what jobs.orders does with an order of before the app
        message = session.scalars(select(Message).where(Message.unit_key == "order:9601")).one()
        trace.skip(session, message, "placed before the app was installed on this store")
        message.error_detail = {"not_for_erp": True, "before_install": True}
    chain.set_level(shop, item, 1, figure - 2)  # a sale whose order the app does not know yet
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 10)  # a receipt: the target moves
    target = expected(*erp_stock(chain, 1)[sku])
    assert target != figure
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == target - 2, (figure, target)


def test_an_order_entered_in_the_erp_by_hand_is_no_cancellation_a_later_sale_is_kept(chain):
    """A sale of 2 whose order the ERP refused; the merchant enters it in the ERP by hand (the ERP
    reserves the 2) and closes its message as handled. That is no order cancelled before the ERP
    had it: noted as one, its 2 units would explain a drop Shopify never made again, and a sale of 1
    taken since (its order not known yet) would be given back."""
    shop = chain.install("lancado-a-mao", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=6)
    item = data["inventory_item_id"]
    _age_erp_row(chain, 1, data["seq_produto"])
    figure = chain.level(shop, item, 1)
    chain.set_level(shop, item, 1, figure - 2)  # the sale
    add_pending_order(shop, 9502, 1, [{"sku": sku, "quantity": 2}])
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == figure - 2
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "order:9502")).one()
        trace.fail(session, message, Rejected("the ERP refused the order's taxes", system="erp"))
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], -2)  # entered by hand: reserved
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "order:9502")).one()
        handled.mark(session, message, by="staff", note="entered in the ERP by hand")
    chain.set_level(shop, item, 1, figure - 3)  # a sale of 1 whose order the app does not know yet
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 1) == figure - 3

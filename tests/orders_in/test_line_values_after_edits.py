"""Each ERP line carries exactly Shopify's current value for its line (priceAfterAllDiscounts
BeforeTaxesSet: after every discount, removed units left out), to the cent, after order edits
that cut a line and then discount it: a discount an edit adds after a cut is allocated by
Shopify on the current quantity only, so it must not be prorated again like the checkout's code
(that under-counted it and the shortfall re-priced the other lines)."""

from __future__ import annotations

from decimal import Decimal

from sandbox.shopify.checkout import mark_paid
from shopify_app.admin_api import for_shop, order_edit_discounts

CENT = Decimal("0.01")


def _shopify_lines(world, gid) -> tuple[dict, dict[str, Decimal]]:
    doc = world.order_doc(gid)
    out: dict[str, Decimal] = {}
    for line in doc["_lines"]:
        if line["currentQuantity"] > 0:
            value = Decimal(line["priceAfterAllDiscountsBeforeTaxesSet"]["shopMoney"]["amount"])
            out[line["sku"]] = out.get(line["sku"], Decimal(0)) + value
    return doc, out


def _erp_lines(world, nro) -> tuple[dict, dict[str, Decimal]]:
    order = world.chain.order(nro)
    out: dict[str, Decimal] = {}
    for item in order["itens"]:
        gross = Decimal(str(item["qtdPedida"])) * Decimal(str(item["vlrEmbInformado"]))
        value = (gross - Decimal(str(item.get("vlrEmbDesconto") or 0))).quantize(CENT)
        out[item["idSku"]] = out.get(item["idSku"], Decimal(0)) + value
    return order, out


def _set_quantity(world, gid, sku, quantity) -> None:
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(world.variants[sku])
    order_edit_discounts.set_quantity(client.executor, edit.calculated_order_id, line.id, quantity)
    client.order_edit_commit(edit.calculated_order_id)


def _discount_each(world, gid, sku, per_unit) -> None:
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(world.variants[sku])
    order_edit_discounts.add_line_item_discount(
        client.executor, edit.calculated_order_id, line.id, per_unit, "BRL", description="cortesia"
    )
    client.order_edit_commit(edit.calculated_order_id)


def _paid_and_imported(world, gid) -> None:
    """Pays the boleto order, imports it and checks every ERP line and the total against Shopify."""
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    order, erp = _erp_lines(world, link.nro_pedvenda)
    doc, shop = _shopify_lines(world, gid)
    assert Decimal(str(order["vlrTotalPedido"])) == Decimal(
        doc["currentTotalPriceSet"]["shopMoney"]["amount"]
    )
    assert erp == shop


def test_a_discount_added_after_a_cut_keeps_every_erp_line_at_shopifys_value(world) -> None:
    """Imported 3 + 2 with 10 % off; one unit of the first line removed (3 -> 2), then 1.00 off
    each unit left: the edit echo gives the ERP each line's Shopify value, the untouched line
    keeps its own."""
    a, b = world.sku(0), world.sku(1)
    gid = world.place([(a, 3), (b, 2)], discount_code="BEMVINDO10", discount_percent=10.0)
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    _set_quantity(world, gid, a, 2)
    world.drain()
    _discount_each(world, gid, a, Decimal("1.00"))
    world.drain()
    _, erp = _erp_lines(world, link.nro_pedvenda)
    _, shop = _shopify_lines(world, gid)
    assert erp == shop


def test_two_discounts_on_a_line_cut_before_payment(world) -> None:
    """7 + 3 with 10 % off, cut 7 -> 4, then 0.50 off each unit left, all before the boleto is
    paid: the import's lines are Shopify's, the code's share at 4 of 7 and the 0.50 on 4 units."""
    a, b = world.sku(0), world.sku(1)
    gid = world.place([(a, 7), (b, 3)], gateway="boleto", discount_code="BEMVINDO10", discount_percent=10.0)
    world.drain()
    _set_quantity(world, gid, a, 4)
    _discount_each(world, gid, a, Decimal("0.50"))
    world.drain()
    _paid_and_imported(world, gid)


def test_a_line_removed_a_line_cut_and_a_line_added_with_its_discount_before_payment(world) -> None:
    """3 + 3 with 15 % off; one edit removes the first line, cuts the second to 1 and adds 2 of a
    third with 0.37 off each: the import's lines are Shopify's."""
    a, b, c = world.sku(0), world.sku(1), world.sku(2)
    gid = world.place([(a, 3), (b, 3)], gateway="boleto", discount_code="SUPER15", discount_percent=15.0)
    world.drain()
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    calc = edit.calculated_order_id
    order_edit_discounts.set_quantity(client.executor, calc, edit.line_for_variant(world.variants[a]).id, 0)
    order_edit_discounts.set_quantity(client.executor, calc, edit.line_for_variant(world.variants[b]).id, 1)
    added = order_edit_discounts.add_variant(client.executor, calc, world.variants[c], 2, location_id=None)
    order_edit_discounts.add_line_item_discount(
        client.executor, calc, added.line_id, Decimal("0.37"), "BRL", description="x"
    )
    client.order_edit_commit(calc)
    world.drain()
    _paid_and_imported(world, gid)

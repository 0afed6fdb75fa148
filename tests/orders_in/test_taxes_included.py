"""A store that charges a tax inside its prices (Settings > Taxes, taxesIncluded): Shopify's
priceAfterAllDiscountsBeforeTaxesSet "doesn't include taxes", so gross less it is a line's discount
plus its tax. Each ERP line must carry its own discount and its tax-included value (the ERP
computes the taxes on the NF-e), never the tax as a discount nor another line's discount."""

from __future__ import annotations

from decimal import Decimal

from orders_in.test_line_values_after_edits import _discount_each, _erp_lines
from sandbox.shopify.checkout import mark_paid


def test_a_discount_on_one_line_stays_on_it_when_taxes_are_included(world) -> None:
    """2 + 1 at a 10 % tax inside the prices; an edit before payment takes 1.00 off each unit of
    the first line: the ERP's first line is worth its price less 2.00, the second its whole price."""
    a, b = world.sku(0), world.sku(1)
    gid = world.place([(a, 2), (b, 1)], gateway="boleto", tax_rate="0.1")
    world.drain()
    _discount_each(world, gid, a, Decimal("1.00"))
    doc = world.order_doc(gid)
    assert Decimal(doc["currentTotalTaxSet"]["shopMoney"]["amount"]) > 0
    price = {line["sku"]: Decimal(line["_unitPrice"]) for line in doc["_lines"]}
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    order, erp = _erp_lines(world, link.nro_pedvenda)
    assert erp == {a: price[a] * 2 - Decimal("2.00"), b: price[b]}
    total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(order["vlrTotalPedido"])) == total

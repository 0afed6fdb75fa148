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


def _code_on_three_lines(world) -> tuple[str, int]:
    lines = [(world.sku(0), 3), (world.sku(1), 1), (world.sku(2), 7)]
    gid = world.place(lines, discount_code="P15", discount_percent=15.0, tax_rate="0.1")
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    return gid, link.nro_pedvenda


def test_each_erp_line_carries_shopifys_own_share_of_an_order_code(world) -> None:
    """With the tax inside the prices, Shopify's current line values leave the tax out, and the code
    was split by the per-unit prices after all discounts (rounded per unit, then re-split): lines of
    3 x 38.63, 1 x 24.53 and 7 x 40.57 with 15 % off got 17.36 / 42.62 where Shopify gave 17.38 /
    42.60 (the total equal, so nothing said). The allocations are read apart for such orders."""
    gid, nro = _code_on_three_lines(world)
    shopify = {}
    for line in world.order_doc(gid)["_lines"]:
        gross = Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"]) * line["currentQuantity"]
        shares = line["discountAllocations"]
        code = sum(Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in shares)
        shopify[line["sku"]] = gross - code
    _, erp = _erp_lines(world, nro)
    assert erp == shopify


def test_a_line_the_erp_cuts_takes_its_own_share_and_the_nfe_stays_at_shopifys_total(world) -> None:
    """After the ERP cut the line whose share was off by cents, Shopify charged 282.14 and the ERP
    (its NF-e) served 282.12."""
    from orders_in.test_edits_after_picking import picked

    gid, nro = _code_on_three_lines(world)
    cut = world.sku(0)
    picked(world, nro, lambda item: 0 if item["idSku"] == cut else item["qtdPedida"])
    shopify = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(world.chain.order(nro)["vlrTotalAtendido"])) == shopify

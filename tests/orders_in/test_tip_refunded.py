"""A tip refunded before the ERP has the order, or before an edit or refund of goods reaches it: the
ERP order is checked against Shopify's current total less the tip its line charges NOW.

Shopify documents totalTipReceivedSet as "the sum of all tip amounts"; whether a tip refunded since
stays in it (as money received stays in totalReceivedSet, "before returns") or leaves it is not
said. The tip line is at 0 either way and Shopify's current total is without it: taking the total
as the tip still owed made the order look short by it, so the import did not post it and an edit
or refund after it was held (TOTAL_DIFFERS) while the ERP picked the goods the customer got back.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import order_edits, order_map
from jobs.inbox import WebhookEvent
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import TARGET, money_bag, raw_order, variants_for

TIP = Decimal("5.00")


def _tip_line(current: int) -> dict:
    return {
        "id": "gid://shopify/LineItem/90", "sku": None, "name": "Tip", "quantity": 1,
        "currentQuantity": current, "variant": None, "requiresShipping": False, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(TIP), "discountedUnitPriceAfterAllDiscountsSet": money_bag(TIP),
        "totalDiscountSet": money_bag(Decimal(0)), "discountAllocations": [],
    }  # fmt: skip


@pytest.mark.parametrize("tip_received", ["5.00", "0.00"], ids=["received", "follows"])
def test_a_refunded_tip_is_not_a_totals_mismatch(tip_received: str) -> None:
    """Goods 50 + freight 10 + tip 5, paid 65 by Pix; the tip refunded (its line at 0), so Shopify's
    current total is 60. The ERP order of 60 is exactly what Shopify charges: it maps (the import,
    and an edit or refund before picking, both run this check)."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    raw["lineItems"]["nodes"].append(_tip_line(current=0))
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("50.00"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("60.00"))
    raw["totalTipReceivedSet"] = money_bag(Decimal(tip_received))
    raw["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("65.00"))
    raw["transactions"].append({"id": "gid://shopify/OrderTransaction/10", "gateway": "Pix", "kind": "REFUND",
                                "status": "SUCCESS", "amountSet": money_bag(TIP)})  # fmt: skip
    read = parse_erp_order(raw)
    mapped = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
    assert (mapped.goods_total, mapped.erp_total) == (Decimal("50.00"), Decimal("60.00"))
    assert order_map.tips_now(read.order) == Decimal(0)


def test_a_tip_still_charged_is_still_taken_off() -> None:
    """The same order with its tip not refunded: Shopify charges 65, of which 5 is the tip."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    raw["lineItems"]["nodes"].append(_tip_line(current=1))
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("50.00"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("65.00"))
    raw["totalTipReceivedSet"] = money_bag(TIP)
    read = parse_erp_order(raw)
    assert order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2}).erp_total == Decimal("60.00")


# -- through the Shopify sandbox ------------------------------------------------------------------
def _refund(world, gid: str, quantities: dict[str, int]) -> dict:
    """The merchant refunds `quantities` (line id -> units) in the Shopify admin; the Refund."""
    from sandbox.shopify.resolvers.order_refunds import refund_order

    return refund_order(world.shopify.sandbox, world.name, gid, quantities)


def _lines(world, gid: str) -> dict[str | None, dict]:
    """The order's lines in the Shopify sandbox by SKU (the tip's: None)."""
    return {line["sku"]: line for line in world.order_doc(gid)["_lines"]}


def test_an_order_whose_tip_was_refunded_before_the_import_is_posted(world) -> None:
    """A Pix order with a tip of 5.00, the tip refunded before the app imports it: the ERP order is
    posted with the goods and freight Shopify still charges."""
    gid = world.place([(world.sku(0), 2), (world.sku(1), 1)], gateway="pix", shipping="SEDEX", tip="5.00")
    _refund(world, gid, {_lines(world, gid)[None]["id"]: 1})
    doc = world.order_doc(gid)
    assert (doc["totalTipReceivedSet"]["shopMoney"]["amount"], doc["displayFinancialStatus"]) == (
        "5.00",
        "PARTIALLY_REFUNDED",
    )
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    erp = world.chain.order(link.nro_pedvenda)
    assert Decimal(str(erp["vlrTotalPedido"])) == Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])


def test_a_refund_of_an_item_and_the_tip_before_picking_reaches_the_erp(world) -> None:
    """A Pix order with a tip of 5.00, imported (goods and freight). Before picking the customer
    returns one unit and gets the tip back in the same refund: the ERP order drops the unit and
    totals what Shopify charges now, instead of the refund being held as a totals mismatch."""
    gid = world.place([(world.sku(0), 2), (world.sku(1), 1)], gateway="pix", shipping="SEDEX", tip="5.00")
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    lines = _lines(world, gid)
    made = _refund(world, gid, {lines[world.sku(0)]["id"]: 1, lines[None]["id"]: 1})
    payload = {"id": int(made["id"].rsplit("/", 1)[-1]), "order_id": int(gid.rsplit("/", 1)[-1])}
    event = WebhookEvent(9891, "refunds/create", world.domain, "r-91", "re-91", "2026-10", None, payload)
    assert order_edits.on_refund(event) == "done", world.link(gid).needs_attention
    erp = world.chain.order(link.nro_pedvenda)
    assert {i["idSku"]: i["qtdPedida"] for i in erp["itens"]}[world.sku(0)] == 1
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(erp["vlrTotalPedido"])) == shopify_total
    assert world.link(gid).needs_attention is None, world.link(gid).needs_attention

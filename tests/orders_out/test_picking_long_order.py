"""ERP -> Shopify picking edits of an order longer than one page of the calculated order's lines
(orderEditBegin gives the first 250): a cut of a line past them is staged on that line, read from
the pages after, never refused nor staged on another line."""

from __future__ import annotations

import requests

from ledger.models import MessageStatus

from .conftest import World

LONG = 251  # lines of one SKU before the line cut: the cut one is the 252nd


def test_a_cut_of_a_line_past_the_250th_is_applied_to_that_line(world: World) -> None:
    # A Plus shop's bucket (20,000 points, 1,000/s): reading 252 lines costs ~1,500 points a read,
    # which a standard shop's 100/s makes ~20 s of the pacer's waiting; this test is about pages.
    tier = f"{world.shopify.url}/_sandbox/shops/{world.name}/tier"
    requests.post(tier, json={"tier": "plus"}, timeout=10).raise_for_status()
    bulk, cut_sku = world.plain(0), world.plain(1)
    order = world.linked_order([(bulk, 1)] * LONG + [(cut_sku, 3)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[cut_sku]): 1})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, (edit.error_text, edit.error_detail)
    lines = world.order_doc(order.gid)["_lines"]
    assert len(lines) == LONG + 1
    assert [line["currentQuantity"] for line in lines if line["sku"] == cut_sku] == [1]
    assert {line["currentQuantity"] for line in lines if line["sku"] == bulk} == {1}
    [change] = world.line_changes(order.gid)
    assert (change.sku, change.kind, change.qty_after, change.applied) == (cut_sku, "cut", 1, True)

"""ERP -> Shopify picking edits of a weighed item sold on two lines (two ERP lines of one SKU: a
deli item ordered twice, a unit a person added before picking): each ERP line's change lands on
its own Shopify line, with that line's units and discount."""

from __future__ import annotations

import copy

from erp.client import ErpClient
from ledger.models import MessageStatus

from .conftest import World


def _weighed_lines(world: World, nro: int, sku: str) -> list[int]:
    """The seqItems of the ERP order's lines of `sku`, in order."""
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    try:
        return sorted(line.seq_item for line in client.get_order(nro).lines if line.id_sku == sku)
    finally:
        client.close()


def test_a_weighed_second_line_cut_to_zero_cuts_that_line_not_the_first(world: World) -> None:
    """W x2 (line 1) and W x1 (line 3): the ERP weighs line 1 as ordered and cuts line 3 to zero.
    Shopify loses line 3's unit, line 1 keeps its 2 (the NF-e has its 2 kg); a replay sends nothing."""
    from jobs.order_edits import to_shopify

    w, a = world.weighed(), world.plain(0)
    order = world.linked_order([(w, 2), (a, 1), (w, 1)], gateway="cartao", capture="manual")
    first, second = [line["id"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == w]
    seq_first, seq_second = _weighed_lines(world, order.nro, w)
    world.erp.separate(order.nro, cuts={str(seq_second): 0}, weights={str(seq_first): 2.0})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    after = {line["id"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert (after[first], after[second]) == (2, 0), after
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot


def test_a_weighed_second_line_picked_lighter_is_discounted_on_that_line(world: World) -> None:
    """W x1 (line 1) and W x3 (line 3); line 3 is weighed at 1 kg: 2 kg's price off belongs to line
    3's three units (split to the cent), not to line 1's one unit, which Shopify refuses (a
    discount above the unit's price) and which held the invoice. Shopify's total follows the
    NF-e, the invoice captures it, and a replay of the edit sends nothing."""
    from jobs.order_edits import to_shopify

    w, a = world.weighed(), world.plain(0)
    order = world.linked_order([(w, 1), (a, 1), (w, 3)], gateway="cartao", capture="manual")
    first = next(line["id"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == w)
    seq_first, seq_second = _weighed_lines(world, order.nro, w)
    world.erp.separate(order.nro, weights={str(seq_first): 1.0, str(seq_second): 1.0})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    lines = world.order_doc(order.gid)["_lines"]
    assert next(line for line in lines if line["id"] == first)["currentQuantity"] == 1
    assert sum(line["currentQuantity"] for line in lines if line["sku"] == w) == 4  # 1 + 2 + the unit alone
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.current_total == nfe_total == after.paid


def test_a_second_line_of_a_weighed_sku_weighed_again_is_not_refused(world: World) -> None:
    """S1 weighs line 1 lighter ("Ajuste de peso" on its Shopify line) and line 3 as ordered; S2
    weighs line 3 lighter. Line 3 was never adjusted, but every line of the variant was looked at:
    line 1's discount refused the whole picking (WEIGHT_ALREADY_ADJUSTED), the invoice held behind."""
    w, a = world.weighed(), world.plain(0)
    order = world.linked_order([(w, 1), (a, 1), (w, 2)], gateway="cartao", capture="manual")
    first, second = _weighed_lines(world, order.nro, w)
    world.erp.separate(order.nro, weights={str(first): 0.8, str(second): 2.0})
    world.poll()
    world.erp.separate(order.nro, weights={str(second): 1.6})
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)


def test_a_second_line_weighed_again_like_the_first_is_discounted_too(world: World) -> None:
    """Both lines 1 kg: S1 weighs line 1 at 0.8 kg, line 3 as ordered; S2 weighs line 3 at 0.8 kg
    too. Its adjustment's words were found on line 1 and taken for "in Shopify already": nothing
    sent, line 3 charged a full kilogram, the order above its NF-e."""
    from decimal import Decimal

    w, a = world.weighed(), world.plain(0)
    order = world.linked_order([(w, 1), (a, 1), (w, 1)], gateway="cartao", capture="manual")
    first, second = _weighed_lines(world, order.nro, w)
    world.erp.separate(order.nro, weights={str(first): 0.8, str(second): 1.0})
    world.poll()
    world.erp.separate(order.nro, weights={str(second): 0.8})
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)
    total = Decimal(world.order_doc(order.gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert total == Decimal(str(world.erp.order(order.nro)["vlrTotalAtendido"]))

"""A picking cut never raises a Shopify line. The race: the ERP separates the order cutting A from
3 to 2; before the poller brings that picking to Shopify, the merchant lowers A to 1 there (the
customer wants one). Setting A to the cut's absolute target would put back the unit the merchant
took off, and the merchant's edit, run after the picking (it waits for it), would then read as an
echo: the customer's change undone silently, the ERP invoicing and delivering 2. So A keeps its 1,
the picking names the line for a person, and the merchant's edit is flagged (the ERP serves 2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from erp.client import ErpClient
from jobs.order_edits import to_erp
from ledger.models import MessageStatus
from shopify_app import line_words

from .conftest import World, attention_notes, set_quantity
from .test_picking_commit_answer_lost import _retried
from .test_picking_reported_twice import _emit_again


def test_a_cut_does_not_raise_a_line_the_merchant_lowered_meanwhile(world: World, orders_api) -> None:
    a, b, c = world.plain(0), world.plain(1), world.plain(2)
    order = world.linked_order([(a, 3), (b, 2), (c, 1)], gateway="pix")
    item = order.lines[a]
    world.erp.separate(order.nro, cuts={str(item): 2, str(order.lines[b]): 1}, weights={})
    set_quantity(world, order.gid, a, 1)  # the merchant's edit, before the picking reached Shopify
    world.poll()  # the S event's picking edit

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    quantities = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert (quantities[a], quantities[b]) == (1, 1), quantities  # A kept, B's cut applied
    [cut] = [row for row in world.line_changes(order.gid) if row.sku == a]
    assert not cut.applied and "a cut never puts units back" in (cut.reason or ""), cut.reason
    assert "um corte nunca devolve unidades" in (line_words.reason(cut, "pt-BR") or ""), cut.reason_words
    link = world.link(order.gid)
    said = f"SKU {a} (ERP line {item}): 1 in Shopify, below the ERP's cut to 2"
    assert said in (link.needs_attention or ""), link.needs_attention
    pt = " ".join(n["text"] for n in attention_notes(orders_api, link.id, "pt-BR"))
    assert f"SKU {a} (linha {item} do ERP): 1 na Shopify, abaixo do corte do ERP para 2" in pt, pt

    # The merchant's orders/edited, counted against what the ERP served: A 2 -> 1, flagged.
    assert to_erp.apply_edit(world.shop_id, order.gid, "777") == "failed"
    assert f"{a} 2 -> 1" in (world.link(order.gid).needs_attention or "")


def test_a_cut_still_lowers_a_line_the_merchant_raised(world: World) -> None:
    """Above the target (the merchant added one): the cut sets the ERP's served units, as before."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    set_quantity(world, order.gid, a, 4)
    world.poll()

    quantities = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert quantities[a] == 2, quantities
    assert not world.link(order.gid).needs_attention


def _box(world: World) -> str:
    box = next(s for s in world.chain.skus if not s.weighed and s.qtd_embalagem > 1)
    world.publish(box)
    return box.id_sku


def test_a_box_served_in_part_does_not_raise_a_line_the_merchant_lowered(world: World) -> None:
    """A part of a box served (2,5 of 3: its line would keep 3 boxes, split 2 + 1, with the part off)
    is a cut too: the merchant lowered the line to 1 box meanwhile, so it keeps its 1, takes no
    discount meant for 3 boxes, and is named for a person."""
    box, b = _box(world), world.plain(1)
    order = world.linked_order([(box, 3), (b, 2)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[box]): 2.5, str(order.lines[b]): 1}, weights={})
    set_quantity(world, order.gid, box, 1)
    before = {line["sku"]: line for line in world.order_doc(order.gid)["_lines"]}
    world.poll()

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    lines = world.order_doc(order.gid)["_lines"]
    assert sum(line["currentQuantity"] for line in lines if line["sku"] == box) == 1, lines
    assert [line for line in lines if line["sku"] == box] == [before[box]]  # no discount, no split line
    assert sum(line["currentQuantity"] for line in lines if line["sku"] == b) == 1, lines
    said = f"SKU {box} (ERP line {order.lines[box]}): 1 in Shopify, below the ERP's cut to 3"
    assert said in (world.link(order.gid).needs_attention or ""), world.link(order.gid).needs_attention


def _line_charged(world: World, gid: str, sku: str) -> tuple[int, Decimal]:
    line = next(line for line in world.order_doc(gid)["_lines"] if line["sku"] == sku)
    off = sum(Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in line["discountAllocations"])
    return line["currentQuantity"], off


def test_a_lighter_weighing_of_a_weighed_line_the_merchant_lowered_takes_off_only_what_its_units_exceed(
    world: World,
) -> None:
    """2 kg ordered, 1,1 kg weighed; the merchant lowered the line to 1 unit before the picking
    reached Shopify. The weight adjustment worked out on 2 kg put on the 1 unit left would charge
    0,1 kg: the unit left, worth 1 kg, is not above the ERP's 1,1 kg, so nothing comes off. 3 kg
    ordered, 1,5 kg weighed, lowered to 2: only the 0,5 kg the 2 units exceed the weighing."""
    weighed, plain = world.weighed(), world.plain(0)
    price = world.chain.prices[weighed]
    for ordered, kilos, lowered, off in (
        (2, 1.1, 1, Decimal(0)),
        (3, 1.5, 2, (price / 2).quantize(Decimal("0.01"))),
    ):
        order = world.linked_order([(weighed, ordered), (plain, 1)], gateway="pix")
        world.erp.separate(order.nro, weights={str(order.lines[weighed]): kilos})
        set_quantity(world, order.gid, weighed, lowered)  # before the poller brought the picking
        world.poll()

        [picking] = world.messages("order_edits", order)
        assert picking.status == MessageStatus.DONE.value, picking.error_text
        units, taken = _line_charged(world, order.gid, weighed)
        assert units == lowered and abs(taken - off) <= Decimal("0.01") * units, (ordered, taken, off)
        [row] = [r for r in world.line_changes(order.gid) if r.sku == weighed and r.kind == "weight"]
        if not off:
            assert f"{lowered} of its {ordered} units left in Shopify" in (row.reason or ""), row.reason


def test_a_cut_of_a_skus_first_line_meets_it_where_the_merchant_removed_it_meanwhile(world: World) -> None:
    """A "leve 3 pague 2": A on two Shopify lines (2 and 3 units, one ERP line each). The ERP cuts its
    first line 2 -> 1; before the picking reached Shopify the merchant removed A's first line there.
    The ERP has as many lines of A as Shopify, so the line at 0 is the first ERP line's, not one the
    ERP never had: its cut is held back and named for a person. Passed over, the cut landed on the
    second line (3 -> 1), whose 3 units the ERP serves: the ERP invoicing 4, Shopify charging 1."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (a, 3), (b, 1)], gateway="cartao", capture="manual")
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    first, _second = sorted((s for s in client.get_order(order.nro).lines if s.id_sku == a),
                            key=lambda s: s.seq_item)  # fmt: skip
    client.close()
    world.erp.separate(order.nro, cuts={str(first.seq_item): 1}, weights={})
    set_quantity(world, order.gid, a, 0)  # the merchant removes A's first line, after the ERP picked
    world.poll()

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    lines = [(line["sku"], line["currentQuantity"]) for line in world.order_doc(order.gid)["_lines"]]
    assert lines == [(a, 0), (a, 3), (b, 1)], lines
    [cut] = [row for row in world.line_changes(order.gid) if row.sku == a]
    assert not cut.applied and "a cut never puts units back" in (cut.reason or ""), cut.reason
    said = f"SKU {a} (ERP line {first.seq_item}): 0 in Shopify, below the ERP's cut to 1"
    assert said in (world.link(order.gid).needs_attention or ""), world.link(order.gid).needs_attention


def test_a_cut_planned_before_the_merchant_lowered_its_line_is_not_staged_over_their_edit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race one step later: the picking job read the order (A at 3), then the merchant lowered A
    to 1, then the job began its order edit. The cut planned from that read (3 -> 2, a lowering) would
    set the line to 2 on an order holding 1: the unit the merchant took off put back and charged. The
    edit's lines are checked against the read: they differ, so nothing is committed, the job retries,
    reads A at 1 and holds the cut back for a person, as when the merchant's edit came first."""
    from shopify_app.admin_api import order_edit_discounts

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    item = order.lines[a]
    world.erp.separate(order.nro, cuts={str(item): 2, str(order.lines[b]): 1}, weights={})
    real_begin = order_edit_discounts.begin
    lowered = []

    def begin_after_the_merchant(executor: Any, order_id: str) -> Any:
        if not lowered:  # the merchant's edit lands between the job's read and its edit
            set_quantity(world, order.gid, a, 1)
            lowered.append(a)
        return real_begin(executor, order_id)

    monkeypatch.setattr(order_edit_discounts, "begin", begin_after_the_merchant)
    world.poll()
    picking = _retried(world, order)

    assert lowered and picking.status == MessageStatus.DONE.value, picking.error_text
    quantities = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert (quantities[a], quantities[b]) == (1, 1), quantities  # A kept at the merchant's 1, B cut
    said = f"SKU {a} (ERP line {item}): 1 in Shopify, below the ERP's cut to 2"
    assert said in (world.link(order.gid).needs_attention or ""), world.link(order.gid).needs_attention


def test_a_box_served_in_part_held_back_stays_named_when_the_picking_is_reported_again(world: World) -> None:
    """The box served in part (2,5 of 3) on a line the merchant lowered to 1 is held back whole: nothing
    sent, its discount neither, so its row is not applied. Recorded applied (for the discount it never
    staged), the same separation reported again took it for in Shopify already and cleared the note
    that names it, though Shopify still holds 1 box against the ERP's 3."""
    box, b = _box(world), world.plain(1)
    order = world.linked_order([(box, 3), (b, 2)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[box]): 2.5, str(order.lines[b]): 1}, weights={})
    set_quantity(world, order.gid, box, 1)
    world.poll()
    [row] = [r for r in world.line_changes(order.gid) if r.sku == box]
    assert not row.applied, row.reason

    _emit_again(world, order, "S")
    world.poll()
    statuses = [m.status for m in world.messages("order_edits", order)]
    assert statuses == [MessageStatus.DONE.value] * 2, statuses
    assert [r.applied for r in world.line_changes(order.gid) if r.sku == box] == [False, False]
    said = f"SKU {box} (ERP line {order.lines[box]}): 1 in Shopify, below the ERP's cut to 3"
    assert said in (world.link(order.gid).needs_attention or ""), world.link(order.gid).needs_attention
    assert (
        sum(line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == box)
        == 1
    )


def test_a_substitute_does_not_raise_a_line_the_merchant_lowered_meanwhile(world: World, orders_api) -> None:
    """The ERP replaces A with 2 x B, B served as ordered (3); before the picking reaches Shopify,
    the merchant lowers B to 1 (the customer wants fewer). The substitute's units land on B's line at
    its own served units plus theirs: 5, over the merchant's edit, silently, and the merchant's edit
    then read as an echo of it. B keeps its 1, named for a person; A's cut to 0 is applied."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 3)], gateway="cartao", capture="manual")
    b_product = next(s for s in world.chain.skus if s.id_sku == b).seq_produto
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[a], "seqProduto": b_product, "qtd": 2}]
    )
    set_quantity(world, order.gid, b, 1)
    world.poll()

    [picking] = world.messages("order_edits", order)
    assert picking.status == MessageStatus.DONE.value, picking.error_text
    quantities = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert quantities == {a: 0, b: 1}, quantities
    link = world.link(order.gid)
    said = f"SKU {b} (ERP line {order.lines[b] + 1}): 1 in Shopify, lowered by a person since: the 5"
    assert said in (link.needs_attention or ""), link.needs_attention
    pt = " ".join(n["text"] for n in attention_notes(orders_api, link.id, "pt-BR"))
    assert "reduzido por uma pessoa depois: as 5 unidades" in pt, pt
    assert to_erp.apply_edit(world.shop_id, order.gid, "778") == "failed"  # counted, not an echo

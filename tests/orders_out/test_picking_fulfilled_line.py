"""ERP -> Shopify picking edits of an order a person fulfilled in part before the ERP's picking
came: Shopify edits only unfulfilled units, so a change it would refuse is left out, the rest is
applied, and the order is named for a person (which SKU, which ERP line, what to do); the
invoice is not held for it."""

from __future__ import annotations

from ledger.models import MessageStatus
from shopify_app import line_words
from shopify_app.admin_api import for_shop

from .conftest import LinkedOrder, World


def _fulfil(world: World, order: LinkedOrder, sku: str, units: int) -> None:
    """A person fulfils `units` of the order's line of `sku` in Shopify (a pickup handed over)."""
    client = for_shop(world.domain)
    fo = next(fo for fo in client.fulfillment_orders(order.gid) if fo.status == "OPEN")
    line = next(line for line in world.order_doc(order.gid)["_lines"] if line["sku"] == sku)
    client.fulfillment_create(
        {fo.id: [{"id": item.id, "quantity": units} for item in fo.lines if item.line_item_id == line["id"]]}
    )


def _quantities(world: World, order: LinkedOrder) -> dict[str, tuple[int, int]]:
    return {
        line["sku"]: (line["currentQuantity"], line["_fulfilled"])
        for line in world.order_doc(order.gid)["_lines"]
    }


def test_a_cut_of_a_fulfilled_line_is_left_out_named_and_the_rest_applied(world: World) -> None:
    """A x3 fulfilled by hand, B x2; the ERP cuts A 3 -> 1 and B 2 -> 1. B's cut is applied; A's
    is not (Shopify refuses a fulfilled line): its ledger row stays not applied, the order is
    named for a person with the SKU, the ERP line and the refund to make; the invoice goes on."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    _fulfil(world, order, a, 3)
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1, str(order.lines[b]): 1})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert _quantities(world, order) == {a: (3, 3), b: (1, 0)}
    changes = {c.sku: c for c in world.line_changes(order.gid)}
    assert (changes[b].applied, changes[a].applied) == (True, False)
    assert "3 fulfilled in Shopify" in (changes[a].reason or ""), changes[a].reason
    pt = line_words.reason(changes[a], "pt-BR") or ""  # the row's words, in the merchant's language
    assert pt == (
        f"Corte na separação: 1 de 3 atendido(s); NÃO aplicado por completo: SKU {a} (linha "
        f"{order.lines[a]} do ERP): 3 já processado(s) na Shopify, o corte do ERP para 1 não foi aplicado: "
        "reembolse 2 na Shopify"
    ), pt
    note = world.link(order.gid).needs_attention or ""
    expected = f"SKU {a} (ERP line {order.lines[a]}): 3 fulfilled in Shopify, the ERP's cut to 1 not applied"
    assert expected in note and "refund 2" in note, note
    assert [c["sku"] for c in edit.response_payload["not_applied"]] == [a]

    _total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert expected in (world.link(order.gid).needs_attention or "")  # still for the person


def test_a_cut_below_what_was_fulfilled_takes_the_line_down_to_its_fulfilled_units(world: World) -> None:
    """A x5 with 3 fulfilled by hand; the ERP cuts A to 1: Shopify can take the 2 unfulfilled
    units off (5 -> 3), not the fulfilled ones; the note asks to refund the other 2."""
    a = world.plain(0)
    order = world.linked_order([(a, 5)], gateway="cartao", capture="manual")
    _fulfil(world, order, a, 3)
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert _quantities(world, order) == {a: (3, 3)}
    note = world.link(order.gid).needs_attention or ""
    assert f"SKU {a} (ERP line {order.lines[a]}): 3 fulfilled in Shopify" in note and "refund 2" in note, note


def test_the_quantities_shopify_cannot_set_are_held_back_and_a_split_of_a_fulfilled_line_is_not_made() -> (
    None
):
    """Pure: per line, its units now and fulfilled (currentQuantity less unfulfilledQuantity)."""
    import dataclasses
    from decimal import Decimal

    from jobs.order_edits import fulfilled
    from jobs.order_edits.to_shopify import LineChange
    from shopify_app.admin_api.order_results import OrderLine

    def shopify(name: str, units: int, unfulfilled: int | None) -> OrderLine:
        return OrderLine(
            name, name, name, units, units, f"V{name}", None, None, None, unfulfilled_quantity=unfulfilled
        )

    def cut(item: int, name: str, target: int) -> LineChange:
        return LineChange(f"event:9:item:{item}", "cut", name, Decimal(5), Decimal(target), "cut at picking",
                          line_item_id=name, shopify_quantity=target)  # fmt: skip

    lines = [
        shopify("A", 3, 0),
        shopify("B", 5, 2),
        shopify("C", 5, 2),
        shopify("D", 2, None),
        shopify("E", 2, 2),
    ]
    edits = [cut(1, "A", 1), cut(2, "B", 1), cut(3, "C", 4), cut(4, "D", 0), cut(5, "E", 0)]
    kept, unapplied = fulfilled.hold_back(edits, lines)
    assert [(c.sku, c.shopify_quantity) for c in kept] == [("B", 3), ("C", 4), ("D", 0), ("E", 0)]
    texts = {key: (u.sent, u.text) for key, u in unapplied.items()}
    assert texts == {
        "event:9:item:1": (
            None,
            "SKU A (ERP line 1): 3 fulfilled in Shopify, the ERP's cut to 1 not applied: refund 2 in Shopify",
        ),
        "event:9:item:2": (
            3,
            "SKU B (ERP line 2): 3 fulfilled in Shopify, the ERP's cut to 1 applied down to 3 only: "
            "refund 2 in Shopify",
        ),
    }
    recorded = fulfilled.as_recorded(edits[0], unapplied["event:9:item:1"])
    assert recorded.shopify_quantity is None and not recorded.sends and "NOT applied" in recorded.reason

    money = {
        "discount_total": Decimal("1.02"),
        "discount_per_unit": Decimal("0.20"),
        "split_discount": Decimal("0.22"),
    }
    split = dataclasses.replace(cut(6, "B", 4), kind="weight", weighed_units=5, **money)
    assert fulfilled.unsplit([split], [shopify("B", 5, 2)]) == ([split], [])  # 4 kept >= 3 fulfilled
    [], [whole] = fulfilled.unsplit([split], [shopify("B", 5, 0)])  # fulfilled in full: no unit moves
    assert (whole.split_discount, whole.shopify_quantity, whole.discount_per_unit) == (
        None,
        None,
        Decimal("0.21"),
    )
    assert whole.takes_discount and "5 of its units fulfilled in Shopify, so not split" in whole.reason
    part = dataclasses.replace(split, kind="cut")  # a box served in part: its units rounded up still set
    [], [whole] = fulfilled.unsplit([part], [shopify("B", 5, 0)])
    assert (whole.split_discount, whole.shopify_quantity) == (None, 5)


def test_a_box_served_in_part_on_a_line_fulfilled_in_part_is_set_to_its_units_not_left_at_the_ordered(
    world: World,
) -> None:
    """2,5 of 4 boxes served, 3 of them fulfilled by a person: the split (2 + 1 alone) Shopify would
    refuse is not made, and the line still goes down to 3 boxes with the part off them; left at 4
    with the discount worked out for 3, Shopify would charge a box never served above the NF-e."""
    from decimal import Decimal

    box = next(s for s in world.chain.skus if not s.weighed and s.qtd_embalagem > 1)
    world.publish(box)
    order = world.linked_order([(box.id_sku, 4), (world.plain(0), 1)], gateway="pix")
    _fulfil(world, order, box.id_sku, 3)
    world.erp.separate(order.nro, cuts={str(order.lines[box.id_sku]): 2.5}, weights={})
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert _quantities(world, order)[box.id_sku] == (3, 3)
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    doc = world.order_doc(order.gid)
    shopify_total = Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
    nfe_total = Decimal(str(document["vlrTotal"]))
    assert nfe_total - Decimal("0.02") <= shopify_total <= nfe_total  # a per-unit rounding, never above

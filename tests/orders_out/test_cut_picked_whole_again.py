"""A plain cut, then the ERP picks the line again before its NF-e (a new 'S' event: the picker found
the item after all): 2 of 3 served, the app's picking edit set the Shopify line to 2; now 3 of 3.
A line served as ordered plans no change of its own, so Shopify kept the 2 while the ERP invoices 3:
the NF-e above Shopify's total, goods given uncharged. The units the app's OWN earlier cut took off
are put back (up to what the ERP serves now), through the same order edit; units a PERSON took off
never are (jobs.order_edits.lowered): such a line is raised by the app's own cut at most, and named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs.order_edits import lowered
from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app import line_words

from .conftest import LinkedOrder, World, attention_notes, set_quantity


def _pick(world: World, order: LinkedOrder, cuts: dict[str, float]) -> None:
    """The ERP separates the order (again: its sandbox re-picks an order in S), the poll applies it."""
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): qty for sku, qty in cuts.items()}, weights={})
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)


def _units(world: World, order: LinkedOrder, sku: str) -> int:
    return sum(line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == sku)


def _total(world: World, order: LinkedOrder) -> Decimal:
    return Decimal(world.order_doc(order.gid)["currentTotalPriceSet"]["shopMoney"]["amount"])


def _nfe(world: World, order: LinkedOrder) -> Decimal:
    return Decimal(str(world.erp.order(order.nro)["vlrTotalAtendido"]))


def _rows(world: World, order: LinkedOrder, sku: str) -> list:
    """The SKU's picking ledger rows, by event."""
    rows = [c for c in world.line_changes(order.gid) if c.sku == sku and c.change_key.startswith("event:")]
    return sorted(rows, key=lambda row: int(row.change_key.split(":")[1]))


def _lowered_note(world: World, order: LinkedOrder) -> str | None:
    return order_notes.note_of(world.link(order.gid), "order_edits", topic=lowered.NOTE_TOPIC)


def test_a_cut_line_picked_whole_again_gets_its_units_back(world: World) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    _pick(world, order, {a: 2})
    assert _units(world, order, a) == 2

    _pick(world, order, {a: 3})  # the picker found the third unit
    assert _units(world, order, a) == 3
    assert _total(world, order) == _nfe(world, order)
    [_, again] = _rows(world, order, a)
    assert again.applied and (again.qty_before, again.qty_after) == (3, 3), again.reason
    assert (again.reason or "").startswith("Picked again: 3"), again.reason
    assert "Separado de novo: 3 de 3 atendido(s)" in (line_words.reason(again, "pt-BR") or ""), (
        again.reason_words
    )
    assert _lowered_note(world, order) is None

    nfe, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(order.gid).paid == nfe
    assert not world.link(order.gid).needs_attention, world.link(order.gid).needs_attention


def test_a_line_cut_to_none_picked_whole_again_is_named_not_raised(world: World) -> None:
    """Cut to 0: Shopify keeps the line at 0 units, and the sandbox (Shopify's stand-in) takes no
    quantity on it (a line with no editable units). So the picking edit leaves it and names it for a
    person; the rest of the picking is applied."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    _pick(world, order, {a: 0})
    assert _units(world, order, a) == 0

    _pick(world, order, {a: 3, b: 1})
    assert (_units(world, order, a), _units(world, order, b)) == (0, 1)
    named = _lowered_note(world, order) or ""
    said = (
        f"SKU {a} (ERP line {order.lines[a]}): 0 in Shopify, below the 3 the ERP picked again: its line was"
    )
    assert said in named, named
    [_, again] = _rows(world, order, a)
    assert not again.applied and "NOT applied in full" in (again.reason or ""), again.reason
    assert "zerado pelo corte de uma separação anterior" in (line_words.reason(again, "pt-BR") or "")


def test_a_cut_picked_again_to_more_gets_the_units_the_erp_serves_now(world: World) -> None:
    """Cut to 1, then picked again 2 of 3: the ERP's own cut raised back by one, not a person's."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    _pick(world, order, {a: 1})
    _pick(world, order, {a: 2})
    assert _units(world, order, a) == 2
    assert _total(world, order) == _nfe(world, order)
    assert _lowered_note(world, order) is None
    [_, again] = _rows(world, order, a)
    assert again.applied, again.reason


def test_a_person_lowering_after_the_cut_keeps_their_units(world: World, orders_api) -> None:
    """Cut 3 -> 2 (the app's), then a person sets 1 (the customer wants one); picked 3 of 3 again:
    the line keeps the person's 1 (a picking never puts back units a person took off), named."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    _pick(world, order, {a: 2})
    set_quantity(world, order.gid, a, 1)

    _pick(world, order, {a: 3, b: 1})
    assert (_units(world, order, a), _units(world, order, b)) == (1, 1)
    named = _lowered_note(world, order) or ""
    said = f"SKU {a} (ERP line {order.lines[a]}): 1 in Shopify, below the 3 the ERP picked again: kept"
    assert said in named, named
    pt = " ".join(n["text"] for n in attention_notes(orders_api, world.link(order.gid).id, "pt-BR"))
    assert (
        f"SKU {a} (linha {order.lines[a]} do ERP): 1 na Shopify, abaixo dos 3 que o ERP separou de novo" in pt
    )
    [_, again] = _rows(world, order, a)
    assert not again.applied and "NOT applied in full" in (again.reason or ""), again.reason


def test_a_person_lowering_before_the_cut_is_not_raised_by_a_later_picking(world: World) -> None:
    """A person set 1 before the picking got there (its cut to 2 held back): the app took nothing
    off the line, so picked 3 of 3 again it puts nothing back, and the line stays named."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2, str(order.lines[b]): 1}, weights={})
    set_quantity(world, order.gid, a, 1)
    world.poll()
    assert _units(world, order, a) == 1

    _pick(world, order, {a: 3})
    assert _units(world, order, a) == 1
    named = _lowered_note(world, order) or ""
    assert f"SKU {a} (ERP line {order.lines[a]}): 1 in Shopify, below the 3 the ERP picked again" in named


def test_the_echo_of_the_put_back_units_is_the_erps_and_a_replay_sends_nothing(world: World) -> None:
    from jobs.order_edits import to_erp, to_shopify

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    _pick(world, order, {a: 2})
    _pick(world, order, {a: 3})
    assert to_erp.apply_edit(world.shop_id, order.gid, "echo-3") == "skipped", world.link(order.gid)
    edits = len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder"))
    last = world.messages("order_edits", order)[-1]
    assert to_shopify.replay(last.id) == MessageStatus.DONE.value
    assert len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder")) == edits  # no edit begun
    assert _units(world, order, a) == 3
    assert all(row.applied for row in _rows(world, order, a))


# -- pure -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "left", "now", "planned"),
    [
        ("3", "2", 2, ("qty", 3, None)),  # the app's own cut put back
        ("3", "2", 3, ("qty", 3, None)),  # in Shopify already (a lost answer's retry): recorded as set
        ("3", "2", 1, ("qty", None, 3)),  # a person lowered it since: kept, named
        ("3", None, 1, ("qty", None, 3)),  # the cut was held back (a person's before it): kept, named
        ("3", "0", 0, ("qty", None, 3)),  # the app's cut emptied it: not set again, named
        ("2", "1", 1, ("cut", 2, None)),  # a cut to 1, then to 2: raised
        ("2", "1", 0, None),  # below the app's cut: a person's (lowered.hold_back names the cut)
        ("3", "3", 3, None),  # picked as the app's last picking left it: nothing
        ("3", "2", 4, None),  # a person's addition: as it is
    ],
)
def test_a_line_picked_again_plans_what_the_apps_own_cut_took_off(
    served: str, left: str | None, now: int, planned: tuple | None
) -> None:
    from jobs.order_edits.to_shopify import plan_changes

    from .test_pure_rules import VARIANTS, event, line, shopify_line

    picked = event(line(1, "A", "3", served), line(2, "B", "1", "1"))
    lines = [shopify_line("A", now), shopify_line("B", 1)]
    changes = plan_changes(
        picked, lines, VARIANTS, recorded={1}, left={1: None if left is None else Decimal(left)}
    )
    found = [(c.kind, c.shopify_quantity, c.below) for c in changes if c.sku == "A"]
    if planned is None:
        assert all(c.never_raises or c.shopify_quantity == int(served) for c in changes if c.sku == "A")
        assert not any(c.below for c in changes), found
    else:
        assert found == [planned], found

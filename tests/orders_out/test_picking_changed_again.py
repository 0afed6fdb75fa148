"""The ERP picks an order AGAIN before its NF-e (a new 'S' event: the box found after all, the meat
weighed again), after an earlier picking put a discount of the app's own on a line: "Atendido em
parte: 1,5 de 2" on a box served in part, "Ajuste de peso: ..." on a lighter weighed line. The old
discount describes a picking that is no more: kept, Shopify's total (and the capture) stays below
the NF-e, money not charged. So the picking edit removes the app's discount of the line (of its
split's unit too) when the picking now plans none; a discount a person gave is never touched."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop, order_edit_discounts
from tests.orders_out.conftest import LinkedOrder, World
from tests.orders_out.test_picking_part_of_a_box import _served_in_part
from tests.orders_out.test_weighed_discount import _uneven_weight

APP_MADE = ("Atendido em parte", "Ajuste de peso")


def _pick_again(world: World, order: LinkedOrder, **picking: dict) -> None:
    """The ERP separates the order again (its sandbox re-picks an order in S: a new S event)."""
    world.erp.separate(order.nro, **picking)
    world.poll()
    last = world.messages("order_edits", order)[-1]
    assert last.status == MessageStatus.DONE.value, (last.status, last.error_text)


def _lines_of(world: World, order: LinkedOrder, sku: str) -> list[dict]:
    return [line for line in world.order_doc(order.gid)["_lines"] if line["sku"] == sku]


def _descriptions(lines: list[dict]) -> list[str]:
    return [a["discountApplication"].get("description") or "" for line in lines
            for a in line.get("discountAllocations", [])]  # fmt: skip


def _total(world: World, order: LinkedOrder) -> Decimal:
    return Decimal(world.order_doc(order.gid)["currentTotalPriceSet"]["shopMoney"]["amount"])


def _nfe(world: World, order: LinkedOrder) -> Decimal:
    return Decimal(str(world.erp.order(order.nro)["vlrTotalAtendido"]))


def test_a_box_served_in_part_then_picked_whole_loses_its_part_discount(world: World) -> None:
    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    lines = _lines_of(world, order, box)
    assert sum(line["currentQuantity"] for line in lines) == 2
    assert not any(d.startswith(APP_MADE) for d in _descriptions(lines)), _descriptions(lines)
    assert _total(world, order) == _nfe(world, order)


def test_a_box_served_in_part_then_cut_to_one_box_is_charged_one_box(world: World) -> None:
    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    _pick_again(world, order, cuts={str(order.lines[box]): 1}, weights={})
    lines = _lines_of(world, order, box)
    assert sum(line["currentQuantity"] for line in lines) == 1
    assert _total(world, order) == _nfe(world, order), _descriptions(lines)


def test_a_split_part_of_a_box_picked_whole_again_is_charged_whole(world: World) -> None:
    """2,5 of 3 boxes went on two lines (2 + 1, each discounted): picked 3 of 3 now, both lose it."""
    box, order = _served_in_part(world, 3, 2.5, gateway="pix")
    assert sorted(line["currentQuantity"] for line in _lines_of(world, order, box)) == [1, 2]
    _pick_again(world, order, cuts={str(order.lines[box]): 3}, weights={})
    lines = _lines_of(world, order, box)
    assert sum(line["currentQuantity"] for line in lines) == 3
    assert not any(d.startswith(APP_MADE) for d in _descriptions(lines)), _descriptions(lines)
    assert _total(world, order) == _nfe(world, order)


def test_a_split_part_of_a_box_cut_to_two_boxes_leaves_no_third(world: World) -> None:
    box, order = _served_in_part(world, 3, 2.5, gateway="pix")
    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    lines = _lines_of(world, order, box)
    assert sum(line["currentQuantity"] for line in lines) == 2, lines
    assert _total(world, order) == _nfe(world, order), _descriptions(lines)


def test_a_weighed_line_weighed_again_at_the_ordered_weight_loses_its_adjustment(world: World) -> None:
    weighed, plain = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed, 1), (plain, 2)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): 0.8})
    world.poll()
    assert any(d.startswith("Ajuste de peso") for d in _descriptions(_lines_of(world, order, weighed)))
    _pick_again(world, order, weights={str(order.lines[weighed]): 1.0})
    lines = _lines_of(world, order, weighed)
    assert not any(d.startswith(APP_MADE) for d in _descriptions(lines)), _descriptions(lines)
    assert _total(world, order) == _nfe(world, order)
    nfe, message = world.invoice(order)
    assert world.settlement(order.gid).paid == nfe, (message.status, message.error_text)
    assert not world.link(order.gid).needs_attention, world.link(order.gid).needs_attention


def test_a_split_weighed_line_weighed_again_at_the_ordered_weight_is_charged_whole(world: World) -> None:
    weighed, plain = world.weighed(), world.plain(2)
    order = world.linked_order([(weighed, 3), (plain, 1)], gateway="cartao", capture="manual")
    kg, _ = _uneven_weight(world.chain.prices[weighed], 3)
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): float(kg)})
    world.poll()
    assert sorted(line["currentQuantity"] for line in _lines_of(world, order, weighed)) == [1, 2]
    _pick_again(world, order, weights={str(order.lines[weighed]): 3.0})
    lines = _lines_of(world, order, weighed)
    assert sum(line["currentQuantity"] for line in lines) == 3
    assert not any(d.startswith(APP_MADE) for d in _descriptions(lines)), _descriptions(lines)
    assert _total(world, order) == _nfe(world, order)


def test_a_heavier_weighing_after_a_lighter_one_charges_what_was_authorised(world: World) -> None:
    """Weighed 1,05 kg now (heavier): never above the authorisation, but no longer 0,8 kg either."""
    weighed, plain = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed, 1), (plain, 2)], gateway="pix")
    placed = _total(world, order)
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): 0.8})
    world.poll()
    _pick_again(world, order, weights={str(order.lines[weighed]): 1.05})
    assert _total(world, order) == placed
    assert not _descriptions(_lines_of(world, order, weighed))


def test_a_discount_a_person_gave_stays_when_the_apps_goes(world: World) -> None:
    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, order.gid)  # the merchant's own discount
    line = edit.line_for_variant(world.variants[box])
    assert line is not None
    order_edit_discounts.add_line_item_discount(
        client.executor, edit.calculated_order_id, line.id, Decimal("1.00"), "BRL", description="Cortesia"
    )
    client.order_edit_commit(edit.calculated_order_id)

    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    said = _descriptions(_lines_of(world, order, box))
    assert "Cortesia" in said and not any(d.startswith(APP_MADE) for d in said), said
    assert _total(world, order) == _nfe(world, order) - Decimal("2.00")  # 1,00 off each of 2 boxes


def test_the_echo_of_the_second_picking_is_the_erps_and_a_replay_sends_nothing(world: World) -> None:
    """Shopify now shows what the ERP served (2 boxes, nothing off): its orders/edited is the ERP's
    own picking coming back, not a merchant's price change; the event replayed changes nothing."""
    from jobs.order_edits import to_erp, to_shopify

    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    echo = to_erp.apply_edit(world.shop_id, order.gid, "echo-2")
    assert echo == "skipped", world.link(order.gid).needs_attention
    edits = len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder"))
    last = world.messages("order_edits", order)[-1]
    to_shopify.replay(last.id)
    assert len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder")) == edits  # no edit begun
    assert _total(world, order) == _nfe(world, order)
    [*_, change] = _rows(world, order, box)  # by event number: change keys sort "event:10" before "event:9"
    assert change.applied and "of an earlier picking taken off" in change.reason, change.reason
    assert [part["key"] for part in change.reason_words] == ["line_picked_again", "line_adjustment_removed"]


# --------------------------------------------------------------- a person lowered the line since


def _person_sets(world: World, order: LinkedOrder, sku: str, quantity: int) -> None:
    """A person sets the first of the SKU's lines holding units to `quantity` in Shopify."""
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, order.gid)
    first = next(line for line in _lines_of(world, order, sku) if line["currentQuantity"] > 0)
    line = edit.line_for_item(first["id"])
    assert line is not None
    client.order_edit_set_quantity(edit.calculated_order_id, line.id, quantity)
    client.order_edit_commit(edit.calculated_order_id)


def _rows(world: World, order: LinkedOrder, sku: str) -> list:
    """The SKU's picking ledger rows, by event."""
    rows = [c for c in world.line_changes(order.gid) if c.sku == sku and c.change_key.startswith("event:")]
    return sorted(rows, key=lambda row: int(row.change_key.split(":")[1]))


def _units(world: World, order: LinkedOrder, sku: str) -> int:
    return sum(line["currentQuantity"] for line in _lines_of(world, order, sku))


def _price(world: World, order: LinkedOrder, sku: str) -> Decimal:
    [line, *_] = _lines_of(world, order, sku)
    return Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"])


def test_a_box_a_person_lowered_is_not_raised_back_when_picked_whole_again(world: World) -> None:
    """1,5 of 2 boxes (2 in Shopify, half a box off), the customer wants 1 (a person sets 1 in
    Shopify: flagged, the ERP is separating); the ERP picks 2 of 2 again: the line keeps 1 box, the
    earlier picking's discount goes (that box is served whole: charged in full), named for a person;
    the edit's echo is not the ERP's picking and leaves the person's flag."""
    from sqlalchemy import select

    from jobs.order_edits import lowered, to_erp
    from ledger.db import session_scope
    from ledger.models import Message

    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    _person_sets(world, order, box, 1)
    assert to_erp.apply_edit(world.shop_id, order.gid, "person-1") != "skipped"
    flagged = order_notes.note_of(world.link(order.gid), "order_edits")
    assert flagged and "NOT applied" in flagged, world.link(order.gid).needs_attention

    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    assert _units(world, order, box) == 1  # the customer's change stands
    said = _descriptions(_lines_of(world, order, box))
    assert not any(d.startswith(APP_MADE) for d in said), said
    assert _total(world, order) == _nfe(world, order) - _price(world, order, box)  # 1 box in full
    link = world.link(order.gid)
    named = order_notes.note_of(link, "order_edits", topic=lowered.NOTE_TOPIC) or ""
    assert "1 in Shopify, below the 2 the ERP picked again" in named, link.needs_attention
    assert "'Atendido em parte: 1,5 de 2' taken off" in named
    [*_, change] = _rows(world, order, box)
    assert change.applied and "NOT applied in full" in change.reason, change.reason
    assert [part["key"] for part in change.reason_words] == [
        "line_picked_again", "line_adjustment_removed_kept", "line_not_applied_in_full"
    ]  # fmt: skip

    to_erp.apply_edit(world.shop_id, order.gid, "echo-2")  # Shopify 1 box, the ERP 2: not its echo
    with session_scope() as session:
        echo = select(Message.error_text).where(Message.unit_key == to_erp.unit_key("echo-2"))
        assert not any("as picked" in (text or "") for text in session.scalars(echo))  # not its echo
    assert order_notes.note_of(world.link(order.gid), "order_edits") == flagged  # the person's flag stays


def test_a_box_a_person_lowered_to_what_is_picked_again_loses_the_discount_only(world: World) -> None:
    """1,5 of 2 boxes, a person sets 1; the ERP picks 1 of 2 again: Shopify and the ERP agree."""
    from jobs.order_edits import lowered

    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    _person_sets(world, order, box, 1)
    _pick_again(world, order, cuts={str(order.lines[box]): 1}, weights={})
    assert _units(world, order, box) == 1
    assert _total(world, order) == _nfe(world, order)
    assert order_notes.note_of(world.link(order.gid), "order_edits", topic=lowered.NOTE_TOPIC) is None


def test_a_box_the_erp_served_less_of_is_raised_when_picked_whole_again(world: World) -> None:
    """0,5 of 2 boxes (1 in Shopify, half off): the ERP's own picking left 1, no person; picked 2 of
    2 again, the line holds the 2 boxes the ERP serves, charged in full."""
    from jobs.order_edits import lowered

    box, order = _served_in_part(world, 2, 0.5, gateway="pix")
    assert _units(world, order, box) == 1
    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    assert _units(world, order, box) == 2
    assert not any(d.startswith(APP_MADE) for d in _descriptions(_lines_of(world, order, box)))
    assert _total(world, order) == _nfe(world, order)
    assert order_notes.note_of(world.link(order.gid), "order_edits", topic=lowered.NOTE_TOPIC) is None


def test_a_weighed_line_a_person_lowered_keeps_its_units_weighed_again(world: World) -> None:
    """3 kg ordered, 2,7 kg weighed ('Ajuste de peso'), a person sets 2; weighed 3 kg again: the
    line keeps 2, charged in full, and is named for a person (the ERP invoices 3 kg)."""
    from jobs.order_edits import lowered

    weighed, plain = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed, 3), (plain, 1)], gateway="pix")
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): 2.7})
    world.poll()
    assert any(d.startswith("Ajuste de peso") for d in _descriptions(_lines_of(world, order, weighed)))
    units = _units(world, order, weighed)
    _person_sets(world, order, weighed, _lines_of(world, order, weighed)[0]["currentQuantity"] - 1)
    assert _units(world, order, weighed) == units - 1
    _pick_again(world, order, weights={str(order.lines[weighed]): 3.0})
    lines = _lines_of(world, order, weighed)
    assert sum(line["currentQuantity"] for line in lines) == units - 1
    assert not any(d.startswith(APP_MADE) for d in _descriptions(lines)), _descriptions(lines)
    assert _total(world, order) == _nfe(world, order) - _price(world, order, weighed)
    named = order_notes.note_of(world.link(order.gid), "order_edits", topic=lowered.NOTE_TOPIC) or ""
    assert f"{units - 1} in Shopify, below the 3 the ERP picked again" in named, named


# --------------------------------------------------------------- only the app's own discounts


@pytest.mark.parametrize("theirs", ["Atendido em parte: cortesia", "Atendido em parte: 1,5 de 2"])
def test_a_persons_discount_worded_like_the_apps_stays(world: World, theirs: str) -> None:
    """The app knows its own discounts by what its ledger rows recorded putting on (description and
    amount per unit), not by their words: a person's worded exactly alike stays."""
    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, order.gid)
    line = edit.line_for_variant(world.variants[box])
    assert line is not None
    order_edit_discounts.add_line_item_discount(
        client.executor, edit.calculated_order_id, line.id, Decimal("1.00"), "BRL", description=theirs
    )
    client.order_edit_commit(edit.calculated_order_id)
    [first] = _rows(world, order, box)
    [put] = first.discounts
    assert put["description"] == "Atendido em parte: 1,5 de 2" and not put["taken_off"], first.discounts

    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    said = _descriptions(_lines_of(world, order, box))
    assert said == [theirs], said
    assert _total(world, order) == _nfe(world, order) - Decimal("2.00")  # 1,00 off each of 2 boxes
    [_, again] = _rows(world, order, box)
    assert again.discounts == [{**put, "taken_off": True}], again.discounts


def test_a_row_written_before_the_rows_kept_their_discounts_is_read_by_its_words(world: World) -> None:
    """A picking recorded before the ledger rows kept the app's discounts (`discounts` NULL): its
    reason's description still tells its discount, which a later picking takes off."""
    from ledger.db import session_scope
    from ledger.models import OrderLineChange

    box, order = _served_in_part(world, 2, 1.5, gateway="pix")
    with session_scope() as session:
        link_id = world.link(order.gid).id
        for row in session.query(OrderLineChange).where(OrderLineChange.order_link_id == link_id):
            row.discounts = None
    _pick_again(world, order, cuts={str(order.lines[box]): 2}, weights={})
    assert not any(d.startswith(APP_MADE) for d in _descriptions(_lines_of(world, order, box)))
    assert _total(world, order) == _nfe(world, order)


def test_an_older_picking_taken_late_does_not_undo_the_newer_one(world: World) -> None:
    """S1 cuts A to 1 of 3; the picker finds the boxes and S2 serves 3 of 3. S1 was committed late:
    the poll took S2 (nothing to change), the hourly late sweep S1 afterwards, which cut Shopify to 1;
    the F (3 of 3, not "alterado") edits nothing: the customer paid for 1 box, received and was
    invoiced for 3. A picking states the whole order: an older one after a newer one applied is
    skipped, saying so (a person's Retry of an older failed S likewise)."""
    from datetime import timedelta

    import erp
    from jobs import order_events
    from jobs.worker import run_worker
    from ledger.models import utcnow

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1}, weights={})  # S1
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 3}, weights={})  # S2: found after all
    read = erp.for_shop(world.shop_id).order_events(utcnow() - timedelta(hours=2))
    s1, s2 = sorted(
        (e for e in read if e.nro_pedvenda == order.nro and e.kind == "S"), key=lambda e: e.seq_evento
    )
    order_events._take(world.shop_id, s2)  # the poll sees S2 (S1 not committed yet)
    run_worker(burst=True, simple=True, with_scheduler=False)
    order_events._take(world.shop_id, s1)  # the late sweep finds S1
    run_worker(burst=True, simple=True, with_scheduler=False)
    [late] = [m for m in world.messages("order_edits", order) if m.unit_key == f"event:{s1.seq_evento}"]
    assert (
        late.status == MessageStatus.SKIPPED.value
        and f"superseded by event #{s2.seq_evento}" in late.error_text
    )
    held = sum(line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == a)
    nfe, _message = world.invoice(order)  # F: 3 of 3, not "alterado": no edit
    assert (held, world.settlement(order.gid).paid) == (3, nfe)


def test_a_replay_of_an_older_picking_applied_before_does_not_undo_a_later_one(world: World) -> None:
    """Picked 1 of 3, then found, 3 of 3; a person's Replay of the first (done) sent its 3 -> 1 again
    over the second: Shopify charged 1 box, the customer got 3 and the NF-e said 3. Skipped as
    superseded, as a late older picking is."""
    from jobs.order_edits import replay

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 1}, weights={})
    world.poll()
    assert _units(world, order, a) == 1
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 3}, weights={})
    world.poll()
    first, second = sorted(world.messages("order_edits", order), key=lambda m: int(m.unit_key.split(":")[1]))
    assert (first.status, second.status) == (MessageStatus.DONE.value, MessageStatus.DONE.value)
    assert _units(world, order, a) == 3
    replay(first.id)
    assert _units(world, order, a) == 3
    [again] = [m for m in world.messages("order_edits", order) if m.id == first.id]
    assert again.status == MessageStatus.SKIPPED.value, (again.status, again.error_text)
    assert f"superseded by event #{second.unit_key.split(':')[1]}" in (again.error_text or ""), (
        again.error_text
    )

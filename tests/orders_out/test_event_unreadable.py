"""An ERP order event (EventoPedido row) the app cannot read fails alone: every other event of the
poll is applied, the row's message names it, its order's invoice waits behind it, and the poller's
cursor holds it until it can be read (then it is applied like any other) or a person closes it as
handled (then the cursor moves on)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobs import invoices, order_catch_up, order_event_records, order_events
from jobs.order_edits import to_shopify as edits
from jobs.worker import run_worker
from ledger import handled, watermarks
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app import fail_words

from .conftest import LinkedOrder, World


def _records(world: World) -> list[Message]:
    with session_scope() as session:
        rows = list(
            session.scalars(
                select(Message)
                .where(
                    Message.shop_id == world.shop_id, Message.unit_key.like(order_event_records.PREFIX + "%")
                )
                .order_by(Message.id)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


def _break_items(data: dict[str, Any]) -> None:
    data["itens_ok"], data["itens"] = data["itens"], "ilegível"


def _mend_items(data: dict[str, Any]) -> None:
    if "itens_ok" in data:  # (mended already)
        data["itens"] = data.pop("itens_ok")


def test_an_unreadable_picking_event_fails_alone_and_holds_its_orders_invoice(world: World) -> None:
    sku = world.plain(0)
    order = world.linked_order([(sku, 3)], gateway="pix")
    other = world.linked_order([(world.plain(1), 1)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    world.erp.invoice(order.nro)
    world.erp.invoice(other.nro)
    world.rewrite_event(order.nro, "S", _break_items)
    try:
        _fails_alone_then_applies(world, order, other, sku)
    finally:  # the ERP sandbox serves every test of the session
        world.rewrite_event(order.nro, "S", _mend_items)


def _fails_alone_then_applies(world: World, order: LinkedOrder, other: LinkedOrder, sku: str) -> None:
    counts = world.poll()
    assert counts["unreadable"] == 1 and counts["enqueued"] == 3  # the invoices, the other order's picking

    # the other order's NF-e is applied: one bad row no longer stops every event of the shop
    [other_invoice] = world.messages("invoices", other)
    assert other_invoice.status == MessageStatus.DONE.value
    assert world.settlement(other.gid).nfe["chave"]
    # the bad row fails a message of its own, in the picking's flow, naming the event, order, field
    [record] = _records(world)
    assert (record.flow, record.status, record.error_class) == ("order_edits", "failed", "rejected")
    assert record.erp_id == str(order.nro) and record.error_detail["code"] == "RECORD_UNREADABLE"
    seq_s = order_event_records.seq_of(record.unit_key)
    assert all(word in (record.error_text or "") for word in (f"{seq_s} of ERP order {order.nro}", "'itens'"))
    said = fail_words.reason(record, "pt-BR") or ""
    assert f"O evento {seq_s} do pedido {order.nro} no ERP (EventoPedido)" in said and "'itens'" in said
    # the order's invoice waits behind it: never applied on top of an order missing its picking cut
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.FAILED.value
    assert invoice.error_detail["waiting_for"] == record.id and "could not be read" in invoice.error_text
    assert world.settlement(order.gid).nfe == {}
    assert "could not be read" in (world.link(order.gid).needs_attention or "")

    # a later poll reads the row again (the cursor held it) and leaves its message as it was
    assert world.poll()["unreadable"] == 1
    [again] = _records(world)
    assert (again.attempts, again.updated_at) == (record.attempts, record.updated_at)

    world.rewrite_event(order.nro, "S", _mend_items)  # fixed in Consinco: its time stays as it was
    assert edits.replay(record.id) == MessageStatus.DONE.value  # Retry polls now and reads it
    run_worker(burst=True, simple=True, with_scheduler=False)  # the picking edit's job
    [edit] = world.messages("order_edits", order)[1:]
    assert edit.unit_key == order_events.unit_key(seq_s) and edit.status == MessageStatus.DONE.value
    # the invoice held behind it resumes by itself: the orders catch-up frees it
    assert order_catch_up.run_catch_up(world.shop_id)["resumed"] == 1
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.messages("invoices", order)[0].status == MessageStatus.DONE.value
    assert world.settlement(order.gid).nfe["chave"]
    assert world.order_doc(order.gid)["_lines"][0]["currentQuantity"] == 2
    assert invoices.replay(invoice.id) == MessageStatus.DONE.value  # (a second run changes nothing)


def test_a_row_closed_as_handled_no_longer_holds_the_cursor(world: World) -> None:
    """A person applied the event by hand and closed its message as handled: the cursor moves past
    the row, which stays unread, and its message stays closed."""
    sku = world.plain(0)
    order = world.linked_order([(sku, 2)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 1})
    world.rewrite_event(order.nro, "S", _break_items)
    try:
        _handled_moves_the_cursor(world)
    finally:  # the ERP sandbox serves every test of the session
        world.rewrite_event(order.nro, "S", _mend_items)


def _handled_moves_the_cursor(world: World) -> None:
    world.poll()
    with session_scope() as session:
        held_at = watermarks.read(session, world.shop_id, order_events.FLOW).last_changed_at
    [record] = _records(world)
    later = world.linked_order([(world.plain(1), 1)], gateway="pix")
    world.erp.invoice(later.nro)
    world.poll()
    assert world.messages("invoices", later)[0].status == MessageStatus.DONE.value
    with session_scope() as session:
        assert watermarks.read(session, world.shop_id, order_events.FLOW).last_changed_at == held_at

    with session_scope() as session:
        handled.mark(session, session.get(Message, record.id), by="staff-1", note="cortado à mão na Shopify")
    assert world.poll()["unreadable"] == 1
    with session_scope() as session:
        moved = watermarks.read(session, world.shop_id, order_events.FLOW).last_changed_at
    assert moved is not None and held_at is not None and moved > held_at
    [closed] = _records(world)
    assert closed.status == MessageStatus.SKIPPED.value and handled.info(closed) is not None


def test_an_unreadable_row_of_another_stores_order_neither_fails_nor_holds_this_shop(
    world: World, shopify: Any, chain: Any
) -> None:
    """Two stores of a chain on one ERP: the poll reads every EventoPedido row (no store filter).
    A row of store A's order that cannot be read failed a message in store B too, asking B's
    merchant to fix a row of an order B never had, and held B's cursor at it until B marked it
    handled; now only A, whose link names the order, is told and held."""
    from ledger import trace
    from ledger.errors import Rejected
    from ledger.flows import ERP_TO_SHOPIFY

    from .conftest import install_world

    a = world
    order = a.linked_order([(a.plain(0), 2)], gateway="pix")
    b = install_world(shopify, chain)
    a.erp.separate(order.nro, cuts={str(order.lines[a.plain(0)]): 1})
    a.rewrite_event(order.nro, "S", _break_items)
    try:
        a.poll()
        [record] = _records(a)  # A's own order: told and held as before
        assert record.status == MessageStatus.FAILED.value and record.erp_id == str(order.nro)
        with session_scope() as session:  # B's message of the row, failed before B told them apart
            stale = trace.begin(session, b.shop_id, record.flow, record.unit_key, ERP_TO_SHOPIFY,
                                erp_id=str(order.nro), job_id=None)  # fmt: skip
            refusal = Rejected(record.error_text or "", system="erp", code="RECORD_UNREADABLE")
            trace.fail(session, stale, refusal)
        b.poll()
        with session_scope() as session:
            held_at = watermarks.read(session, b.shop_id, order_events.FLOW).last_changed_at
        [closed] = _records(b)
        assert closed.status == MessageStatus.SKIPPED.value, closed.error_text
        assert f"ERP order {order.nro} is not linked" in (closed.error_text or "")

        later = b.linked_order([(b.plain(1), 1)], gateway="pix")
        b.erp.invoice(later.nro)
        b.poll()
        assert b.messages("invoices", later)[0].status == MessageStatus.DONE.value
        with session_scope() as session:
            moved = watermarks.read(session, b.shop_id, order_events.FLOW).last_changed_at
        assert held_at is not None and moved is not None and moved > held_at  # not held at A's row
        assert [m.status for m in _records(b)] == [MessageStatus.SKIPPED.value]  # no new failure in B
    finally:  # the ERP sandbox serves every test of the session
        a.rewrite_event(order.nro, "S", _mend_items)

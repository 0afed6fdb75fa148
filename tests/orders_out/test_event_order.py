"""One order's events apply in order: an invoice never lands before its picking edit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobs import invoices, order_events
from jobs.order_edits import to_shopify as edits
from jobs.worker import run_worker
from ledger.errors import Transient
from ledger.models import MessageStatus

from .conftest import LinkedOrder, World


def test_an_invoice_waits_for_the_picking_edit_of_its_order(world: World) -> None:
    sku = world.plain(0)
    order = world.linked_order([(sku, 3)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    world.erp.invoice(order.nro)
    assert order_events.run(world.shop_id)["enqueued"] == 2  # both events, not yet run
    [edit] = world.messages("order_edits", order)
    [invoice] = world.messages("invoices", order)
    seq_f = int(invoice.unit_key.split(":")[1])

    with pytest.raises(Transient, match="waiting for event"):
        invoices.apply_event(world.shop_id, seq_f)  # a worker picked the F first
    assert world.messages("invoices", order)[0].status == MessageStatus.RETRYING.value
    assert world.settlement(order.gid).nfe == {}  # nothing written before the edit

    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.messages("order_edits", order)[0].status == MessageStatus.DONE.value
    assert invoices.replay(invoice.id) == MessageStatus.DONE.value  # RQ's retry, run now
    state = world.settlement(order.gid)
    assert state.nfe["chave"] and not any(f.status == "OPEN" for f in state.fulfillments)
    assert world.order_doc(order.gid)["_lines"][0]["currentQuantity"] == 2
    assert [c.kind for c in world.line_changes(order.gid)] == ["cut"] and edit.id != invoice.id


def _substituted_by_an_unpublished_sku(world: World) -> tuple[str, LinkedOrder, Any]:
    """An order whose only line the ERP replaced at picking by a SKU Shopify does not have yet,
    then invoiced; both events polled: the edit parks, the invoice is held behind it."""
    original = world.plain(0)
    order = world.linked_order([(original, 1)], gateway="pix")
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": unbound.ean, "qtd": 1}]
    )
    world.erp.invoice(order.nro)
    world.poll()
    return original, order, unbound


def test_an_invoice_is_held_while_its_picking_edit_is_parked(world: World) -> None:
    original, order, unbound = _substituted_by_an_unpublished_sku(world)

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.PARKED.value
    assert edit.error_detail["mapping"] == {"kind": "variant", "code": unbound.id_sku}
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.FAILED.value and "held" in (invoice.error_text or "")
    assert world.settlement(order.gid).nfe == {}

    world.publish(unbound)  # the SKU reaches Shopify: the edit resumes, then the held invoice
    assert edits.replay(edit.id) == MessageStatus.DONE.value
    assert invoices.replay(invoice.id) == MessageStatus.DONE.value
    lines = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert lines == {original: 0, unbound.id_sku: 1}
    assert world.settlement(order.gid).nfe["chave"]


def test_a_parked_picking_edit_and_its_held_invoice_resume_by_themselves(world: World) -> None:
    """Nobody replays anything: once the substitute is bound (the catalog sync), the orders
    catch-up pass resumes the parked edit, and the next pass the invoice held behind it."""
    from jobs import orders

    _original, order, unbound = _substituted_by_an_unpublished_sku(world)
    assert orders.run(world.shop_id)["resumed"] == 0  # still missing: nothing to resume

    world.publish(unbound)
    assert orders.run(world.shop_id)["resumed"] == 1  # the edit
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.messages("order_edits", order)[0].status == MessageStatus.DONE.value
    assert orders.run(world.shop_id)["resumed"] == 1  # the invoice, free now
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.messages("invoices", order)[0].status == MessageStatus.DONE.value
    assert world.settlement(order.gid).nfe["chave"]
    assert orders.run(world.shop_id)["resumed"] == 0


def test_a_held_invoice_whose_nfe_was_cancelled_later_is_skipped_not_reported(world: World) -> None:
    """The invoice is held behind its parked picking edit; the ERP then cancels the order and its
    NF-e, and the cancellation applies (and flags the order). When the edit resumes (skipped: the
    order is cancelled), the freed invoice must not fail as "cancelled but the ERP invoiced it"
    nor replace the cancellation's note: its NF-e is cancelled, so it is skipped saying so (by the
    cancellation, which settles the invoice and picking events before it). The notes the parked
    edit and the held invoice left go as each is settled; the cancellation's stays."""
    from jobs import orders

    _original, order, unbound = _substituted_by_an_unpublished_sku(world)
    assert world.messages("invoices", order)[0].status == MessageStatus.FAILED.value  # held
    world.erp.cancel(order.nro, "NF-e cancelada: cliente desistiu")
    world.poll()
    [cancel] = world.messages("cancellations", order)
    assert cancel.status == MessageStatus.DONE.value, cancel.error_text
    flag = world.link(order.gid).needs_attention
    assert flag and flag.startswith("cancellations"), flag  # read first
    # The parked picking and the held invoice are settled by the cancellation at once, their notes
    # with them (each one's Retry would skip it the same way): nothing of them is left to apply.
    assert "order_edits (ERP event #" not in flag and "invoices (ERP event #" not in flag, flag
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.SKIPPED.value, edit.error_text
    assert (
        f"ERP event #{cancel.unit_key.split(':')[1]} cancelled ERP order {order.nro} after this picking"
        in (edit.error_text or "")
    )
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.SKIPPED.value and "cancelled" in (invoice.error_text or "")
    cancelled = flag.splitlines()[0]

    world.publish(unbound)  # the catalog binds the substitute: the parked edit resumes by itself
    for _ in range(3):
        orders.run(world.shop_id)
        run_worker(burst=True, simple=True, with_scheduler=False)
    assert world.messages("order_edits", order)[0].status == MessageStatus.SKIPPED.value
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.SKIPPED.value, (invoice.status, invoice.error_text)
    assert "cancelled" in (invoice.error_text or ""), invoice.error_text
    assert world.link(order.gid).needs_attention == cancelled  # the cancellation's note is kept


def test_an_event_whose_job_was_lost_while_held_is_resumed_by_the_catch_up(world: World) -> None:
    """The invoice ran before its picking edit and was held (retrying); its RQ job is then gone
    (its retries ran out while the edit was slow, or Redis restarted). The orders catch-up replays
    it, as it does a lost order, instead of leaving it, and every later event, waiting for ever."""
    from rq.job import Job

    from jobs import order_catch_up
    from ledger import kv

    sku = world.plain(0)
    order = world.linked_order([(sku, 3)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    world.erp.invoice(order.nro)
    assert order_events.run(world.shop_id)["enqueued"] == 2
    [edit], [invoice] = world.messages("order_edits", order), world.messages("invoices", order)
    seq_s, seq_f = (int(m.unit_key.split(":")[1]) for m in (edit, invoice))
    with pytest.raises(Transient):
        invoices.apply_event(world.shop_id, seq_f)
    assert edits.apply_event(world.shop_id, seq_s) == MessageStatus.DONE.value
    redis = kv.get_redis()
    for job_id in (invoice.job_id, edit.job_id):
        Job.fetch(job_id, connection=redis).delete()
    assert world.messages("invoices", order)[0].status == MessageStatus.RETRYING.value

    counts = order_catch_up.run_catch_up(world.shop_id, stale_after_seconds=0)
    assert counts["stale"] >= 1
    run_worker(burst=True, simple=True, with_scheduler=False)
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text


def test_an_invoice_with_alterations_and_no_separation_event_edits_the_order_first(world: World) -> None:
    """ "Faturado com alteração" reported on the invoice alone (no 'S' event before it): its lines
    say what was cut, so the Shopify order is edited to match before the fulfillment and capture,
    and the same event again changes nothing."""
    from sqlalchemy import delete

    from sandbox.consinco import tables as t

    sku = world.plain(0)
    order = world.linked_order([(sku, 3)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    with world.erp.store.write() as (conn, _now):  # this ERP reports only the invoice
        events = t.mad_pedvendaevento
        conn.execute(delete(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
    world.poll()
    assert world.messages("order_edits", order) == []
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert world.order_doc(order.gid)["_lines"][0]["currentQuantity"] == 2
    assert [c.kind for c in world.line_changes(order.gid)] == ["cut"]
    state = world.settlement(order.gid)
    assert state.current_total == state.paid == Decimal(str(document["vlrTotal"]))
    assert invoices.replay(invoice.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid)["_lines"][0]["currentQuantity"] == 2
    assert len(world.line_changes(order.gid)) == 1


def test_a_shopify_side_edit_applied_before_the_picking_does_not_count_as_the_picking(world: World) -> None:
    """A person edited the order in Shopify before the separation and the app applied it to the ERP
    (flow order_edits too, but direction shopify_to_erp, unit `edit:<id>`): an altered invoice with
    no separation event still edits the Shopify order to the picking (it used to take that edit's
    done message for an applied picking, and fulfilled and charged an order the picking had cut)."""
    from sqlalchemy import delete

    from ledger import trace
    from ledger.db import session_scope
    from ledger.flows import SHOPIFY_TO_ERP
    from sandbox.consinco import tables as t

    sku = world.plain(0)
    order = world.linked_order([(sku, 3)], gateway="cartao", capture="manual")
    with session_scope() as session:
        edit = trace.begin(session, world.shop_id, "order_edits", "edit:991", SHOPIFY_TO_ERP,
                           shopify_id=order.gid, erp_id=str(order.nro))  # fmt: skip
        trace.succeed(session, edit, response={"nro_pedvenda": order.nro}, erp_id=str(order.nro))
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    with world.erp.store.write() as (conn, _now):  # this ERP reports only the invoice
        events = t.mad_pedvendaevento
        conn.execute(delete(events).where(events.c.nropedvenda == order.nro, events.c.tipoevento == "S"))
    world.poll()
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert world.order_doc(order.gid)["_lines"][0]["currentQuantity"] == 2, invoice.response_payload
    state = world.settlement(order.gid)
    assert state.current_total == state.paid == Decimal(str(document["vlrTotal"]))


def test_an_event_of_an_unknown_kind_is_traced_skipped_and_the_others_are_applied(world: World) -> None:
    """An EventoPedido of a kind the app does not know ('X') ahead of the order's invoice: it is not
    dropped with only a log line, but traced as a skipped message saying its kind and its ERP order
    (on the Messages list and the order's page); the invoice after it is applied (the whole poll
    used to stop on it; a failed one would hold the invoice), and a poll reading it again finds it
    traced, neither retried nor written twice."""
    import json

    from sqlalchemy import select, update

    from ledger import watermarks
    from ledger.db import session_scope
    from sandbox.consinco import tables as t
    from shopify_app import skip_words

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.invoice(order.nro)
    with world.erp.store.write() as (conn, _now):
        events = t.mad_pedvendaevento
        rows = (
            conn.execute(select(events).where(events.c.nropedvenda == order.nro).order_by(events.c.seqevento))
            .mappings()
            .all()
        )
        unknown = rows[0]["seqevento"]  # the ERP's unknown event comes first, the order's own after it
        for row in rows:
            later = world.erp.store.next_id(conn, events.c.seqevento)
            conn.execute(update(events).where(events.c.seqevento == row["seqevento"]).values(seqevento=later))
        data = {**json.loads(rows[0]["dados"]), "tipoEvento": "X"}
        conn.execute(events.insert().values({**rows[0], "seqevento": unknown, "tipoevento": "X",
                                             "dados": json.dumps(data)}))  # fmt: skip
    counts = world.poll()
    assert counts["ignored"] == 1
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    [traced] = [m for m in world.messages("order_edits", order) if m.unit_key == f"event:{unknown}"]
    assert traced.status == MessageStatus.SKIPPED.value
    assert traced.shopify_id == order.gid
    assert skip_words.reason(traced, "pt-BR") == (
        f"O evento {unknown} do pedido {order.nro} do ERP é de um tipo que o app não conhece (X): nada foi "
        "aplicado na Shopify; confira se o pedido na Shopify precisa de alguma mudança"
    )
    assert skip_words.reason(traced, "en") == (
        f"ERP event {unknown} of ERP order {order.nro} is of a kind the app does not know (X): nothing was "
        "applied in Shopify; check whether the order in Shopify needs a change"
    )

    known = world.traced_events()
    with session_scope() as session:
        watermarks.reset(session, world.shop_id, "order_events")  # re-read every event from the start
    again = world.poll()
    # the order's three events found traced (and any other the shop traced: World.traced_events); the
    # rest of the ERP's are other tests' shops' orders
    assert again["ignored"] == 0 and again["enqueued"] == 0 and again["seen"] == known >= 3
    assert again["unknown"] == again["read"] - known
    [still] = [m for m in world.messages("order_edits", order) if m.unit_key == f"event:{unknown}"]
    assert (still.id, still.status, still.attempts) == (traced.id, traced.status, traced.attempts)


def test_two_failed_events_of_one_flow_each_keep_their_note_until_each_is_settled(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tracking events of one NF-e (F #b, F #c) both refused by Shopify: each leaves its own
    note (#c's does not replace #b's); #c retried and applied clears its own only, as #b is still
    failed; #b retried (a later event gave the tracking: nothing to send) clears the last."""
    from jobs import invoice_tracking
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    real = invoice_tracking.fulfillment_tracking_update

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise ShopifyUserErrors("fulfillmentTrackingInfoUpdate", [UserError(("trackingInfoInput",), "busy")])

    monkeypatch.setattr(invoice_tracking, "fulfillment_tracking_update", refused)
    world.erp.track(order.nro, "BR000000011BR", carrier="Correios")
    world.erp.track(order.nro, "BR000000012BR", carrier="Correios")
    world.poll()
    applied, first, second = world.messages("invoices", order)
    assert applied.status == MessageStatus.DONE.value
    assert (first.status, second.status) == (MessageStatus.FAILED.value, MessageStatus.FAILED.value)
    seq_b, seq_c = (int(m.unit_key.split(":")[1]) for m in (first, second))
    notes = world.link(order.gid).needs_attention or ""
    assert f"invoices (ERP event #{seq_b}): " in notes and "BR000000011BR" in notes, notes
    assert f"invoices (ERP event #{seq_c}): " in notes and "BR000000012BR" in notes, notes

    monkeypatch.setattr(invoice_tracking, "fulfillment_tracking_update", real)
    assert invoices.replay(second.id) == MessageStatus.DONE.value
    notes = world.link(order.gid).needs_attention or ""
    assert f"invoices (ERP event #{seq_b}): " in notes and "BR000000011BR" in notes, notes  # still failed
    assert f"(ERP event #{seq_c})" not in notes, notes  # not "#{seq}": #100 is in "#1001-F1"
    assert invoices.replay(first.id) == MessageStatus.DONE.value
    assert world.link(order.gid).needs_attention is None

"""refunds/create runs the Shopify -> ERP edit (jobs.order_edits.to_erp.on_refund): what a person is
told when the ERP cannot take it. A refund cannot be reversed, so its note never says to undo it;
what the ERP needs depends on its status: before invoicing the picking changes, once invoiced
(its NF-e cannot change) a return invoice (nota de devolução) is issued."""

from __future__ import annotations

from ledger.models import MessageStatus

from .test_edits_and_cancels import edit_message, imported, refund_items_in_shopify


def refund_every_item(world, gid: str, refund_id: int):
    """A refund of every item (restocked): the refunds/create event of the first line, and every
    line's current quantity at 0, as Shopify shows the order next."""
    from sandbox.shopify import order_store, order_totals
    from sandbox.shopify.checkout import context

    event = refund_items_in_shopify(world, gid, world.sku(0), 2, refund_id=refund_id)
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        for line in order["_lines"]:
            line["currentQuantity"] = 0
        order_totals.recompute(order)
        order_store.save(ctx, order, touch=True)
    return event


def test_a_refund_of_items_after_invoicing_asks_for_a_return_invoice_not_a_picking_change(world):
    """The most common refund: a customer returns an item of an invoiced (F) order. Its NF-e cannot
    change, and there is no picking left to change: the note asks for a return invoice in the ERP,
    and the explanation of PEDIDO_FATURADO says so too."""
    from jobs import order_edits
    from shopify_app.api_explain import explain

    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=81)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "refunded" in note and f"ERP order {nro} is already invoiced" in note, note
    assert "return invoice (nota de devolução)" in note, note
    assert "picking" not in note and "undo" not in note, note
    message = edit_message(world, gid)
    assert message.error_detail["code"] == "PEDIDO_FATURADO"
    assert "return invoice" in explain(message, "en")["what_to_do"]
    assert "nota de devolução" in explain(message, "pt-BR")["what_to_do"]


def test_a_refund_of_every_item_is_called_a_refund_not_an_edit_to_undo(world):
    """Every item refunded (restocked) while the ERP still holds the order to pick: the note says
    the order was refunded and to cancel it in Shopify (the ERP order is cancelled with it); not
    that it 'was edited' nor to 'undo the edit', which a refund cannot be."""
    from jobs import order_edits

    gid, nro = imported(world)
    event = refund_every_item(world, gid, refund_id=82)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "every item refunded" in note and "cancel the order in Shopify" in note, note
    assert "was edited" not in note and "undo" not in note, note
    assert world.chain.order(nro)["situacaoPed"] == "L"  # nothing changed in the ERP


def test_a_refund_of_every_item_after_invoicing_asks_for_a_return_invoice(world):
    """Every item refunded of an invoiced order: its NF-e stands, so the ERP needs a return invoice
    for the items (cancelling in Shopify would not undo the NF-e either)."""
    from jobs import order_edits

    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    event = refund_every_item(world, gid, refund_id=83)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "every item refunded" in note and "return invoice (nota de devolução)" in note, note
    assert "undo" not in note and "picking" not in note, note


def test_a_refund_of_a_test_order_is_skipped_as_never_sent_not_as_waiting_for_its_import(world):
    """A Shopify test order is never sent to the ERP: its refund is skipped saying so, not that
    'the import will send its lines', which it never will."""
    from jobs import order_edits

    from .test_not_for_erp import change_order

    gid = world.place(gateway="pix")
    change_order(world, gid, lambda order: order.update(test=True))
    world.drain()
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=84)
    assert order_edits.on_refund(event) == MessageStatus.SKIPPED.value
    reason = edit_message(world, gid).error_text
    assert "never sent to the ERP" in reason and "test order" in reason, reason
    assert "import will send" not in reason, reason


def refund_shipped(world, gid: str, *, restock: bool, every: bool = False):
    """The order invoiced in the ERP and fulfilled in Shopify, then refunded in the admin: one unit of
    the first SKU (`every`: every unit of every line), restocked (RETURN: the goods came back) or
    not (NO_RESTOCK: the customer kept them). Returns its refunds/create as the inbox hands it over."""
    from jobs.inbox import WebhookEvent
    from sandbox.shopify.resolvers.order_refunds import refund_order
    from shopify_app.admin_api.client import for_shop

    client = for_shop(world.domain)
    for fo in client.fulfillment_orders(gid):
        if fo.status not in ("CLOSED", "CANCELLED"):
            client.fulfillment_create({fo.id: None})
    lines = world.order_doc(gid)["_lines"]
    wanted = (
        {li["id"]: li["currentQuantity"] for li in lines}
        if every
        else {next(li["id"] for li in lines if li.get("sku") == world.sku(0)): 1}
    )
    made = refund_order(world.shopify.sandbox, world.name, gid, wanted, restock=restock)
    refund_id = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund_id, "order_id": int(gid.rsplit("/", 1)[-1]), "restock": restock}
    return WebhookEvent(9900 + refund_id, "refunds/create", world.domain, f"r-{refund_id}", f"re-{refund_id}",
                        "2026-10", None, payload)  # fmt: skip


def _note_said(world, gid: str, locale: str) -> str:
    from jobs.order_edits.to_erp import FLOW
    from ledger import order_notes
    from shopify_app.note_words import say_note

    parts = order_notes.words_of_note(world.link(gid), FLOW)
    text = say_note([order_notes._stored(p) for p in parts or []], locale)
    assert text is not None, parts
    return text


def test_an_invoiced_refund_the_customer_kept_asks_for_the_receivable_not_only_a_return_invoice(world):
    """A shipped item refunded without restocking (a bruised melon the customer keeps): no goods come
    back, so no return invoice is due unless they did; the amount goes against the ERP order's
    receivable. The same refund restocked (RETURN) is a return: the return invoice, as before."""
    from jobs import order_edits

    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    assert order_edits.on_refund(refund_shipped(world, gid, restock=False)) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert f"ERP order {nro} is already invoiced" in note, note
    assert "neither restocked nor returned" in note and "against the ERP order's receivable" in note, note
    assert "must issue a return invoice" not in note, note
    pt = _note_said(world, gid, "pt-BR")
    assert "contas a receber" in pt and "não voltaram ao estoque" in pt, pt
    message = edit_message(world, gid)
    assert message.error_detail["code"] == "PEDIDO_FATURADO"

    other, nro2 = imported(world)
    world.chain.handle.erp.invoice(nro2)
    assert order_edits.on_refund(refund_shipped(world, other, restock=True)) == MessageStatus.FAILED.value
    note = world.link(other).needs_attention
    assert "must issue a return invoice (nota de devolução)" in note and "receivable" not in note, note


def test_an_invoiced_order_refunded_whole_with_the_goods_kept_is_said_so(world):
    """Every shipped item refunded, none restocked: the every-item note says the customer kept them
    (the receivable), in both languages; restocked, it asks for the return invoice."""
    from jobs import order_edits

    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    event = refund_shipped(world, gid, restock=False, every=True)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "every item refunded" in note and "against the ERP order's receivable" in note, note
    assert edit_message(world, gid).error_detail["code"] == "EDIT_LEFT_NO_ITEM"
    assert "contas a receber" in _note_said(world, gid, "pt-BR")

    other, nro2 = imported(world)
    world.chain.handle.erp.invoice(nro2)
    assert order_edits.on_refund(refund_shipped(world, other, restock=True, every=True)) == "failed"
    note = world.link(other).needs_attention
    assert "every item refunded" in note and "must issue a return invoice" in note, note
    assert "receivable" not in note, note

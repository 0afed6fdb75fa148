"""A refund of money only (a goodwill amount: nothing taken back) changes no ERP line, but the ERP's
receivable still counts the payment Shopify gave back in part: the order is flagged for a person,
naming the amount, the refunds and the ERP order's total, on a note of its own that later goodwill
refunds add to (once each) and a person closes; a refund handing back what an edit left owed to the
customer says nothing (jobs.order_edits.goodwill)."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_edits
from jobs.inbox import WebhookEvent
from jobs.order_edits import goodwill
from jobs.order_edits import to_erp as edits_to_erp
from ledger import order_notes
from ledger.models import MessageStatus
from sandbox.shopify.resolvers.order_refunds import refund_order
from shopify_app import note_words, skip_words
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported

TOPIC = goodwill.NOTE_TOPIC
BEYOND = "given back in Shopify beyond any item or freight taken back"


def refund_money(world, gid: str, amount: str) -> WebhookEvent:
    """A refund in the Shopify admin giving `amount` back with no item (the sandbox's Refund, with
    its REFUND transaction), and its refunds/create delivery as the inbox hands it over."""
    made = refund_order(world.shopify.sandbox, world.name, gid, {}, amount=Decimal(amount), note="amassado")
    refund_id = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund_id, "order_id": int(gid.rsplit("/", 1)[-1]), "refund_line_items": []}
    return WebhookEvent(refund_id, "refunds/create", world.domain, f"r-{refund_id}", f"re-{refund_id}",
                        "2026-10", None, payload)  # fmt: skip


def _erp_total(world, nro: int) -> Decimal:
    return Decimal(str(world.chain.order(nro)["vlrTotalPedido"]))


def test_a_goodwill_refund_before_picking_flags_the_order_and_changes_no_erp_line(world) -> None:
    gid, nro = imported(world, gateway="pix")
    before = world.chain.order(nro)
    event = refund_money(world, gid, "10.00")
    assert order_edits.on_refund(event) == MessageStatus.SKIPPED.value
    assert world.chain.order(nro)["itens"] == before["itens"]  # nothing sent to the ERP
    message = world.message(gid, "order_edits", f"edit:refund-{event.payload['id']}")
    assert message is not None and message.status == MessageStatus.SKIPPED.value
    refund = event.payload["id"]
    assert message.error_text == (
        f"refund {refund} gave back 10.00 with nothing taken back: nothing to change in ERP order {nro}; "
        "the order is flagged for the amount to be recorded there"
    )
    assert skip_words.reason(message, "pt-BR") == (
        f"O reembolso {refund} devolveu R$ 10,00 sem nada devolvido em troca: nada a mudar no pedido {nro} "
        "do ERP; o pedido foi sinalizado para que o valor seja registrado lá"
    )
    link = world.link(gid)
    total = _erp_total(world, nro)
    note = order_notes.note_of(link, "order_edits", topic=TOPIC)
    assert note == (
        f"order_edits (money refunded): Order {link.shopify_order_name} had 10.00 {BEYOND} (refund "
        f"{refund}): ERP order {nro} still totals {total} and counts the payment in full. Record what was "
        "given back in the ERP: a discount on the order before it is invoiced, else against its receivable."
    )
    [mine] = [n for n in order_notes.notes(link) if n.topic == TOPIC]
    said = note_words.note_text(mine, order_notes.words_of(link), "pt-BR")
    assert said.startswith(f"O pedido {link.shopify_order_name} teve R$ 10,00 devolvidos na Shopify"), said
    assert f"(reembolso {refund}): o pedido {nro} do ERP continua somando R$ " in said, said


def test_goodwill_refunds_add_up_on_one_note_once_each_and_survive_an_applied_edit(world) -> None:
    gid, nro = imported(world, gateway="pix", skus=[(world.sku(0), 3), (world.sku(1), 1)])
    first = refund_money(world, gid, "4.50")
    second = refund_money(world, gid, "2.25")
    order_edits.on_refund(first)
    order_edits.on_refund(second)
    message = world.message(gid, "order_edits", f"edit:refund-{first.payload['id']}")
    assert edits_to_erp.replay(message.id) == MessageStatus.SKIPPED.value  # a replay adds nothing
    ids = f"{first.payload['id']}, {second.payload['id']}"
    note = order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) or ""
    assert f"had 6.75 {BEYOND} (refunds {ids})" in note, note

    # An edit the ERP takes clears the flow's own note, not this one: the money is still to record.
    edit_in_shopify(world, gid, world.sku(0), 2)
    world.drain()
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 2
    assert "had 6.75 given back" in (order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) or "")


def test_a_goodwill_refund_after_invoicing_is_flagged_too(world) -> None:
    gid, nro = imported(world, gateway="pix")
    world.chain.handle.erp.invoice(nro)
    event = refund_money(world, gid, "5.00")
    assert order_edits.on_refund(event) == MessageStatus.SKIPPED.value
    note = order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) or ""
    assert f"had 5.00 {BEYOND} (refund {event.payload['id']})" in note
    assert order_notes.note_of(world.link(gid), "order_edits") is None  # nothing else to flag


def test_a_refund_of_what_an_edit_left_owed_to_the_customer_says_nothing(world) -> None:
    """An edit took a unit off a paid order (the ERP took it): Shopify shows the customer owed the
    difference, and the merchant refunds just that with no item (the items left by the edit). The
    ERP order already totals what the customer keeps paying: no note."""
    gid, nro = imported(world, gateway="pix", skus=[(world.sku(0), 3), (world.sku(1), 1)])
    paid = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    edit_in_shopify(world, gid, world.sku(0), 2)
    world.drain()
    now = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert _erp_total(world, nro) == now < paid
    event = refund_money(world, gid, str(paid - now))
    assert order_edits.on_refund(event) == MessageStatus.SKIPPED.value
    message = world.message(gid, "order_edits", f"edit:refund-{event.payload['id']}")
    assert message.error_text == f"ERP order {nro} already has these lines"
    assert order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) is None


def test_a_refund_of_an_item_giving_more_than_its_value_changes_the_erp_and_notes_the_rest(world) -> None:
    """1 unit refunded, its value plus R$ 5,00 given back (typed over the calculated amount): the ERP
    order loses the unit (the edit applied, done) and the 5,00 is noted for its receivable."""
    from sandbox.shopify import order_store

    gid, nro = imported(world, gateway="pix", skus=[(world.sku(0), 3), (world.sku(1), 1)])
    with order_store.for_control(world.shopify.sandbox, world.name, gid) as (_ctx, order):
        line = next(li for li in order["_lines"] if li.get("sku") == world.sku(0))
    unit = Decimal(line["discountedUnitPriceAfterAllDiscountsSet"]["shopMoney"]["amount"])
    more = unit + Decimal("5.00")
    made = refund_order(world.shopify.sandbox, world.name, gid, {line["id"]: 1}, amount=more)
    refund = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund, "order_id": int(gid.rsplit("/", 1)[-1]), "refund_line_items": []}
    event = WebhookEvent(refund, "refunds/create", world.domain, f"r-{refund}", f"re-{refund}", "2026-10",
                         None, payload)  # fmt: skip
    assert order_edits.on_refund(event) == MessageStatus.DONE.value
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 2
    note = order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) or ""
    assert f"had 5.00 {BEYOND} (refund {refund})" in note
    assert f"ERP order {nro} still totals {_erp_total(world, nro)}" in note, note


def test_a_goodwill_note_goes_with_the_order_cancelled(world) -> None:
    """Cancelled after a goodwill refund: the ERP order is cancelled, its receivable with it; the
    note asking to record the amount given back goes (the cancellation settles the money)."""
    from tests.orders_in.test_edits_and_cancels import cancel_in_shopify

    gid, nro = imported(world, gateway="pix")
    order_edits.on_refund(refund_money(world, gid, "3.00"))
    assert order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    assert order_notes.note_of(world.link(gid), "order_edits", topic=TOPIC) is None


def test_a_goodwill_refund_before_the_import_is_flagged_by_the_import(world) -> None:
    """The order waited (its Pix not mapped yet) while the merchant gave 10.00 back, nothing taken
    back: its refunds/create was skipped, the order not in the ERP yet, and the import books the
    order's total as paid. The import flags it as a goodwill refund after it would be."""
    from jobs import orders
    from ledger import mappings
    from ledger.db import session_scope

    with session_scope() as session:
        assert mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place([(world.sku(0), 2)], gateway="pix")
    world.drain()
    waiting = world.message(gid)
    assert waiting.status == MessageStatus.PARKED.value, waiting.error_text
    event = refund_money(world, gid, "10.00")
    assert order_edits.on_refund(event) == MessageStatus.SKIPPED.value  # not in the ERP yet
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")

    assert orders.replay(waiting.id) == "done", world.message(gid).error_text

    link = world.link(gid)
    nro, total, refund = link.nro_pedvenda, _erp_total(world, link.nro_pedvenda), event.payload["id"]
    assert order_orders_note(link) == (
        f"order_edits (money refunded): Order {link.shopify_order_name} had 10.00 {BEYOND} (refund "
        f"{refund}): ERP order {nro} still totals {total} and counts the payment in full. Record what was "
        "given back in the ERP: a discount on the order before it is invoiced, else against its receivable."
    )


def test_an_order_refunded_in_items_before_the_import_is_not_flagged(world) -> None:
    """Items taken back before the import leave the current total and the money kept alike: the
    import sends what is left, and there is nothing to record."""
    from jobs import orders
    from ledger import mappings
    from ledger.db import session_scope

    with session_scope() as session:
        assert mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place([(world.sku(0), 2), (world.sku(1), 1)], gateway="pix")
    world.drain()
    waiting = world.message(gid)
    from sandbox.shopify import order_store

    with order_store.for_control(world.shopify.sandbox, world.name, gid) as (_ctx, order):
        line = next(li for li in order["_lines"] if li.get("sku") == world.sku(1))
    refund_order(world.shopify.sandbox, world.name, gid, {line["id"]: 1})  # its value given back with it
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")

    assert orders.replay(waiting.id) == "done", world.message(gid).error_text

    assert order_orders_note(world.link(gid)) is None


def order_orders_note(link):
    return order_notes.note_of(link, "order_edits", topic=TOPIC)

"""Order edits and cancellations from Shopify to the ERP, before and after the ERP moved on."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import by_hand
import pytest
from sqlalchemy import select

from jobs import orders
from jobs.order_edits import to_erp as edits_to_erp
from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus, OrderLineChange
from sandbox.shopify.checkout import pay_balance, place_order
from shopify_app import fail_words
from shopify_app.admin_api import for_shop, order_edit_discounts


def imported(world, **options) -> tuple[str, int]:
    gid = world.place(**options)
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    return gid, link.nro_pedvenda


def discount_in_shopify(world, gid: str, sku: str, per_unit: Decimal) -> None:
    """An order edit in the Shopify admin that only adds a line discount ("cortesia")."""
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(world.variants[sku])
    order_edit_discounts.add_line_item_discount(
        client.executor, edit.calculated_order_id, line.id, per_unit, "BRL", description="cortesia"
    )
    client.order_edit_commit(edit.calculated_order_id)


def placed_with_its_erp_answer_lost(
    world, monkeypatch, *, quantity: int, shipping: str | None = None
) -> tuple[str, str]:
    """An order placed and imported, whose POST the ERP committed but whose answer the app never
    got (the import failed transient); (its gid, its number). The ERP answers normally after.
    `shipping`: a SHIPPING_RATES code (else the checkout picks one at random, a pickup included)."""
    from erp.client import ErpClient
    from jobs import orders
    from ledger.errors import Transient

    real = ErpClient.insert_order

    def answer_lost(self, order):
        real(self, order)  # the ERP commits the order ...
        raise Transient("read timeout")  # ... and the app never hears back

    monkeypatch.setattr(ErpClient, "insert_order", answer_lost)
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": quantity}],
                      gateway="pix", discount_rate=0.0, shipping=shipping)  # fmt: skip
    world.delivered()
    num = gid.rsplit("/", 1)[-1]
    with pytest.raises(Transient):
        orders.import_order(world.shop_id, num, trigger="orders/create")
    monkeypatch.setattr(ErpClient, "insert_order", real)
    return gid, num


def edit_in_shopify(world, gid: str, sku: str, quantity: int) -> None:
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    line = edit.line_for_variant(world.variants[sku])
    client.order_edit_set_quantity(edit.calculated_order_id, line.id, quantity)
    client.order_edit_commit(edit.calculated_order_id)


def cancel_in_shopify(world, gid: str) -> None:
    """orderCancel is asynchronous: wait for Shopify's job (orders/cancelled is sent when it ends)."""
    by_hand.cancel_in_shopify(world.domain, gid)


def edit_message(world, gid: str):
    with session_scope() as session:
        from ledger.models import Message

        return session.scalars(select(Message).where(Message.flow == "order_edits")).one()


def line_changes() -> list[OrderLineChange]:
    with session_scope() as session:
        return list(session.scalars(select(OrderLineChange).order_by(OrderLineChange.id)))


def test_edit_before_separation_is_applied_in_the_erp(world):
    gid, nro = imported(world, discount_code="VOLTEI5", discount_percent=5.0)
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    erp_order = world.chain.order(nro)
    quantities = {i["idSku"]: i["qtdPedida"] for i in erp_order["itens"]}
    assert quantities[world.sku(0)] == 3
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(erp_order["vlrTotalPedido"])) == shopify_total  # still equal to the cent
    [change] = line_changes()
    assert (change.kind, change.sku, change.qty_before, change.qty_after, change.applied) == (
        "qty",
        world.sku(0),
        Decimal(2),
        Decimal(3),
        True,
    )
    assert change.direction == "shopify_to_erp"
    assert edits_to_erp.replay(message.id) == "skipped"  # run twice: the ERP already has these lines


def test_a_discount_added_by_an_edit_reaches_the_erp_at_the_same_quantities(world):
    """An edit that only changes money (a line discount, no quantity) is still an edit: the ERP's
    total must follow Shopify's, or the capture (which follows the NF-e) charges the old price."""
    gid, nro = imported(world)
    discount_in_shopify(world, gid, world.sku(0), Decimal("1.00"))
    world.drain()

    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(world.chain.order(nro)["vlrTotalPedido"])) == shopify_total
    [change] = line_changes()
    assert (change.kind, change.sku, change.qty_before, change.qty_after, change.applied) == (
        "price",
        world.sku(0),
        Decimal(2),
        Decimal(2),
        True,
    )
    assert edits_to_erp.replay(message.id) == "skipped"  # the ERP has these lines and values now


def test_edit_after_separation_is_flagged_for_a_person(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro)
    edit_in_shopify(world, gid, world.sku(1), 0)  # remove a line
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected"
    assert "NOT applied in the ERP" in message.error_text and str(nro) in message.error_text
    assert world.link(gid).needs_attention == f"order_edits: {message.error_text}"
    assert [c.applied for c in line_changes()] == [False]
    assert world.chain.order(nro)["situacaoPed"] == "S"


def test_a_discount_added_after_separation_is_flagged_not_taken_for_the_erps_echo(world):
    """After separation the quantities still match what the ERP serves, but the money does not:
    not the echo of the ERP's own picking edit, so it is flagged for a person, not skipped."""
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})  # picking started, nothing cut
    discount_in_shopify(world, gid, world.sku(0), Decimal("1.00"))
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and "NOT applied in the ERP" in message.error_text
    assert world.link(gid).needs_attention == f"order_edits: {message.error_text}"


def remove_every_item(world, gid: str) -> None:
    """A person's edit in Shopify setting both lines of `imported`'s order to 0, handled."""
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    for sku in (world.sku(0), world.sku(1)):
        client.order_edit_set_quantity(
            edit.calculated_order_id, edit.line_for_variant(world.variants[sku]).id, 0
        )
    client.order_edit_commit(edit.calculated_order_id)
    client.close()
    world.drain()


def test_an_edit_that_removes_every_item_is_flagged_for_a_person(world):
    gid, nro = imported(world)
    remove_every_item(world, gid)
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and "leave no item" in message.error_text
    assert world.link(gid).needs_attention == f"order_edits: {message.error_text}"
    assert world.chain.order(nro)["situacaoPed"] == "L"  # nothing changed in the ERP


def test_cancel_before_invoice_cancels_the_erp_order(world):
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    link = world.link(gid)
    assert link.erp_status == "C" and link.cancelled_at is not None and link.needs_attention is None
    assert (
        world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}").status
        == MessageStatus.DONE.value
    )


def test_a_cancellation_delivered_again_later_leaves_the_done_record_as_it_was(world, monkeypatch):
    """orders/cancelled again under a new event id (Shopify's at-least-once, minutes late): the ERP
    order cancelled once, its message stays done saying so (it ended skipped "already cancelled")."""
    from erp.client import ErpClient
    from jobs.cancellations import to_erp as cancel_to_erp

    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()
    unit = f"cancel:{gid.rsplit('/', 1)[-1]}"
    first = world.message(gid, "cancellations", unit)
    assert first.status == MessageStatus.DONE.value
    monkeypatch.setattr(ErpClient, "cancel_order", lambda *a, **k: pytest.fail("cancelled twice"))
    assert cancel_to_erp.cancel_in_erp(world.shop_id, gid, "again") == MessageStatus.DONE.value
    again = world.message(gid, "cancellations", unit)
    assert (again.status, again.attempts, again.updated_at) == (
        first.status,
        first.attempts,
        first.updated_at,
    )
    assert world.chain.order(nro)["situacaoPed"] == "C"


def test_cancel_after_invoice_is_flagged_not_undone(world):
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert message.status == MessageStatus.FAILED.value and "already invoiced" in message.error_text
    assert "NF-e" in world.link(gid).needs_attention
    assert world.chain.order(nro)["situacaoPed"] == "F"
    said = fail_words.reason(message, "pt-BR")  # the Messages page, to a pt-BR merchant
    assert said and "já está faturado" in said and "already invoiced" not in said, said


def test_an_erp_that_words_its_conflicts_otherwise_is_read_by_the_orders_status(world, monkeypatch):
    """Another installation answers 409 with its own code: the order's status, read again, tells an
    invoiced order (the cancellation is flagged) and a separated one (the edit is flagged)."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected

    def conflict(self, *args, **kwargs):
        raise ErpRejected("Operação não permitida para a situação do pedido.", codigo="E409", status=409)

    def separated_meanwhile(self, nro, *args, **kwargs):  # picking began between the read and the PUT
        world.chain.handle.erp.separate(nro, weights={})
        conflict(self)

    def invoiced_meanwhile(self, nro, *args, **kwargs):  # invoiced between the state read and the cancel
        world.chain.handle.erp.invoice(nro)
        conflict(self)

    monkeypatch.setattr(ErpClient, "cancel_order", invoiced_meanwhile)
    monkeypatch.setattr(ErpClient, "edit_order", separated_meanwhile)
    gid, _nro = imported(world)
    edit_in_shopify(world, gid, world.sku(1), 0)
    world.drain()
    edited = edit_message(world, gid)
    assert edited.status == MessageStatus.FAILED.value and "NOT applied in the ERP" in edited.error_text
    cancel_in_shopify(world, gid)
    world.drain()
    message = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert message.status == MessageStatus.FAILED.value and "already invoiced" in message.error_text
    # Explained as an invoiced cancellation (api_explain FLOW_CODES), the ERP's own code kept.
    assert (message.error_detail["code"], message.error_detail["erp_code"]) == ("PEDIDO_FATURADO", "E409")


def test_cancel_of_an_order_never_sent_closes_its_pending_message(world):
    gid = place_order(
        world.shopify.sandbox,
        world.name,
        lines=[{"sku": world.sku(0), "quantity": 1}],
        gateway="boleto",
        discount_rate=0.0,
    )
    world.drain()
    assert world.message(gid).status == MessageStatus.PENDING.value
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.message(gid).status == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []


def test_cancel_after_the_erp_answer_was_lost_learns_the_number_and_cancels_it(world, monkeypatch):
    """The ERP took the order but its answer never came back (a timeout); Shopify then cancels.
    The link has no NROPEDVENDA, yet the ERP holds a live order: the cancellation runs the import
    again first (idempotent on idPedidoCanalVenda: the ERP answers the order it holds), then
    cancels it. It is not closed as "never sent"."""
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)
    assert world.link(gid).nro_pedvenda is None and held["situacaoped"] != "C"

    cancel_in_shopify(world, gid)
    world.drain()

    [erp_order] = world.erp_orders_for(gid)  # the same order, no second one
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"
    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.link(gid).nro_pedvenda == held["nropedvenda"]
    assert world.message(gid).status == MessageStatus.DONE.value  # the import learned the number


def test_an_edit_made_while_the_erps_answer_was_lost_reaches_the_erp(world, monkeypatch):
    """The import's POST was taken by the ERP but its answer lost; the merchant changed 3 -> 1 before
    the retry (that edit was skipped: "not in the ERP yet"). The retry learns the order the ERP
    holds, with the old lines, and runs the edit once: the ERP gets 1, not 3."""
    from jobs import orders

    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=3)
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.delivered()
    from sqlalchemy import select as query

    from jobs import inbox
    from ledger.models import Message, WebhookInbox

    with session_scope() as session:
        edited = session.scalars(query(WebhookInbox.id).where(WebhookInbox.topic == "orders/edited")).one()
    inbox.process(edited)  # its job runs first: "not in the ERP yet"
    with session_scope() as session:
        [skipped] = session.scalars(query(Message).where(Message.flow == "order_edits")).all()
        assert skipped.status == MessageStatus.SKIPPED.value
        assert skipped.error_detail["skip"] == {"key": "edit_not_in_erp_yet", "params": {}}  # for the pages
    assert orders.import_order(world.shop_id, num, trigger="retry") == "done"  # the ERP had it
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert {i["idSku"]: i["qtdPedida"] for i in items}[world.sku(0)] == 1


def refund_items_in_shopify(world, gid: str, sku: str, units: int, refund_id: int):
    """A refund that takes `units` of `sku` back (refundCreate with refundLineItems): Shopify
    lowers the line's currentQuantity, recomputes the current totals and sends refunds/create (no
    orders/edited). Returns the refunds/create delivery as the inbox hands it to its handler."""
    from jobs.inbox import WebhookEvent
    from sandbox.shopify import order_store, order_totals
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        line = next(li for li in order["_lines"] if li.get("sku") == sku)
        line["currentQuantity"] -= units
        order_totals.recompute(order)
        order_store.save(ctx, order, touch=True)
        line_id = line["id"]
    payload = {
        "id": refund_id,
        "order_id": int(gid.rsplit("/", 1)[-1]),
        "restock": True,
        "refund_line_items": [
            {"line_item_id": int(line_id.rsplit("/", 1)[-1]), "quantity": units, "restock_type": "cancel"}
        ],
    }
    return WebhookEvent(9800 + refund_id, "refunds/create", world.domain, f"r-{refund_id}", f"re-{refund_id}",
                        "2026-10", None, payload)  # fmt: skip


def test_a_refund_that_takes_items_back_before_separation_changes_the_erp_order(world):
    """Shopify sends no orders/edited for a refund of items (a Pix order refunded in part before
    picking): refunds/create changes the ERP order like an edit, so the ERP does not pick, invoice
    and charge the units the customer got their money back for."""
    from jobs import order_edits

    gid, nro = imported(world)
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=71)  # 2 -> 1
    assert order_edits.on_refund(event) == "done"
    erp_order = world.chain.order(nro)
    assert {i["idSku"]: i["qtdPedida"] for i in erp_order["itens"]}[world.sku(0)] == 1
    shopify_total = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"])
    assert Decimal(str(erp_order["vlrTotalPedido"])) == shopify_total
    assert order_edits.on_refund(event) == "skipped"  # delivered again: the ERP has these lines


def test_a_refund_of_items_after_separation_is_flagged_for_a_person(world):
    from jobs import order_edits

    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro)
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=72)
    assert order_edits.on_refund(event) == MessageStatus.FAILED.value
    note = world.link(gid).needs_attention
    assert "refunded (items taken back)" in note and "delivers only what is still paid for" in note
    assert "undo" not in note


def change_order(world, gid: str, change) -> None:
    """Change the Shopify sandbox's order document in place (what Shopify shows next)."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        change(ctx, order)
        order_store.save(ctx, order, touch=True)


def test_a_cancelled_order_whose_answer_was_lost_is_learned_as_it_was_posted(world, monkeypatch):
    """Shopify's cancel (refund + restock) leaves every line's currentQuantity at 0 (the sandbox
    shows it so). Mapping the order as it is now has no line to send, so the cancellation's
    import posts again the input of the first POST (kept on its message): it learns the ERP
    order the lost answer was for, and the cancellation cancels it instead of closing it as
    "never sent"."""
    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)
    cancel_in_shopify(world, gid)
    assert [line["currentQuantity"] for line in world.order_doc(gid)["_lines"]] == [0]
    world.drain()

    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nropedvenda"] == held["nropedvenda"] and erp_order["situacaoped"] == "C"
    cancel = world.message(gid, "cancellations", f"cancel:{num}")
    assert cancel.status == MessageStatus.DONE.value, cancel.error_text
    assert world.link(gid).nro_pedvenda == held["nropedvenda"]


def test_the_kept_input_of_a_post_holds_no_personal_data(world, monkeypatch):
    """The input kept to post an order again has no customer and no note: redacting the customer
    (ledger.privacy.scrub) finds nothing to erase in it."""
    from ledger.privacy import scrub

    gid, _ = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=2)
    posted = world.message(gid).request_payload["posted"]
    assert posted["channel_order_id"] == gid and posted["lines"][0]["qty"] == "2"
    assert "customer" not in posted and "obs" not in posted
    assert scrub(posted) == posted


def test_an_order_the_erp_took_whose_answer_was_lost_learns_its_number_when_refunded(world, monkeypatch):
    """The ERP took the order, its answer was lost; the merchant then refunds all of it in
    Shopify (no cancel). The retry does not skip it as "will not be paid": the link exists, so
    the order may be in the ERP, and it is posted again to learn its number (the ERP answers the
    order it holds): the order ends as any imported order does, its link holding its number."""
    from jobs import orders
    from sandbox.shopify import order_store

    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)
    [held] = world.erp_orders_for(gid)

    def refund_all(ctx, order):
        paid = next(t for t in order["_transactions"] if t["kind"] == "SALE")
        value, gateway = Decimal(paid["amountSet"]["shopMoney"]["amount"]), paid["gateway"]
        refund = order_store.new_transaction(ctx, "REFUND", "SUCCESS", gateway, value, parent_id=paid["id"])
        order["_transactions"].append(refund)

    change_order(world, gid, refund_all)
    assert world.order_doc(gid)["displayFinancialStatus"] == "REFUNDED"
    assert orders.import_order(world.shop_id, num, trigger="retry") == "done"
    assert [o["nropedvenda"] for o in world.erp_orders_for(gid)] == [held["nropedvenda"]]
    assert world.link(gid).nro_pedvenda == held["nropedvenda"]
    assert world.message(gid).status == MessageStatus.DONE.value


def test_an_order_the_erp_refused_is_mapped_again_on_its_retry(world, monkeypatch):
    """The ERP refused the POST's body (422): it holds no order under its key, so the kept input
    is dropped and the next attempt maps the order as it is now (a fix is picked up)."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected
    from jobs import orders

    def refused(self, order):
        raise ErpRejected("Produto inativo", codigo="PRODUTO_INATIVO", status=422)

    real = ErpClient.insert_order
    monkeypatch.setattr(ErpClient, "insert_order", refused)
    gid = world.place(gateway="pix")
    world.drain()
    assert world.message(gid).status == MessageStatus.FAILED.value
    assert "posted" not in world.message(gid).request_payload
    monkeypatch.setattr(ErpClient, "insert_order", real)
    num = gid.rsplit("/", 1)[-1]
    assert orders.import_order(world.shop_id, num, trigger="replay") == "done"
    assert world.link(gid).nro_pedvenda is not None


def test_an_edit_made_while_the_answer_was_lost_survives_a_redis_blip_at_the_recheck(world, monkeypatch):
    """The retry learns the order the ERP holds (with the old lines); the recheck that applies the
    skipped edit is left as a pending order_edits message before its job is enqueued, so a Redis
    error at that enqueue only delays it: the catch-up pass runs it, and the ERP gets 1, not 3."""
    from redis.exceptions import RedisError
    from sqlalchemy import select as query

    from jobs import inbox, orders
    from ledger.models import WebhookInbox

    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=3)
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.delivered()
    with session_scope() as session:
        edited = session.scalars(query(WebhookInbox.id).where(WebhookInbox.topic == "orders/edited")).one()
    inbox.process(edited)  # "not in the ERP yet"
    real = orders.queues.enqueue

    def blip(func_path, *args, **kwargs):
        if func_path == orders.EDIT_JOB:
            raise RedisError("connection reset")
        return real(func_path, *args, **kwargs)

    monkeypatch.setattr(orders.queues, "enqueue", blip)
    assert orders.import_order(world.shop_id, num, trigger="retry") == "done"
    monkeypatch.setattr(orders.queues, "enqueue", real)
    recheck = world.message(gid, "order_edits", f"edit:import-{num}")
    assert recheck is not None and recheck.status == MessageStatus.PENDING.value
    orders.run(world.shop_id, stale_after_seconds=0)  # the catch-up pass
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert {i["idSku"]: i["qtdPedida"] for i in items}[world.sku(0)] == 1
    assert world.message(gid, "order_edits", f"edit:import-{num}").status == MessageStatus.DONE.value


def test_a_cancel_whose_erp_number_cannot_be_learned_fails_for_a_person_not_closed(world, monkeypatch):
    """The ERP took the order, its answer was lost, and by the cancellation the ERP refuses the order
    posted again (so its number stays unknown). The ERP may hold it live: the cancellation fails
    naming where to look, the link is flagged, and the orders message is not closed as never sent."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected

    gid, num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1)

    def refused(self, order):
        raise ErpRejected("cliente bloqueado", codigo="CLIENTE_BLOQUEADO", status=422)

    monkeypatch.setattr(ErpClient, "insert_order", refused)
    cancel_in_shopify(world, gid)
    world.drain()

    message = world.message(gid, "cancellations", f"cancel:{num}")
    assert message.status == MessageStatus.FAILED.value
    assert (message.error_detail or {}).get("code") == "CANCEL_ERP_NUMBER_UNKNOWN", message.error_detail
    assert "cliente bloqueado" in message.error_text and "look it up in the ERP" in message.error_text
    assert world.link(gid).needs_attention.startswith("cancellations: ")
    said = fail_words.reason(message, "pt-BR")  # the Messages page, to a pt-BR merchant
    assert said and "cliente bloqueado" in said and "procure-o no ERP" in said, said
    assert world.message(gid).status != MessageStatus.SKIPPED.value  # not closed as never sent
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["situacaoped"] != "C"  # the ERP still holds it: that is what the flag says


def _no_payment(real):
    def read(*args, **kwargs):
        got = real(*args, **kwargs)
        if got is None:
            return got
        paid = {"transactions": [], "payment_gateway_names": [], "financial_status": "PAID"}
        order = dataclasses.replace(got.order, **paid)
        return dataclasses.replace(got, order=order)

    return read


def test_an_edit_of_an_order_paid_with_no_payment_recorded_reaches_the_erp(world, monkeypatch):
    """An order Shopify shows PAID with no payment recorded goes under the "(no payment)" De:Para;
    its edits send the payment forms by the same names, so they reach the ERP instead of parking
    for good on a mapping that already exists."""
    monkeypatch.setattr(orders, "read_order_for_erp", _no_payment(orders.read_order_for_erp))
    monkeypatch.setattr(edits_to_erp, "read_order_for_erp", _no_payment(edits_to_erp.read_order_for_erp))
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "(no payment)", "2")
    gid = world.place()
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    nro = link.nro_pedvenda
    edit_in_shopify(world, gid, world.sku(0), 3)  # 2 -> 3, before separation
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[world.sku(0)] == 3

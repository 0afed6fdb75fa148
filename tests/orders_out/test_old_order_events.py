"""Shopify lets an app read the last 60 days of orders only, unless it holds read_all_orders (the app
does not ask for it): an order placed longer ago reads null, as a deleted one does. An ERP event for
such an order (an NF-e of an order paid on its 70th day, B2B payment terms; a late cancellation; a
picking edit) must not tell the merchant the order "does not exist" in Shopify: it exists, the app
may not read it. The message fails as ORDER_TOO_OLD_TO_READ, saying what to do by hand and how to
close it; closed as handled, it holds the order's later events no longer. An order deleted in
Shopify (seen lately, or read null with the scope granted) still does not exist."""

from __future__ import annotations

from jobs import old_orders, orders
from jobs.order_event_codec import event_from_payload
from jobs.worker import run_worker
from ledger import handled
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Shop
from shopify_app.api_explain import explain
from shopify_app.fail_words import reason

from .conftest import LinkedOrder, World
from .test_reconcile_old_orders import _placed_long_ago, _seen_long_ago


def _old_order(world: World) -> LinkedOrder:
    """An order the app imported 70 days ago (paid since: linked and sent to the ERP today)."""
    old = world.linked_order([(world.plain(0), 2)], gateway="pix")
    _placed_long_ago(world, old.gid)
    _seen_long_ago(world, old.gid)
    assert world.settlement(old.gid) is None  # Shopify answers null: the grant does not reach it
    return old


def _too_old(message: Message) -> None:
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert (message.error_detail or {}).get("code") == old_orders.TOO_OLD, message.error_detail
    assert "does not exist" not in (message.error_text or ""), message.error_text
    assert reason(message, "en") == message.error_text  # the words say what the English says
    said = reason(message, "pt-BR") or ""
    assert said.startswith("A Shopify não deixa mais o app ler o pedido #") and "read_all_orders" in said, (
        said
    )
    assert "gid://" not in said, said  # the order by its name (#1001), as the merchant knows it
    assert "marque esta mensagem como resolvida" in said and "Tentar de novo" in said, said


def _close(message: Message, note: str) -> None:
    with session_scope() as session:
        handled.mark(session, session.get(Message, message.id), by="31", note=note)


def _invoiced(world: World, order: LinkedOrder) -> tuple[Message, Message]:
    """The ERP separates (S) and invoices (F) the order, the poll applies both: (edit, invoice)."""
    world.erp.invoice(order.nro)
    world.poll()
    [edit] = world.messages("order_edits", order)
    [invoice] = world.messages("invoices", order)
    return edit, invoice


def test_an_invoice_of_an_order_older_than_60_days_does_not_say_it_does_not_exist(world: World) -> None:
    old = _old_order(world)
    edit, invoice = _invoiced(world, old)

    _too_old(edit)  # the picking before it cannot be read either
    assert "Apply the ERP's picking changes of event #" in (edit.error_text or "")
    # Held behind it, the invoice says how it gets free: no "fix and replay" that cannot work.
    assert (invoice.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED", invoice.error_text
    assert "does not exist" not in (invoice.error_text or "") and "fix and replay" not in invoice.error_text
    assert "marked as handled, this event resumes by itself" in invoice.error_text
    assert reason(invoice, "en") == invoice.error_text
    assert "marcado como resolvido, este evento segue sozinho" in (reason(invoice, "pt-BR") or "")
    assert orders.run(world.shop_id)["resumed"] == 0  # held while the picking is failed

    _close(edit, "nothing changed at picking")  # a person clears it: the invoice resumes by itself
    assert orders.run(world.shop_id)["resumed"] == 1
    run_worker(burst=True, simple=True, with_scheduler=False)
    [message] = world.messages("invoices", old)
    _too_old(message)
    key = event_from_payload(message.request_payload or {}).invoice.key
    assert f"Apply NF-e {key} to the order" in (message.error_text or "")
    assert f"Aplique a NF-e {key} ao pedido" in (reason(message, "pt-BR") or "")
    for locale in ("pt-BR", "en"):
        said = explain(message, locale)
        assert said["code"] == old_orders.TOO_OLD and "read_all_orders" in said["what_happened"], said
    said = explain(message, "en")
    assert said["title"] == "Order too old for the app to read" and "deleted" not in said["what_happened"]
    assert "mark this message as handled" in said["what_to_do"] and "Retry" in said["what_to_do"]

    _close(message, "NF-e applied by hand in Shopify")  # a person clears it in turn
    assert world.messages("invoices", old)[0].status == MessageStatus.SKIPPED.value
    assert orders.run(world.shop_id)["resumed"] == 0


def test_a_late_cancellation_of_an_old_order_names_the_erp_reason(world: World) -> None:
    old = _old_order(world)
    world.erp.cancel(old.nro, "Cliente desistiu da compra")
    world.poll()

    [message] = world.messages("cancellations", old)
    _too_old(message)
    assert "Cancel the order (the ERP's reason: Cliente desistiu da compra)" in message.error_text
    assert "Cancele o pedido (motivo no ERP: Cliente desistiu da compra)" in (reason(message, "pt-BR") or "")


def test_an_order_deleted_in_shopify_still_does_not_exist(world: World) -> None:
    """Seen lately: Shopify's null says the order is gone."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.shopify.sandbox.store.delete(world.name, order.gid)
    assert world.settlement(order.gid) is None

    edit, invoice = _invoiced(world, order)

    assert (edit.error_detail or {}).get("code") == "NOT_FOUND", edit.error_detail
    name = old_orders.order_named(world.shop_id, order.gid)
    assert name.startswith("#"), name  # the link's name, not the gid
    assert edit.error_text == f"Shopify order {name} does not exist"
    assert f"(Shopify order {name} does not exist); fix and replay it" in (invoice.error_text or "")
    assert reason(edit, "pt-BR") == f"O pedido {name} não existe na Shopify"


def test_with_read_all_orders_an_old_order_that_reads_null_does_not_exist(world: World) -> None:
    old = _old_order(world)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.scopes = f"{shop.scopes},read_all_orders"
    world.shopify.sandbox.store.delete(world.name, old.gid)

    edit, _invoice = _invoiced(world, old)

    assert (edit.error_detail or {}).get("code") == "NOT_FOUND", edit.error_detail

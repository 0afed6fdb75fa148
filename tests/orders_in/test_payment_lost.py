"""An order already in the ERP whose payment Shopify then says will not come: a manual-capture card
order (payment_confirmation "authorized") imported on its authorisation, which a person voids in
Shopify admin (transactionVoid: orders/updated, financial status VOIDED). The ERP would separate,
invoice and deliver goods nobody pays for: the order link is noted for a person (jobs.order_payment_lost),
and the note goes once the order is paid again, cancelled or invoiced. An ordinary orders/updated of
an order in the ERP still costs no Shopify read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from jobs import order_payment_lost, orders
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Shop
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context
from sandbox.shopify.order_payloads import emit_order
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_settlement import settlement
from shopify_app.note_words import say_note
from tests.orders_in.test_delivery_address import order_update
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, imported
from tests.orders_in.test_import_rules import rest_event

LABEL = "orders (payment)"


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The orders whose payment status the app read from Shopify (OrderPaymentStatus)."""
    seen: list[str] = []
    real = order_payment_lost.read_payment_status

    def read(client, gid):
        seen.append(gid)
        return real(client, gid)

    monkeypatch.setattr(order_payment_lost, "read_payment_status", read)
    return seen


def authorised_import(world) -> tuple[str, int]:
    """A card order authorised (manual capture) and sent to the ERP on its authorisation."""
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "payment_confirmation": "authorized"}
    gid, nro = imported(world, gateway="cartao", capture="manual")
    assert world.link(gid).shopify_status == "AUTHORIZED"
    return gid, nro


def void_in_shopify(world, gid: str) -> None:
    """A person voids the authorisation from the order in Shopify admin (orders/updated follows)."""
    client = for_shop(world.domain)
    auth = settlement(client, gid).open_authorization()
    assert auth is not None
    client.transaction_void(auth.id)


def paid_again(world, gid: str) -> None:
    """The customer pays the order another way, recorded in Shopify (a sale taken: PAID)."""
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
        order["_transactions"].append(order_store.new_transaction(ctx, "SALE", "SUCCESS", "Pix", total))
        order_store.save(ctx, order)
        emit_order(ctx, order, "orders/paid", "orders/updated")


def payment_note(world, gid: str) -> str | None:
    return order_notes.note_of(world.link(gid), "orders", topic=order_payment_lost.TOPIC)


def test_a_void_after_the_import_notes_the_order_for_a_person_before_the_erp_picks_it(world, reads):
    gid, nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()

    link = world.link(gid)
    assert link.shopify_status == "VOIDED"
    name = link.shopify_order_name
    assert payment_note(world, gid) == (
        f"{LABEL}: Order {name} will not be paid as it stands: its card authorisation was voided in Shopify. "
        f"ERP order {nro} is still open, so the ERP would separate, invoice and deliver it unpaid: cancel it "
        "in the ERP (or cancel the order in Shopify), or collect the payment another way; a new payment or "
        "authorisation in Shopify clears this."
    )
    said = order_notes.words_of(link)[LABEL]
    assert said[0]["key"] == "payment_lost_in_erp"
    assert said[0]["params"]["why"] == {"key": "payment_lost_voided", "params": {}}
    portuguese = say_note(said, "pt-BR") or ""
    assert portuguese.startswith(f"O pedido {name} não será pago") and "foi anulada" in portuguese, portuguese
    assert reads == [gid]  # one read of its status, to trust the payload's
    [erp_order] = world.erp_orders_for(gid)  # the ERP order is the person's to cancel: untouched
    assert erp_order["situacaoped"] != "C"
    assert world.message(gid).status == MessageStatus.DONE.value

    order_update(world, gid, tags=["conferido"])  # a later update, still VOIDED: noted already
    world.drain()
    assert reads == [gid] and payment_note(world, gid) is not None


def test_an_ordinary_orders_updated_of_an_order_in_the_erp_reads_nothing_more(world, reads):
    gid, _nro = authorised_import(world)
    order_update(world, gid, tags=["conferido"])
    order_update(world, gid, note="cliente pediu sacola extra")
    world.drain()
    assert reads == []
    assert world.link(gid).needs_attention is None


def test_a_new_payment_after_the_void_clears_the_note(world, reads):
    gid, _nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()
    assert payment_note(world, gid) is not None

    paid_again(world, gid)
    world.drain()
    link = world.link(gid)
    assert link.needs_attention is None and order_notes.words_of(link) == {}
    assert link.shopify_status == "PAID"
    assert len(reads) == 2


def test_a_voided_delivery_arriving_after_the_new_payment_notes_nothing(world, reads):
    """Webhooks are not ordered: the void's orders/updated delivered again late, after the order was
    paid again. Shopify's status now is read: paid, nothing to say."""
    gid, _nro = authorised_import(world)
    void_in_shopify(world, gid)
    late = rest_event(world, gid, "orders/updated", 7)  # the void's payload
    assert late.payload["financial_status"] == "voided"
    world.drain()
    paid_again(world, gid)
    world.drain()
    assert payment_note(world, gid) is None

    orders.on_webhook(late)
    link = world.link(gid)
    assert link.needs_attention is None and link.shopify_status == "PAID"
    assert reads == [gid, gid, gid]


def test_the_cancellation_of_a_voided_order_clears_the_note(world, reads):
    gid, _nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()
    assert payment_note(world, gid) is not None
    cancel_in_shopify(world, gid)
    world.drain()
    assert [o["situacaoped"] for o in world.erp_orders_for(gid)] == ["C"]  # the cancellation flow's
    assert payment_note(world, gid) is None


def test_the_invoice_of_a_voided_order_takes_over_from_the_note(world):
    """The ERP invoiced it anyway: nothing left to stop, the invoice's own note says what was not
    charged (jobs.invoice_capture); this one goes at the orders/updated of the invoice's fulfillment."""
    gid, nro = authorised_import(world)
    void_in_shopify(world, gid)
    world.drain()
    assert payment_note(world, gid) is not None
    world.chain.handle.erp.invoice(nro)
    poll_erp_events(world)
    world.drain()
    link = world.link(gid)
    assert link.nfe_key and payment_note(world, gid) is None
    assert order_notes.note_of(link, "invoices"), link.needs_attention


def test_a_void_delivered_while_the_import_closes_its_message_is_noted_too(world, reads):
    """The void's orders/updated finds the order's message still open (the import was finishing, or
    a crash left it open after the ERP answered): it runs the import, which answers "already", and
    the payment is looked at after it."""
    gid, _nro = authorised_import(world)
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id == world.message(gid).id)
            .values(status=MessageStatus.PENDING.value, finished_at=None)
        )
    void_in_shopify(world, gid)
    world.delivered()
    assert orders.on_webhook(rest_event(world, gid, "orders/updated", 8)) == "already"
    assert world.message(gid).status == MessageStatus.DONE.value
    assert payment_note(world, gid) is not None and reads == [gid]


@pytest.mark.parametrize(
    ("status", "cancelled", "noted", "done_with", "looked"),
    [
        ("authorized", None, False, False, False),  # the ordinary update: nothing more
        ("paid", None, False, True, False),
        ("voided", None, False, False, True),
        ("expired", None, False, False, True),
        ("refunded", None, False, False, True),
        ("voided", "2026-01-01T00:00:00-03:00", False, False, False),  # cancelled: its flow says so
        ("voided", None, True, False, False),  # noted already
        ("voided", None, False, True, False),  # invoiced or cancelled: nothing left to stop
        ("voided", None, True, True, True),  # its note goes
        ("paid", None, True, False, True),  # paid again: its note goes
    ],
)
def test_only_a_payment_lost_or_found_again_is_looked_at(status, cancelled, noted, done_with, looked):
    state = order_payment_lost.PaymentState(noted, done_with)
    payload = {"financial_status": status, "cancelled_at": cancelled}
    assert order_payment_lost.wanted(payload, state) is looked
    assert order_payment_lost.wanted(payload, None) is False  # no link: the import decides


GIFT = Decimal("20.00")


def _gift_card_and_authorised_card_import(world) -> tuple[str, int]:
    """An order paid 20.00 by gift card and the rest by a card authorisation (manual capture), sent to
    the ERP on the authorisation (Shopify says PARTIALLY_PAID)."""
    from ledger import mappings
    from tests.orders_in.test_edits_and_cancels import change_order

    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "payment_confirmation": "authorized"}
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "gift_card", "6")
    gid = world.place([(world.sku(0), 3)], gateway="cartao", capture="manual", shipping=None)

    def gift_card_took_part(ctx, order) -> None:
        [auth] = [t for t in order["_transactions"] if t["kind"] == "AUTHORIZATION"]
        rest = Decimal(auth["amountSet"]["shopMoney"]["amount"]) - GIFT
        auth["amountSet"] = order_store.bag(rest)
        auth["totalUnsettledSet"] = order_store.bag(rest)
        order["_transactions"].insert(
            0, order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", GIFT)
        )

    change_order(world, gid, gift_card_took_part)
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    return gid, link.nro_pedvenda


def test_a_voided_authorisation_beside_a_gift_card_notes_the_order_though_its_status_stays(world, reads):
    """Shopify says PARTIALLY_PAID before the void and after it (the gift card's money stays): only the
    order's transactions tell that most of it is no longer covered."""
    gid, nro = _gift_card_and_authorised_card_import(world)
    rest = Decimal(world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"]) - GIFT
    order_update(world, gid, tags=["conferido"])  # an ordinary update: the authorisation still open
    world.drain()
    assert payment_note(world, gid) is None

    void_in_shopify(world, gid)
    world.drain()

    assert world.order_doc(gid)["displayFinancialStatus"] == "PARTIALLY_PAID"
    note = payment_note(world, gid) or ""
    assert f"{rest} of its total is neither paid nor covered by an open card authorisation" in note, note
    assert f"ERP order {nro} is still open" in note, note
    said = order_notes.words_of(world.link(gid))[LABEL]
    assert "não está pago nem coberto" in (say_note(said, "pt-BR") or "")

    paid_again(world, gid)  # the customer pays the rest another way
    world.drain()
    assert payment_note(world, gid) is None

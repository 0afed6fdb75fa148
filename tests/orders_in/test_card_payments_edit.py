"""A card payment added by an edit (jobs.card_payments.follow): the edit raised the total and the
buyer paid the rest by card. Its payment form reaches the ERP with the edit's PUT; its card data then
goes through the card call as the import's does, under the channel order id the import posted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erp.client import ErpClient
from erp.errors import ErpTransient
from jobs import card_payments
from jobs.order_edits import to_erp as edits_to_erp
from ledger import mappings
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from sandbox.shopify.checkout import pay_balance, place_order

from .test_card_payments import CARD_GATEWAY, card_message, map_cards, recorded
from .test_edits_and_cancels import edit_in_shopify, edit_message

APP_GATEWAY = "Mercado Pago"  # the sandbox checkout's "mercadopago": a card payments app


def _order(world, gateway: str, **options) -> tuple[str, int]:
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 2}],
                      gateway=gateway, discount_rate=0.0, shipping=None, seed=11, **options)  # fmt: skip
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    return gid, link.nro_pedvenda


def _raised_and_paid(world, gid: str, gateway: str, brand: str) -> None:
    """2 -> 5 units, the rest paid by a card of `brand` on `gateway`, every job run."""
    edit_in_shopify(world, gid, world.sku(0), 5)
    world.drain()
    pay_balance(world.shopify.sandbox, world.name, gid, gateway=gateway, card_brand=brand)
    world.drain()
    assert edit_message(world, gid).status == MessageStatus.DONE.value, edit_message(world, gid).error_text


def _card_txn_ids(world, gid: str) -> list[str]:
    doc = world.order_doc(gid)
    return [t["id"].rsplit("/", 1)[-1] for t in doc["_transactions"] if t.get("paymentDetails")]


def test_a_pix_order_whose_rest_is_paid_by_card_records_that_card_under_the_imports_channel_id(world):
    """No card at the import, so no card message; the edit's PUT brings the card's form, and the card
    message is begun then, with the sales channel and order id the import posted the order under."""
    map_cards(world, brands={"Mastercard": "2"})
    gid, nro = _order(world, "pix")
    assert card_message(world, gid) is None
    _raised_and_paid(world, gid, "cartao", "Mastercard")
    [erp_row] = world.erp_orders_for(gid)
    assert erp_row["nropedvenda"] == nro
    message = card_message(world, gid)
    assert message is not None and message.status == MessageStatus.DONE.value, message.error_text
    [card_id] = _card_txn_ids(world, gid)
    assert message.request_payload["payments"] == [card_id]
    with session_scope() as session:
        imported = session.get(Message, world.message(gid).id)
        posted = imported.request_payload["posted"]
    assert message.request_payload["seq_canal_venda"] == posted["seq_canal_venda"]
    assert message.request_payload["channel_order_id"] == posted["channel_order_id"]
    [card] = recorded(world, gid)
    assert card["idPagtoCanalVenda"] == card_id
    assert card["codBandeira"] == 2 and card["codRede"] == 7 and card["nroCartao"] == "555555******4242"
    # the Pix form and the card's both in the ERP order, summing to what Shopify was paid
    forms = world.chain.order(nro)["formasPagto"]
    assert len(forms) == 2
    doc = world.order_doc(gid)
    assert sum((Decimal(str(f["vlrPagto"])) for f in forms), Decimal(0)) == Decimal(
        doc["currentTotalPriceSet"]["shopMoney"]["amount"]
    )


def test_a_card_order_whose_rest_is_paid_by_another_card_gateway_records_both_cards(world):
    """The import's card message names the first card; the edit adds the second's form to it and runs
    it again (the ERP's repeat of the first changes nothing): one record per form, both there."""
    map_cards(world, brands={"Visa": "1", "Elo": "4"}, networks={CARD_GATEWAY: "7", APP_GATEWAY: "8"})
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", APP_GATEWAY, "6")
    gid, _nro = _order(world, "cartao", capture="automatic", card_brand="Visa")
    first = card_message(world, gid)
    assert first.status == MessageStatus.DONE.value and len(first.request_payload["payments"]) == 1
    _raised_and_paid(world, gid, "mercadopago", "Elo")
    message = card_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.request_payload["payments"] == _card_txn_ids(world, gid)  # the first, then the new
    assert message.attempts == first.attempts + 2  # begun by the edit, then by its job
    assert message.job_id != card_payments.job_id(world.shop_id, gid.rsplit("/", 1)[-1])  # a job of its own
    cards = {card["idPagtoCanalVenda"]: card for card in recorded(world, gid)}
    assert len(cards) == 2
    assert sorted((c["codBandeira"], c["codRede"]) for c in cards.values()) == [(1, 7), (4, 8)]
    assert [c["brand"] for c in message.response_payload["cards"]] == ["Visa", "Elo"]


def test_an_edit_bringing_no_new_card_form_leaves_the_card_message_alone(world):
    """Lowered (no payment added), then raised and paid on the same card gateway (its form is the one
    the first card made: one ERP form per gateway): the card message is not begun again."""
    map_cards(world, brands={"Visa": "1", "Mastercard": "2"})
    gid, _nro = _order(world, "cartao", capture="automatic", card_brand="Visa")
    first = card_message(world, gid)
    assert first.status == MessageStatus.DONE.value
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.drain()
    assert card_message(world, gid).attempts == first.attempts
    edit_in_shopify(world, gid, world.sku(0), 4)
    world.drain()
    pay_balance(world.shopify.sandbox, world.name, gid, gateway="cartao", card_brand="Mastercard")
    world.drain()
    message = card_message(world, gid)
    assert message.attempts == first.attempts and message.status == MessageStatus.DONE.value
    assert len(recorded(world, gid)) == 1


def test_card_data_off_begins_no_card_message_for_an_edit(world):
    map_cards(world, brands={"Mastercard": "2"})
    with session_scope() as session:
        from ledger.models import Shop

        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "card_payment_data": False}
    gid, _nro = _order(world, "pix")
    _raised_and_paid(world, gid, "cartao", "Mastercard")
    assert card_message(world, gid) is None and recorded(world, gid) == []


def test_an_edits_card_is_recorded_when_the_erp_took_its_put_and_the_answer_was_lost(world, monkeypatch):
    """The edit's PUT (new lines and the card's form) taken by the ERP, its answer lost: the retry finds
    the lines there and ends skipped, and still begins the card message that PUT's answer would have."""
    map_cards(world, brands={"Mastercard": "2"})
    gid, _nro = _order(world, "pix")
    edit_in_shopify(world, gid, world.sku(0), 5)
    world.drain()  # waits for the payment of the raised total
    real = ErpClient.edit_order

    def answer_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)  # the ERP commits the PUT...
        raise ErpTransient("read timeout", status=None)  # ...and its answer never comes

    monkeypatch.setattr(ErpClient, "edit_order", answer_lost)
    pay_balance(world.shopify.sandbox, world.name, gid, gateway="cartao", card_brand="Mastercard")
    world.delivered()
    message = edit_message(world, gid)
    with pytest.raises(Transient):
        edits_to_erp.replay(message.id)
    monkeypatch.setattr(ErpClient, "edit_order", real)

    assert edits_to_erp.replay(message.id) == "skipped"  # RQ's retry: the ERP has these lines
    world.drain()

    card = card_message(world, gid)
    assert card is not None and card.status == MessageStatus.DONE.value, card and card.error_text
    assert card.request_payload["payments"] == _card_txn_ids(world, gid)
    assert recorded(world, gid)

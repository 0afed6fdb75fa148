"""Two card forms on an ERP order (the checkout's card, and the rest paid on a payments app after an
edit) where Shopify gives card details for the first only (a payments app's payment with no
CardPaymentDetails): the first is recorded and the message ends done, naming the form it could not
send and why, so finance knows whose NSU and authorisation code to get from the gateway's panel."""

from __future__ import annotations

from jobs import card_payments
from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus

from .test_card_payments import CARD_GATEWAY, card_message, map_cards, recorded
from .test_card_payments_edit import APP_GATEWAY, _card_txn_ids, _order, _raised_and_paid


def test_a_card_form_shopify_gives_no_details_for_is_named_on_the_done_message(world, monkeypatch):
    map_cards(world, brands={"Visa": "1", "Elo": "4"}, networks={CARD_GATEWAY: "7", APP_GATEWAY: "8"})
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", APP_GATEWAY, "6")
    real = card_payments.read_cards

    def app_without_details(client, gid):
        found = real(client, gid) or {}
        bare = lambda read: card_payments.CardRead(read.txn, read.receipt, None, None, None)  # noqa: E731
        return {k: bare(v) if v.txn.gateway == APP_GATEWAY else v for k, v in found.items()}

    monkeypatch.setattr(card_payments, "read_cards", app_without_details)
    gid, _nro = _order(world, "cartao", capture="automatic", card_brand="Visa")
    _raised_and_paid(world, gid, "mercadopago", "Elo")
    first, second = _card_txn_ids(world, gid)
    message = card_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.request_payload["payments"] == [first, second]
    done = message.response_payload
    assert [card["id_pagto"] for card in done["cards"]] == [first]
    assert [card["idPagtoCanalVenda"] for card in recorded(world, gid)] == [first]
    assert done["cards_missing"] == [second]
    assert done["cards_missing_why"] == (
        f"Shopify shows no card details (brand, BIN) for the payment form(s) {second}: their card data "
        "(NSU, authorisation code) was not sent to the ERP"
    )

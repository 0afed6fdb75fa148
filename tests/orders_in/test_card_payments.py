"""Card payment data to the ERP (jobs.card_payments): each card payment of an order in the ERP is
recorded through the ERP's card call, once, with the brand and network the De:Para gives; a missing
line parks it (the order is in the ERP all the same) and the line resumes it."""

from __future__ import annotations

import json

import pytest

from jobs import card_payments, order_events, orders
from ledger import mappings
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus, Shop
from shopify_app.enqueue import resume_parked

from .test_edits_and_cancels import change_order

CARD_GATEWAY = "Cartão de crédito"  # the sandbox checkout's "cartao"


def map_cards(world, brands: dict[str, str] | None = None, networks: dict[str, str] | None = None) -> None:
    """The De:Para lines (Visa -> 1, the card gateway -> 7 unless given) and the setting on (the test
    world has it off)."""
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "card_payment_data": True}
        for brand, code in (brands if brands is not None else {"Visa": "1"}).items():
            mappings.upsert_mapping(session, world.shop_id, card_payments.CARD_BRAND, brand, code)
        for gateway, code in (networks if networks is not None else {CARD_GATEWAY: "7"}).items():
            mappings.upsert_mapping(session, world.shop_id, card_payments.CARD_NETWORK, gateway, code)


def card_message(world, gid: str) -> Message | None:
    return world.message(gid, unit=card_payments.unit_key(gid))


def recorded(world, gid: str) -> list[dict]:
    """The card payments the ERP sandbox holds for the order (its payment forms' card data)."""
    [row] = world.erp_orders_for(gid)
    order = world.chain.order(row["nropedvenda"])
    return [
        {"idPagtoCanalVenda": form["idPagtoCanalVenda"], **form["cartao"]}
        for form in order["formasPagto"]
        if form.get("cartao")
    ]


def txn_of(world, gid: str) -> dict:
    doc = world.order_doc(gid)
    return next(t for t in doc["_transactions"] if t["kind"] in ("SALE", "AUTHORIZATION"))


@pytest.mark.parametrize(("capture", "confirmation"), [("automatic", "paid"), ("manual", "authorized")])
def test_a_card_order_records_its_card_payment_in_the_erp_once(world, capture, confirmation):
    """A sale, or an authorisation sent under payment_confirmation "authorized": its data is the same."""
    map_cards(world)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "payment_confirmation": confirmation}
    gid = world.place(gateway="cartao", capture=capture, card_brand="Visa")
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    message = card_message(world, gid)
    assert message is not None and message.status == MessageStatus.DONE.value
    assert message.erp_id == str(erp_order["nropedvenda"])
    txn = txn_of(world, gid)
    receipt = json.loads(txn["receiptJson"])
    [card] = recorded(world, gid)
    assert card["idPagtoCanalVenda"] == txn["id"].rsplit("/", 1)[-1]
    assert card["codBandeira"] == 1 and card["codRede"] == 7
    assert card["codBin"] == "411111" and card["nroCartao"] == "411111******4242"
    assert card["nroAutorizacao"] == txn["authorizationCode"] and card["nsu"] == receipt["nsu"]
    [sent] = message.response_payload["cards"]
    assert sent["nsu"] == receipt["nsu"] and sent["card_number"] == "411111******4242"  # never the whole one
    assert "authorization_missing" not in sent and "nsu_missing" not in sent
    assert orders.replay(message.id) == "done"  # a repeat: the ERP keeps one record
    assert len(recorded(world, gid)) == 1


def test_a_pix_order_has_no_card_message(world):
    map_cards(world)
    gid = world.place(gateway="pix")
    world.drain()
    assert world.erp_orders_for(gid) and card_message(world, gid) is None


def test_an_unmapped_brand_parks_the_card_data_not_the_order_and_its_line_resumes_it(world):
    map_cards(world, brands={}, networks={})
    gid = world.place(gateway="cartao", capture="automatic", card_brand="Elo")
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value  # the order is in the ERP
    message = card_message(world, gid)
    assert message.status == MessageStatus.PARKED.value
    assert message.error_detail["mapping"] == {"kind": "card_brand", "code": "Elo"}
    assert message.error_detail["gateways"] == [CARD_GATEWAY]  # every missing line named at once
    assert "'Elo'" in message.error_text and CARD_GATEWAY in message.error_text
    assert recorded(world, gid) == []
    map_cards(world, brands={"ELO": "4"}, networks={})  # typed in capitals: compared by name
    with session_scope() as session:
        assert resume_parked(session, world.shop_id, "card_brand", ["ELO"]) == 1
    world.drain()
    message = card_message(world, gid)
    assert message.status == MessageStatus.PARKED.value  # now on the gateway's network
    assert message.error_detail["mapping"] == {"kind": "card_network", "code": CARD_GATEWAY}
    map_cards(world, brands={}, networks={CARD_GATEWAY: "9"})
    with session_scope() as session:
        assert resume_parked(session, world.shop_id, "card_network", [CARD_GATEWAY]) == 1
    world.drain()
    assert card_message(world, gid).status == MessageStatus.DONE.value
    [card] = recorded(world, gid)
    assert (card["codBandeira"], card["codRede"]) == (4, 9)


def test_a_lost_card_job_is_sent_by_the_orders_catch_up(world, monkeypatch):
    map_cards(world)
    monkeypatch.setattr(card_payments, "enqueue", lambda shop_id, num, message_id: None)  # Redis lost it
    gid = world.place(gateway="cartao", capture="automatic")
    world.drain()
    assert card_message(world, gid).status == MessageStatus.PENDING.value
    assert orders.run(world.shop_id, stale_after_seconds=0)["stale"] == 1
    world.drain()
    assert card_message(world, gid).status == MessageStatus.DONE.value
    assert len(recorded(world, gid)) == 1


def test_a_receipt_without_nsu_sends_the_rest_and_a_payment_without_card_details_is_skipped(
    world, monkeypatch
):
    """Gateways differ: one's receipt names no NSU nor authorisation (sent without them, said on the
    message); a payments app whose payment Shopify gives no card details for has nothing to record."""
    map_cards(world)
    monkeypatch.setattr(card_payments, "enqueue", lambda shop_id, num, message_id: None)
    first, second = world.place(gateway="cartao"), world.place(gateway="cartao")
    world.drain()

    def bare_receipt(ctx, order):
        order["_transactions"][0]["receiptJson"] = '{"tid": "T1"}'

    def no_details(ctx, order):
        order["_transactions"][0]["paymentDetails"] = None

    change_order(world, first, bare_receipt)
    change_order(world, second, no_details)
    assert orders.replay(card_message(world, first).id) == "done"
    [card] = recorded(world, first)
    assert card["nsu"] is None and card["nroAutorizacao"] is None and card["codBin"] == "411111"
    [sent] = card_message(world, first).response_payload["cards"]
    assert sent["nsu_missing"] and sent["authorization_missing"]
    assert orders.replay(card_message(world, second).id) == "skipped"
    assert card_message(world, second).error_detail["skip"]["key"] == "card_none"
    assert recorded(world, second) == []


def test_the_setting_off_sends_no_card_data(world):
    map_cards(world)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "card_payment_data": False}
    gid = world.place(gateway="cartao", capture="automatic")
    world.drain()
    assert world.erp_orders_for(gid) and card_message(world, gid) is None


def test_the_erp_down_leaves_the_card_data_retrying_then_it_goes(world):
    map_cards(world, brands={}, networks={CARD_GATEWAY: "7"})
    gid = world.place(gateway="cartao", capture="automatic")
    world.drain()
    message_id = card_message(world, gid).id  # parked on the brand
    map_cards(world, brands={"Visa": "1"}, networks={})
    world.chain.handle.erp.faults.set(down_for=60)
    with pytest.raises(Transient):
        orders.replay(message_id)
    assert card_message(world, gid).status == MessageStatus.RETRYING.value
    world.chain.handle.erp.faults.clear()
    assert orders.replay(message_id) == "done"
    assert len(recorded(world, gid)) == 1


def test_an_order_cancelled_in_the_erp_while_its_card_data_waits_is_skipped(world):
    map_cards(world, brands={}, networks={CARD_GATEWAY: "7"})
    gid = world.place(gateway="cartao", capture="automatic")
    world.drain()
    assert card_message(world, gid).status == MessageStatus.PARKED.value
    nro = world.link(gid).nro_pedvenda
    world.chain.handle.erp.cancel(nro)
    order_events.run(world.shop_id)
    world.drain()
    assert world.link(gid).erp_status == "C"
    map_cards(world, brands={"Visa": "1"}, networks={})
    with session_scope() as session:
        assert resume_parked(session, world.shop_id, "card_brand", ["Visa"]) == 1
    world.drain()
    message = card_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value
    assert message.error_detail["skip"]["key"] == "card_erp_cancelled"
    assert recorded(world, gid) == []


# ---------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("receipt", "nsu"),
    [
        ('{"nsu": "000123"}', "000123"),
        ('{"NSU": 456}', "456"),
        ('{"payment": {"ProofOfSale": "789"}}', "789"),
        ('{"tid": "T1"}', None),
        ('{"nsu": ""}', None),
        ('{"nsu": true}', None),
        ("not json", None),
        ('["nsu"]', None),
        (None, None),
    ],
)
def test_the_nsu_is_found_in_the_gateways_receipt_or_not_at_all(receipt, nsu):
    assert card_payments.nsu_of(receipt) == nsu


@pytest.mark.parametrize(
    ("bin_", "number", "masked"),
    [
        ("411111", "•••• •••• •••• 4242", "411111******4242"),
        ("378282", "•••• 0005", "378282*****0005"),  # American Express: 15 digits
        (None, "•••• •••• •••• 4242", "************4242"),
        ("411111", "••••", None),
        ("41111111", "•••• 4242", "41111111****4242"),
    ],
)
def test_the_card_number_is_masked_as_shopify_shows_it(bin_, number, masked):
    assert card_payments.masked(bin_, number) == masked


def test_card_data_parked_then_turned_off_is_never_sent_and_its_message_ends(world):
    """card_payment_data turned off (an ERP without the card call) while a card message waits for
    its brand line: a line saved later (or its Retry) sent the card data anyway, and the message
    stayed parked, counted as needing a person, until then."""
    from jobs import orders
    from ledger import mappings
    from ledger.models import Shop
    from shopify_app.enqueue import resume_open

    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "card_payment_data": True}
        mappings.upsert_mapping(session, world.shop_id, "card_network", CARD_GATEWAY, "7")
    gid = world.place(gateway="cartao", capture="automatic", card_brand="Visa")
    world.drain()
    assert card_message(world, gid).status == MessageStatus.PARKED.value
    with session_scope() as session:  # what the settings page's save does when it is turned off
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "card_payment_data": False}
        assert resume_open(session, world.shop_id, "orders", "card:%") == 1
    world.drain()
    message = card_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value and "card_payment_data off" in message.error_text
    with session_scope() as session:  # a Brand line saved later: nothing to resume, nothing sent
        mappings.upsert_mapping(session, world.shop_id, "card_brand", "Visa", "1")
    orders.replay(message.id)
    assert recorded(world, gid) == []

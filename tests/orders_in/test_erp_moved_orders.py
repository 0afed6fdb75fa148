"""The shop's ERP connection moved to another ERP (homologation -> production): each ERP numbers its
orders on its own, so an order imported into the ERP of before is that ERP's order, and its number
in the ERP used now is another customer's. A cancellation, an edit or a delivery address of it is
not sent to the ERP used now (jobs.order_generation); an order imported after the move is."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.client import ErpClient
from jobs import order_clients, order_generation
from jobs.order_edits import address
from ledger import setup_moves
from ledger.db import session_scope
from ledger.models import AuditEvent, ErpConnection, Message, MessageStatus
from tests.orders_in.test_delivery_address import NEW, order_update, record_erp_calls
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, imported


def move_erp(world) -> None:
    """What PUT /api/setup/erp-connection does with a new address. The sandbox stands in for the
    new ERP at another address of the same server; in production its order of the old number is
    another customer's."""
    with session_scope() as session:
        row = session.scalars(select(ErpConnection).where(ErpConnection.shop_id == world.shop_id)).one()
        row.base_url = row.base_url.replace("127.0.0.1", "localhost")
        setup_moves.erp_moved(session, row)
    order_clients.reset()


@pytest.fixture
def cancels(monkeypatch) -> list[int]:
    sent: list[int] = []
    real = ErpClient.cancel_order

    def cancel_order(self, nro, reason=None):
        sent.append(nro)
        return real(self, nro, reason)

    monkeypatch.setattr(ErpClient, "cancel_order", cancel_order)
    return sent


def test_a_cancel_of_an_order_of_the_erp_of_before_is_not_sent_to_the_new_one(world, cancels):
    gid, nro = imported(world)
    move_erp(world)
    cancel_in_shopify(world, gid)
    world.drain()

    assert cancels == []
    assert world.chain.order(nro)["situacaoPed"] != "C"
    message = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == order_generation.CODE
    assert f"ERP order {nro}" in message.error_text and "connected to before" in message.error_text
    link = world.link(gid)
    assert link.cancelled_at is not None and link.erp_status != "C"
    assert "connected to before" in (link.needs_attention or "")


def test_an_order_imported_after_the_move_is_cancelled_in_the_new_erp(world, cancels):
    move_erp(world)
    gid, nro = imported(world)
    cancel_in_shopify(world, gid)
    world.drain()

    assert cancels == [nro]
    assert world.link(gid).erp_status == "C"
    assert world.message(gid).response_payload[order_generation.KEY] == 1


def test_an_edit_of_an_order_of_the_erp_of_before_is_not_sent_to_the_new_one(world, monkeypatch):
    gid, nro = imported(world)
    before = world.chain.order(nro)["itens"]
    move_erp(world)
    calls = record_erp_calls(monkeypatch)
    edit_in_shopify(world, gid, world.sku(0), 3)
    world.drain()

    assert calls == []
    assert world.chain.order(nro)["itens"] == before
    [message] = [m for m in _messages(world, "order_edits") if m.unit_key.startswith("edit:")]
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == order_generation.CODE


def test_a_delivery_address_of_an_order_of_the_erp_of_before_is_not_sent_to_the_new_one(world, monkeypatch):
    gid, nro = imported(world)
    obs = world.chain.order(nro)["obsPedido"]
    move_erp(world)
    calls = record_erp_calls(monkeypatch)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()

    assert calls == []
    assert world.chain.order(nro)["obsPedido"] == obs
    message = world.message(gid, "order_edits", address.unit_key(gid))
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == order_generation.CODE


def test_a_replay_of_card_data_of_an_order_of_the_erp_of_before_is_not_sent_to_the_new_one(
    world, monkeypatch
):
    """A person's Replay of a done card message after the connection moved: ERP order `nro` there is
    another customer's, who got this card's brand, BIN, last four and NSU on their receivable."""
    from jobs import orders
    from tests.orders_in.test_card_payments import card_message, map_cards

    map_cards(world)
    gid = world.place(gateway="cartao", capture="automatic", card_brand="Visa")
    world.drain()
    message = card_message(world, gid)
    assert message is not None and message.status == MessageStatus.DONE.value
    move_erp(world)
    calls = record_erp_calls(monkeypatch)
    record = ErpClient.record_card_payment
    monkeypatch.setattr(
        ErpClient,
        "record_card_payment",
        lambda self, *a, **k: calls.append(("card", a)) or record(self, *a, **k),
    )
    orders.replay(message.id)

    assert calls == []
    again = card_message(world, gid)
    assert again.status == MessageStatus.FAILED.value and again.error_detail["code"] == order_generation.CODE
    assert "so the card payment data was not sent there" in again.error_text


def test_a_delivery_address_refused_as_of_the_erp_of_before_fails_once(world, monkeypatch):
    """Shopify sends orders/updated for tags, notes and fulfillments too: the refused address is
    told once (its message fails once), later updates that keep it do not fail it again; another
    address is a new change, refused and told again."""
    gid, _nro = imported(world)
    move_erp(world)
    calls = record_erp_calls(monkeypatch)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    first = world.message(gid, "order_edits", address.unit_key(gid))
    assert first.status == MessageStatus.FAILED.value
    assert first.error_detail["code"] == order_generation.CODE

    order_update(world, gid, tags=["conferido"])
    order_update(world, gid, note="cliente pediu sacola extra", tags=["conferido", "vip"])
    world.drain()
    again = world.message(gid, "order_edits", address.unit_key(gid))
    assert (again.attempts, again.status, again.updated_at) == (
        first.attempts,
        first.status,
        first.updated_at,
    )
    assert again.error_detail["code"] == order_generation.CODE  # still failed, for a person

    order_update(world, gid, shippingAddress={**NEW, "address1": "Rua das Palmeiras, 800"})
    world.drain()
    other = world.message(gid, "order_edits", address.unit_key(gid))
    assert other.attempts == first.attempts + 1 and other.status == MessageStatus.FAILED.value
    assert other.error_detail["code"] == order_generation.CODE
    assert calls == []  # never the ERP used now


def _messages(world, flow: str):
    from ledger.models import Message

    with session_scope() as session:
        rows = session.scalars(select(Message).where(Message.flow == flow, Message.shop_id == world.shop_id))
        return list(rows)


def test_a_number_linked_by_hand_is_of_the_erp_it_was_linked_in(env):
    """ledger.order_link_by_hand records the ERP generation of the link (hand_linked_erp): that, not
    the import's record (a refused import's, of the ERP of before), says whose number it is."""
    from ledger import trace
    from ledger.flows import SHOPIFY_TO_ERP
    from ledger.models import OrderLink, Shop

    with session_scope() as session:
        shop = Shop(domain="a-mao.myshopify.com", settings={})
        session.add(shop)
        session.flush()
        session.add(ErpConnection(shop_id=shop.id, base_url="https://producao.example", username="u",
                                  password_enc=b"", generation=1))  # fmt: skip
        link = OrderLink(shop_id=shop.id, shopify_order_id="gid://shopify/Order/77", nro_pedvenda=500)
        session.add(link)
        imported = trace.begin(session, shop.id, "orders", "order:77", SHOPIFY_TO_ERP)
        imported.response_payload = {order_generation.KEY: 0}
        session.flush()
        assert order_generation.refusal(session, link, "x") is not None  # the import's: the ERP of before
        link.hand_linked_erp = 1
        assert order_generation.refusal(session, link, "x") is None
        link.hand_linked_erp = 0
        refused = order_generation.refusal(session, link, "the cancellation")
        assert refused is not None and refused.code == order_generation.CODE
        assert "the cancellation was not sent" in refused.message


def _audit_move(world) -> None:
    """The audit row PUT /api/setup/erp-connection writes for a move (the move's time and generation)."""
    with session_scope() as session:
        generation = order_generation.current(session, world.shop_id)
        session.add(AuditEvent(shop_id=world.shop_id, shop_domain=world.domain, actor="staff-1",
                               action=order_generation.MOVED_ACTION, target="erp_connection",
                               after={"base_url": "...", "erp_generation": generation}))  # fmt: skip


def _recorded_before_the_key(world, gid: str) -> None:
    """As an import recorded before the generation was kept on its message."""
    with session_scope() as session:
        message = session.get(Message, world.message(gid).id)
        message.response_payload = {
            k: v for k, v in message.response_payload.items() if k != order_generation.KEY
        }


@pytest.mark.parametrize("imported_after_the_move", [True, False])
def test_an_import_recorded_before_the_generation_was_kept_is_of_the_erp_of_its_time(
    world, cancels, imported_after_the_move
):
    """A shop that moved from homologation to production before the generation was kept: its
    orders imported since are the production ERP's (cancelled there), those of before are not."""
    if imported_after_the_move:
        move_erp(world)
        _audit_move(world)
        gid, nro = imported(world)
    else:
        gid, nro = imported(world)
        move_erp(world)
        _audit_move(world)
    _recorded_before_the_key(world, gid)
    cancel_in_shopify(world, gid)
    world.drain()

    assert cancels == ([nro] if imported_after_the_move else [])
    message = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert message.status == (
        MessageStatus.DONE.value if imported_after_the_move else MessageStatus.FAILED.value
    )

"""What a delivery address flag says and compares (jobs.order_edits.address): the whole delivery the
app writes, never a start an older address shares; the ERP order's obsPedido not quoted, and the new
delivery quoted so the privacy scrub removes all of it; a Mark as handled audited without it; an
address changed back to the one a hand-typed ERP order was typed from clears the flag; the ERP
cancelling the order while the PUT goes settles it."""

from __future__ import annotations

from sqlalchemy import select

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs.order_edits import address
from ledger import order_notes, privacy
from ledger.db import session_scope
from ledger.models import AuditEvent, MessageStatus, Shop
from ledger.privacy import scrub_text
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_delivery_address_hand_linked import (  # noqa: F401
    hand_linked,
    link_by_hand,
    operator,
    shown_address,
)
from tests.orders_in.test_edits_and_cancels import imported
from tests.orders_in.test_handled_orders import mark_handled  # noqa: F401

LONG = {
    "firstName": "Maria Aparecida",
    "lastName": "dos Santos Oliveira",
    "address1": "Avenida Brigadeiro Faria Lima, 1234",
    "address2": "Apartamento 1502, Torre Norte",
    "city": "São Paulo",
    "province": "São Paulo",
    "provinceCode": "SP",
    "zip": "01452-000",
    "countryCode": "BR",
    "phone": "+5511988887777",
}


def note_of(world, gid: str) -> str | None:
    return order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")


def test_a_change_beyond_the_first_100_characters_after_separation_is_flagged(world):
    """Another tower and CEP: the delivery's first 100 characters are the old one's, the rest not."""
    gid, nro = imported(world, shipping="SEDEX")
    order_update(world, gid, shippingAddress=LONG)
    world.drain()
    assert "Torre Norte" in world.chain.order(nro)["obsPedido"]
    world.chain.handle.erp.separate(nro, weights={})
    order_update(
        world, gid, shippingAddress={**LONG, "address2": "Apartamento 1502, Torre Sul", "zip": "01452-001"}
    )
    world.drain()
    assert "Torre Norte" in world.chain.order(nro)["obsPedido"]  # the ERP still says the old tower
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert "Torre Sul" in note_of(world, gid)
    assert address.replay(message.id) == MessageStatus.FAILED.value  # its Retry: still not named
    assert "Torre Sul" in note_of(world, gid)


def test_names_reads_the_whole_delivery_not_a_start_an_older_one_shares():
    part = "Entrega: Ana Souza, Rua X, 12"
    assert address.names(f"Shopify #1001 - {part}", part)
    assert address.names(f"Shopify #1001 - {part} - tocar a campainha", part)
    assert address.names(f"shopify #1001 -  {part.upper()}.", part)  # typed by hand
    assert not address.names(f"Shopify #1001 - {part}3", part)  # number 123
    assert not address.names(f"Shopify #1001 - {part}, Bloco B", part)  # the old complement
    assert not address.names(f"Shopify #1001 - {part} B", part)
    assert not address.names(None, part)


def test_the_note_quotes_no_erp_observation_and_the_scrub_removes_its_delivery(world):
    gid, nro = imported(world)
    old = world.chain.order(nro)["obsPedido"]
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress={**NEW, "address2": 'Edifício "Solar", apto 3'})
    world.drain()
    note = note_of(world, gid)
    message = address_message(world, gid)
    assert old.split(" - ")[1] not in note and old.split(" - ")[1] not in message.error_text
    assert 'Edifício "Solar", apto 3' in note and "Rua das Palmeiras, 742" in note
    for text in (note, message.error_text):
        clean = scrub_text(text)
        for words in ("Palmeiras", "Solar", "apto 3", "Campinas", "13015-000", "+5519988887777", "Ana"):
            assert words not in clean, clean
        assert "NOT changed in the ERP" in clean and "[redacted]" in clean


def test_the_scrub_still_removes_what_older_notes_quoted_whole():
    """Notes written before: the new delivery holding a quote, a hand-typed obsPedido quoted."""
    note = (
        "order_edits (delivery address): The delivery address of order #1001 was changed in Shopify to "
        '"Entrega: Ana Souza, Rua 7, Edificio "Solar" apto 3, Campinas/SP, CEP 13015-000, +5519988887777", '
        "but ERP order 5 is already being separated (em separação), so it was NOT changed in the ERP: its "
        'observation still says "Entregar na Rua das Palmeiras 742, fundos" and the order would go to the '
        "old address. A person must tell the picking and delivery team the new address"
    )
    clean = scrub_text(note)
    for words in ("Solar", "13015-000", "+5519988887777", "Palmeiras", "fundos", "Ana"):
        assert words not in clean, clean
    assert "but ERP order 5 is already being separated" in clean and "picking and delivery team" in clean
    shouted = 'its observation still says "ENTREGA: ANA SOUZA, RUA DAS PALMEIRAS 742" and the order would'
    assert "PALMEIRAS" not in scrub_text(shouted)
    assert "PALMEIRAS" not in scrub_text("obs: ENTREGA: ANA SOUZA, RUA DAS PALMEIRAS 742")


def test_mark_as_handled_audits_no_address_and_redact_leaves_none(world, mark_handled):  # noqa: F811
    gid, nro = imported(world, shipping="SEDEX")
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress={**NEW, "phone": None})
    world.drain()
    message = address_message(world, gid)
    assert message.error_detail["code"] == "DELIVERY_ADDRESS_NOT_SENT"
    mark_handled(message.id, "told the driver")
    with session_scope() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "message.handled")).all()
        assert event.after["notes_cleared"] == ["order_edits (delivery address)"]
    with session_scope() as session:
        privacy.redact_customer(session, session.get(Shop, world.shop_id), customer_ref(world, gid))
    with session_scope() as session:
        left = [
            a.action for a in session.scalars(select(AuditEvent)) if "Palmeiras" in f"{a.before}{a.after}"
        ]
    assert left == []


def test_redact_and_export_reach_a_mark_as_handled_audited_with_its_note(world, mark_handled):  # noqa: F811
    """An audit of Mark as handled written before (after.notes_cleared quoting the note, new and old
    addresses): found as about the customer's order's message, exported and scrubbed."""
    gid, nro = imported(world, shipping="SEDEX")
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress={**NEW, "phone": None})
    world.drain()
    message = address_message(world, gid)
    mark_handled(message.id, "told the driver")
    older = (
        "order_edits (delivery address): The delivery address of order #1001 was changed in Shopify to "
        '"Entrega: Ana Souza, Rua das Palmeiras, 742, Bloco B, Campinas/SP, CEP 13015-000", but ERP order '
        f"{nro} is already being separated (em separação), so it was NOT changed in the ERP: its observation "
        'still says "Entregar na Rua Velha, 1" and the order would go to the old address.'
    )
    with session_scope() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "message.handled")).all()
        event.after = {**event.after, "notes_cleared": [older]}
        shop = session.get(Shop, world.shop_id)
        ref = customer_ref(world, gid)
        exported = privacy.export_customer(session, shop, ref)
        assert [a["id"] for a in exported["audit_events"]] == [event.id]
        privacy.redact_customer(session, shop, ref)
    with session_scope() as session:
        after = session.get(AuditEvent, event.id).after
    assert "Palmeiras" not in str(after) and "Rua Velha" not in str(after), after
    assert f"but ERP order {nro} is already being separated" in str(after)


def customer_ref(world, gid: str) -> privacy.CustomerRef:
    doc = world.order_doc(gid)
    customer = doc.get("customer") or {}
    return privacy.CustomerRef(
        customer_id=str(customer.get("id", "")).rsplit("/", 1)[-1] or None,
        email=doc.get("email") or customer.get("email"),
        phone=customer.get("phone"),
        order_ids=frozenset({gid.rsplit("/", 1)[-1], gid}),
    )


def test_changing_the_address_back_clears_the_flag_of_a_hand_linked_order(world, link_by_hand):  # noqa: F811
    """The ERP order was typed by hand (its obsPedido is not the app's): changed back to the address
    it was typed from, as the note advises, the flag clears and nothing is sent."""
    gid, nro = hand_linked(world, link_by_hand)
    typed_from = shown_address(world, gid)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    order_update(world, gid, shippingAddress={**NEW, "address2": "Bloco C"})  # changed once more
    world.drain()
    assert "Bloco C" in note_of(world, gid)
    order_update(world, gid, shippingAddress=typed_from)  # changed back
    world.drain()
    message = address_message(world, gid)
    assert note_of(world, gid) is None
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert world.chain.order(nro)["obsPedido"] == "Entrega: typed by hand"
    order_update(world, gid, shippingAddress=NEW)  # and to the new one again: flagged again
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    assert "Rua das Palmeiras" in note_of(world, gid)


def test_the_erp_cancelling_the_order_as_the_put_goes_settles_it(world, monkeypatch):
    """The PUT's 409 PEDIDO_CANCELADO (cancelled in the ERP after the read): nothing to deliver."""
    gid, nro = imported(world)
    edit = ErpClient.edit_order

    def cancelled_first(self, nro_pedvenda, *args, **kwargs):
        world.chain.handle.erp.cancel(nro_pedvenda)
        return edit(self, nro_pedvenda, *args, **kwargs)

    monkeypatch.setattr(ErpClient, "edit_order", cancelled_first)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert "cancelled in the ERP" in message.error_text
    assert note_of(world, gid) is None
    assert world.chain.order(nro)["situacaoPed"] == "C" and world.link(gid).erp_status == "C"


def test_a_409_of_another_kind_still_fails(world, monkeypatch):
    gid, _nro = imported(world)

    def refused(self, nro_pedvenda, *args, **kwargs):
        raise ErpRejected("bloqueado", codigo="PEDIDO_BLOQUEADO", status=409, endpoint="order")

    monkeypatch.setattr(ErpClient, "edit_order", refused)
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value

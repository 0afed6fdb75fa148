"""A delivery address compared with what the ERP order's observation holds, when the installation
keeps text upper-cased and without accents ("São João" kept "SAO JOAO": the sandbox's format switch
`textoMaiusculo`) or a person typed it so, with other spacing: the same delivery, so a flag clears
and a change back is recognised; a different street number is never taken for it."""

from __future__ import annotations

from erp.errors import ErpRejected
from jobs import order_edits
from jobs.order_edits import address
from ledger import privacy
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.consinco.formats import upper_text
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_delivery_address_back import _put_failing_once
from tests.orders_in.test_delivery_address_flag_words import note_of
from tests.orders_in.test_edits_and_cancels import imported

ACCENTED = {
    **NEW,
    "firstName": "João",
    "lastName": "Conceição",
    "address1": "Av. São João, 1.000 - apto 12",
    "address2": "Jardim Paulistânia",
    "city": "São José dos Campos",
    "zip": "12245-000",
}


def _upper_text(world) -> None:
    world.chain.handle.erp.formats.set(upper_text=True)


def _typed(world, nro: int, text: str) -> None:
    """A person writes the ERP order's observation (in the ERP's screen)."""
    with world.chain.handle.erp.store.write() as (conn, _now):
        table = t.mad_pedvenda
        conn.execute(table.update().where(table.c.nropedvenda == nro).values(obspedido=text))


def _flagged(world) -> tuple[str, int, str]:
    """Separated in the ERP, the address changed to ACCENTED in Shopify: flagged; (gid, nro, the
    new delivery text the note names)."""
    gid, nro = imported(world, shipping="SEDEX")
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=ACCENTED)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    new = note_of(world, gid).split(privacy.NEW_DELIVERY, 1)[1].strip()
    assert "São José dos Campos" in new, new
    return gid, nro, new


def test_a_flag_clears_once_the_erp_keeps_the_copied_delivery_upper_cased_without_accents(world):
    _upper_text(world)
    gid, nro, new = _flagged(world)
    head = world.chain.order(nro)["obsPedido"].split(" - ")[0]
    # copied as the note advises; the ERP keeps it its way, the person's spacing with it
    _typed(world, nro, upper_text(f"{head} -  {new}".replace(", ", " ,  ")))
    order_edits.replay(address_message(world, gid).id)  # the Messages page's Retry
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert note_of(world, gid) is None


def test_a_delivery_copied_with_another_street_number_does_not_clear_the_flag(world):
    _upper_text(world)
    gid, nro, new = _flagged(world)
    head = world.chain.order(nro)["obsPedido"].split(" - ")[0]
    assert "1.000" in new
    _typed(world, nro, upper_text(f"{head} - {new.replace('1.000', '1.001')}"))
    order_edits.replay(address_message(world, gid).id)
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    assert note_of(world, gid) is not None


def test_back_to_the_delivery_the_erp_keeps_upper_cased_after_a_refusal_is_no_flag(world, monkeypatch):
    """The ERP took ACCENTED (kept its way); a later change was refused (no flag: nothing read of the
    ERP order), the order was separated meanwhile, and the address changed back to ACCENTED: the
    ERP order still holds it, so nothing is flagged."""
    _upper_text(world)
    gid, nro = imported(world, shipping="SEDEX")
    order_update(world, gid, shippingAddress=ACCENTED)
    world.drain()
    held = world.chain.order(nro)["obsPedido"]
    assert "SAO JOSE DOS CAMPOS" in held and address_message(world, gid).status == MessageStatus.DONE.value
    _put_failing_once(monkeypatch, ErpRejected("erro interno de validação", status=422))
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=ACCENTED)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert note_of(world, gid) is None and world.chain.order(nro)["obsPedido"] == held


def test_a_delivery_the_erp_keeps_upper_cased_is_not_sent_again_on_each_update(world, monkeypatch):
    """The record compared on each orders/updated is Shopify's (digests), not the ERP's text: the
    ERP keeping it its way costs no ERP call on later updates."""
    from tests.orders_in.test_delivery_address import record_erp_calls

    _upper_text(world)
    gid, nro = imported(world)
    calls = record_erp_calls(monkeypatch)
    order_update(world, gid, shippingAddress=ACCENTED)
    world.drain()
    assert [c[0] for c in calls] == ["get", "put"]
    assert "AV. SAO JOAO, 1.000 - APTO 12" in world.chain.order(nro)["obsPedido"]
    calls.clear()
    order_update(world, gid, tags=["conferido"])
    order_update(world, gid, note="portaria 24h", tags=["conferido", "vip"])
    world.drain()
    assert calls == []


def test_names_folds_accents_case_and_spaces_only():
    part = "Entrega: João Conceição, Av. São João, 1.000 - apto 12, São José dos Campos/SP"
    assert address.names(f"Shopify #1 - {upper_text(part)}", part)
    assert address.names(f"Shopify #1 -  {upper_text(part).replace(', ', ' ,  ')} - sacola extra", part)
    assert not address.names(f"Shopify #1 - {upper_text(part).replace('1.000', '1.001')}", part)
    assert not address.names(f"Shopify #1 - {upper_text(part).replace('1.000', '1.0001')}", part)
    assert not address.names("Entrega: Ana, Rua X, 123", "Entrega: Ana, Rua X, 12")
    assert not address.names("Entrega: Ana, Rua X, 12, Apto 3", "Entrega: Ana, Rua X, 12")

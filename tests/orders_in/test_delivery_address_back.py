"""An address changed back in Shopify after a delivery address flag (jobs.order_edits.address): the
flag clears only when the ERP order still holds that delivery (read again: a person may have
copied the other one into its observation meanwhile), and not silently once a person marked the
flag handled (the team may have been told the other address). A new delivery typed with a line
break is one line in the note, which the privacy scrub removes whole."""

from __future__ import annotations

from erp.errors import ErpRejected, ErpTransient
from jobs.order_edits import address
from ledger import privacy
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from sandbox.consinco import tables as t
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_delivery_address_flag_words import customer_ref, note_of
from tests.orders_in.test_edits_and_cancels import imported
from tests.orders_in.test_handled_orders import mark_handled  # noqa: F401

KEPT = ("firstName", "lastName", "address1", "address2", "city", "province", "provinceCode", "zip")
KEPT += ("countryCode", "phone", "company")


def _flagged(world) -> tuple[str, int, dict]:
    """An order separated in the ERP whose address was changed to NEW in Shopify: flagged."""
    gid, nro = imported(world, shipping="SEDEX")
    before = dict(world.order_doc(gid).get("shippingAddress") or {})
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    return gid, nro, {k: before.get(k) for k in KEPT if k in before}


def test_back_after_the_new_delivery_was_copied_into_the_erp_is_flagged_not_cleared(world):
    """As the note advises, a person copies the new delivery into the ERP order's observation; the
    customer then changes back to the first address: the ERP names the new one, Shopify the first."""
    gid, nro, before = _flagged(world)
    new_text = note_of(world, gid).split(privacy.NEW_DELIVERY, 1)[1].strip()
    typed = f"{world.chain.order(nro)['obsPedido'].split(' - ')[0]} - {new_text}"
    with world.chain.handle.erp.store.write() as (conn, _now):
        conn.execute(
            t.mad_pedvenda.update().where(t.mad_pedvenda.c.nropedvenda == nro).values(obspedido=typed)
        )
    order_update(world, gid, shippingAddress=before)
    world.drain()
    assert world.chain.order(nro)["obsPedido"] == typed  # separated: not written
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert note_of(world, gid) is not None


def test_back_after_mark_as_handled_is_told_again(world, mark_handled):  # noqa: F811
    gid, nro, before = _flagged(world)
    original = world.chain.order(nro)["obsPedido"]
    mark_handled(address_message(world, gid).id, "told the driver the new address")
    order_update(world, gid, shippingAddress=before)
    world.drain()
    assert world.chain.order(nro)["obsPedido"] == original
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    note = note_of(world, gid)
    assert "changed back" in note and "may have been told that other one" in note
    order_update(world, gid, shippingAddress=before)  # the same address again: told once
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value


def test_back_while_the_erp_still_holds_the_delivery_clears(world):
    gid, nro, before = _flagged(world)
    original = world.chain.order(nro)["obsPedido"]
    order_update(world, gid, shippingAddress=before)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text
    assert note_of(world, gid) is None and world.chain.order(nro)["obsPedido"] == original


def test_redact_scrubs_a_new_delivery_typed_with_a_line_break(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress={**NEW, "address2": "Bloco B\nfundos portao azul"})
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    assert "Bloco B fundos portao azul" in note_of(world, gid)  # one line
    with session_scope() as session:
        privacy.redact_customer(session, session.get(Shop, world.shop_id), customer_ref(world, gid))
    message = address_message(world, gid)
    for text in (message.error_text, note_of(world, gid) or "", str(message.error_detail)):
        for words in ("portao azul", "Campinas", "13015-000"):
            assert words not in text, text


def _put_failing_once(monkeypatch, error: Exception) -> dict:
    real, calls = address._put, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(address, "_put", flaky)
    return calls


def test_back_after_mark_as_handled_is_told_again_after_a_transient_first_read(
    world,
    mark_handled,  # noqa: F811
    monkeypatch,
):
    """The change back's first ERP read times out: RQ's retry begins the message again, which clears
    how it was closed; the retry must still know it is a change back after handled and tell it."""
    gid, _nro, before = _flagged(world)
    mark_handled(address_message(world, gid).id, "told the driver the new address")
    calls = _put_failing_once(monkeypatch, ErpTransient("ERP timed out reading the order"))
    order_update(world, gid, shippingAddress=before)
    world.drain()
    assert calls["n"] == 1 and address_message(world, gid).status != MessageStatus.DONE.value
    address.check(world.shop_id, gid)  # RQ's retry of the job
    message, note = address_message(world, gid), note_of(world, gid)
    assert message.status == MessageStatus.FAILED.value and note and "changed back" in note, (
        message.status, message.error_text, note,
    )  # fmt: skip


def test_back_after_mark_as_handled_is_told_again_on_the_retry_of_a_refusal(world, mark_handled, monkeypatch):  # noqa: F811
    """The change back's first ERP call is refused (a validation hiccup): a person's Retry, once the
    ERP answers, still tells the team the address changed back (the record keeps the change back)."""
    gid, _nro, before = _flagged(world)
    mark_handled(address_message(world, gid).id, "told the driver the new address")
    _put_failing_once(monkeypatch, ErpRejected("erro interno de validação", status=422))
    order_update(world, gid, shippingAddress=before)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    address.check(world.shop_id, gid, again=True)  # the Retry
    message, note = address_message(world, gid), note_of(world, gid)
    assert message.status == MessageStatus.FAILED.value and note and "changed back" in note, (
        message.status, message.error_text, note,
    )  # fmt: skip

"""ERP -> Shopify: a later F event of an NF-e (its carrier's tracking) among the order's other
events: it never charges on its own behind a failed first event of the NF-e, never sends a code to
another NF-e's fulfillments when it names no document, and a replay of the NF-e's first event after
it keeps the order showing the latest NF-e."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from jobs import invoices
from ledger.models import MessageStatus
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

from .conftest import World
from .test_invoice_documents import _another_nfe, _first_part_invoiced, _kept_keys
from .test_invoice_tracking import _tracking


def test_replaying_an_nfes_first_event_after_its_tracking_event_keeps_the_latest_nfe_shown(
    world: World,
) -> None:
    """NF-e A, then NF-e B; the carrier's code for A comes on a later F event of A (a message after
    B's). A person then replays A's first event: the order keeps showing B, and A captures nothing
    more (applied by that very message)."""
    order, items, _part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    key_a = first.response_payload["key"]
    key_b = _another_nfe(
        world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]]
    )
    world.poll()
    world.erp.track(order.nro, "A-2", carrier="Loggi", key=key_a)
    world.poll()
    paid = world.settlement(order.gid).paid
    assert world.settlement(order.gid).nfe["chave"] == key_b == world.link(order.gid).nfe_key

    assert invoices.replay(first.id) == MessageStatus.DONE.value
    state = world.settlement(order.gid)
    assert state.nfe["chave"] == key_b, "the replay made NF-e A the order's shown NF-e again"
    assert world.link(order.gid).nfe_key == key_b
    assert _kept_keys(world, order.gid) == [key_a, key_b]
    assert state.paid == paid
    replayed = world.messages("invoices", order)[0]
    assert "applied already (by this message before)" in replayed.response_payload["capture"]


def _refuse_captures(monkeypatch: pytest.MonkeyPatch, asked: list[Any]) -> None:
    def refuse(_self: Any, *args: Any, **_kwargs: Any) -> Any:
        asked.append(args)
        raise ShopifyUserErrors("OrderCapture", [UserError(("input", "amount"), "refused", "INVALID")])

    monkeypatch.setattr(AdminClient, "order_capture", refuse)


def test_a_tracking_event_behind_a_failed_first_event_of_its_nfe_is_held_not_charged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NF-e A's first event fails: Shopify refused its capture (a person decides: Retry it, or settle
    the money another way). The carrier's code then comes on a later F event of A: it must not ask
    a capture nobody decided (a double charge if the merchant collected the money meanwhile), nor
    fulfil on its own. It is held naming the failed event; once that one is retried and applied, the
    held event's Retry only sends its tracking."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    asked: list[Any] = []
    working = AdminClient.order_capture
    _refuse_captures(monkeypatch, asked)
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value and len(asked) == 1

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return working(self, *args, **kwargs)

    monkeypatch.setattr(AdminClient, "order_capture", counted)
    world.erp.track(order.nro, "BR000000030BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status == MessageStatus.FAILED.value
    assert (later.error_detail or {}).get("code") == "EARLIER_EVENT_NOT_APPLIED"
    assert f"held: event #{first.request_payload['seq_evento']} of NF-e" in (later.error_text or "")
    assert len(asked) == 1, "the tracking event asked a capture nobody decided"
    state = world.settlement(order.gid)
    assert state.paid == 0 and not state.active_fulfillments

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # the person's Retry: captured now
    assert len(asked) == 2
    paid = world.settlement(order.gid).paid
    [fulfillment] = world.messages("invoices", order)[0].response_payload["fulfillments"]
    assert invoices.replay(later.id) == MessageStatus.DONE.value
    assert len(asked) == 2 and world.settlement(order.gid).paid == paid
    assert _tracking(world, order.gid)[fulfillment][1] == "BR000000030BR"


def test_a_tracking_event_naming_no_document_on_an_order_of_several_nfe_is_not_guessed(world: World) -> None:
    """Two NF-e applied; an F event gives a carrier's code but names no fiscal document: which NF-e
    it is for cannot be told, and the latest's fulfillment would get the other's code. The event
    fails for a person (TRACKING_NFE_UNKNOWN) naming the code and the keys; nothing changes."""
    from sandbox.consinco import tables as t

    order, items, _part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    key_a = first.response_payload["key"]
    key_b = _another_nfe(
        world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]]
    )
    world.poll()
    shown = _tracking(world, order.gid)
    seq = world.erp.track(order.nro, "A-9", carrier="Loggi", key=key_a)
    with world.erp.store.write() as (conn, _now):
        events = t.mad_pedvendaevento
        row = conn.execute(select(events).where(events.c.seqevento == seq)).one()
        data = json.loads(row.dados)
        data["documentoFiscal"] = None
        conn.execute(events.update().where(events.c.seqevento == seq).values(dados=json.dumps(data)))
    world.poll()
    later = world.messages("invoices", order)[-1]
    assert later.status == MessageStatus.FAILED.value
    assert (later.error_detail or {}).get("code") == "TRACKING_NFE_UNKNOWN"
    for named in ("tracking A-9 (Loggi)", key_a, key_b, f"ERP order {order.nro}"):
        assert named in (later.error_text or ""), later.error_text
    assert _tracking(world, order.gid) == shown


def test_a_refund_made_before_an_nfes_tracking_event_is_still_not_taken_back_by_the_next_nfe(
    world: World,
) -> None:
    """NF-e A is charged; the merchant refunds R$5.00; a second later A's carrier code comes on a
    later F event of A (another done message of A). NF-e B then captures its own total only: A was
    charged when its FIRST message ran, before the refund — not when its tracking event finished."""
    import time

    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    order, items, part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        capture = next(x for x in doc["_transactions"] if x["kind"] == "CAPTURE")
        refund = order_store.new_transaction(
            ctx, "REFUND", "SUCCESS", capture["gateway"], Decimal("5.00"), parent_id=capture["id"]
        )
        doc["_transactions"].append(refund)
        order_store.save(ctx, doc, touch=True)
    time.sleep(1.05 - time.time() % 1)  # Shopify's times are to the second: the tracking comes later
    world.erp.track(order.nro, "A-5", carrier="Loggi", key=first.response_payload["key"])
    world.poll()
    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    messages = world.messages("invoices", order)
    assert [m.status for m in messages] == [MessageStatus.DONE.value] * 3, messages[-1].error_text
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b, messages[-1].response_payload["capture"]
    assert state.refunded == Decimal("5.00")
    assert world.link(order.gid).needs_attention is None, "the refund was counted as money still due"

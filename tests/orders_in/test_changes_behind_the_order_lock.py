"""A change of an order (an edit, a refund of items, a cancellation, a new delivery address) whose
job finds the order's lock held through all of RQ's retries: an import or another job of the same
order holding it long (a slow ERP answers each call in up to 3 x 60 s; an orders-queue job may run
15 minutes, the change's whole retry schedule is ~640 s). Once the lock is free the orders catch-up
brings the change to the ERP: it is never lost.

Here RQ's retry intervals are 0 and the lock's wait 0.2 s, so a burst worker runs every try while
the test holds the order's lock as that long job would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import inbox, order_edits, orders
from jobs.order_catch_up import run_catch_up
from jobs.order_edits import address
from jobs.worker import run_worker
from ledger import queues
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.locks import record_lock
from ledger.models import InboxStatus, Message, MessageStatus, WebhookInbox
from shopify_app import fail_words
from tests.orders_in.test_delivery_address import NEW, order_update
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    edit_in_shopify,
    imported,
    refund_items_in_shopify,
)


@pytest.fixture
def short_waits(monkeypatch) -> None:
    monkeypatch.setattr(queues, "RETRY_INTERVALS", [0, 0, 0, 0, 0])
    monkeypatch.setattr(orders, "ORDER_LOCK_WAIT", 0.2)


def held(world, gid: str):
    """The order's lock, held as a long import (or another job of the order) holds it."""
    return record_lock(f"shop:{world.shop_id}:order:{gid.rsplit('/', 1)[-1]}", wait=1)


def qty(world, nro: int, sku: str):
    return {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}[sku]


def messages(flow: str, gid: str) -> list[Message]:
    with session_scope() as session:
        q = select(Message).where(Message.flow == flow, Message.shopify_id == gid).order_by(Message.id)
        return list(session.scalars(q))


def inbox_rows(topic: str) -> list[tuple[str, str | None]]:
    with session_scope() as session:
        q = select(WebhookInbox).where(WebhookInbox.topic == topic).order_by(WebhookInbox.id)
        return [(r.status, r.reason) for r in session.scalars(q)]


def catch_up(world) -> None:
    """Every recovery path the app runs by itself, once the lock is free."""
    run_catch_up(world.shop_id, stale_after_seconds=0)
    inbox.sweep()
    run_worker(burst=True, simple=True, with_scheduler=False)


def test_an_edit_whose_retries_run_out_behind_the_orders_lock_is_applied_by_the_catch_up(world, short_waits):
    gid, nro = imported(world)
    with held(world, gid):
        edit_in_shopify(world, gid, world.sku(0), 1)  # 2 -> 1: lowered, it owes nothing and goes at once
        world.drain()  # every try of the edit's job runs and finds the order busy
    assert inbox_rows("orders/edited")[0][0] == InboxStatus.FAILED.value  # its delivery: retries spent
    [waiting] = messages("order_edits", gid)  # the edit is on the Messages page, waiting
    assert waiting.unit_key.startswith("edit:") and waiting.status == MessageStatus.RETRYING.value
    assert waiting.attempts == len(queues.RETRY_INTERVALS) + 1  # one message, each try counted
    num = gid.rsplit("/", 1)[-1]
    assert fail_words.reason(waiting, "en") == (
        f"Order {num} is being handled by another worker: this message is tried again later"
    )
    assert qty(world, nro, world.sku(0)) == 2
    catch_up(world)
    assert qty(world, nro, world.sku(0)) == 1
    [applied] = messages("order_edits", gid)
    assert (applied.id, applied.status) == (waiting.id, MessageStatus.DONE.value)


def test_a_refund_of_items_behind_the_orders_lock_changes_the_erp_order_later(world, short_waits):
    gid, nro = imported(world)
    event = refund_items_in_shopify(world, gid, world.sku(0), 1, refund_id=91)  # 2 -> 1
    with held(world, gid), pytest.raises(Transient):
        order_edits.on_refund(event)  # its last try
    [waiting] = messages("order_edits", gid)
    assert (waiting.unit_key, waiting.status) == ("edit:refund-91", MessageStatus.RETRYING.value)
    catch_up(world)
    assert qty(world, nro, world.sku(0)) == 1
    [applied] = messages("order_edits", gid)
    assert (applied.id, applied.status) == (waiting.id, MessageStatus.DONE.value)


def test_a_cancellation_whose_retries_run_out_behind_the_orders_lock_cancels_the_erp_order(
    world, short_waits
):
    gid, nro = imported(world)
    with held(world, gid):
        cancel_in_shopify(world, gid)
        world.drain()
    assert world.chain.order(nro)["situacaoPed"] != "C"
    [waiting] = messages("cancellations", gid)
    assert waiting.status == MessageStatus.RETRYING.value
    catch_up(world)
    assert world.chain.order(nro)["situacaoPed"] == "C"
    [cancelled] = messages("cancellations", gid)
    assert (cancelled.id, cancelled.status) == (waiting.id, MessageStatus.DONE.value)


def test_an_address_change_whose_retries_run_out_behind_the_orders_lock_reaches_the_erp(world, short_waits):
    """Its message begins only once a change is found under the lock (its record of the delivery is
    read there): the delivery itself stays open for the orders catch-up, not closed as failed."""
    gid, nro = imported(world)
    with held(world, gid):
        order_update(world, gid, shippingAddress=NEW)
        world.drain()
    assert "Rua das Palmeiras" not in world.chain.order(nro)["obsPedido"]
    [(status, reason)] = [row for row in inbox_rows("orders/updated") if row[1]]
    assert status == InboxStatus.ENQUEUED.value and "catch-up" in reason, reason
    catch_up(world)
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]
    assert world.message(gid, "order_edits", address.unit_key(gid)).status == MessageStatus.DONE.value
    assert [status for status, _ in inbox_rows("orders/updated")] == [InboxStatus.PROCESSED.value] * len(
        inbox_rows("orders/updated")
    )


def test_an_orders_deliveries_behind_its_lock_through_every_retry_stay_open_for_the_catch_up(
    world, short_waits
):
    """The import begins its message under the lock (what it reads first decides whether there is
    one), so its deliveries, the order busy all along (another import of it running long), stay open
    and the catch-up runs them: the order reaches the ERP once."""
    gid = world.place(gateway="pix")
    with held(world, gid):
        world.drain()
    assert world.message(gid) is None and world.erp_orders_for(gid) == []
    rows = inbox_rows("orders/create") + inbox_rows("orders/paid")
    assert rows and {status for status, _ in rows} == {InboxStatus.ENQUEUED.value}, rows
    catch_up(world)
    assert len(world.erp_orders_for(gid)) == 1
    assert world.message(gid).status == MessageStatus.DONE.value


def test_a_late_fraud_verdict_behind_the_orders_lock_through_every_retry_is_noted_by_the_catch_up(
    world, short_waits
):
    """A HIGH verdict for an order already in the ERP begins its note's message only under the lock:
    the order busy through every retry, its delivery stays open and the catch-up notes it, or the
    ERP would pick and deliver the order with nobody told."""
    from tests.orders_in.test_order_risk import assess, risk_note, sent

    gid = world.place()
    world.drain()
    sent(world, gid)
    with held(world, gid):  # an invoice event on a slow ERP, say
        assess(world, gid, "HIGH", "ClearSale")
        world.drain()
    assert risk_note(world, gid) is None
    assert inbox_rows("orders/risk_assessment_changed")[-1][0] == InboxStatus.ENQUEUED.value  # kept open
    catch_up(world)
    assert risk_note(world, gid) is not None


def test_a_payment_voided_behind_the_orders_lock_through_every_retry_is_noted_by_the_catch_up(
    world, short_waits
):
    """The same for an authorisation voided after the order reached the ERP (orders/updated)."""
    from tests.orders_in.test_payment_lost import authorised_import, payment_note, void_in_shopify

    gid, _nro = authorised_import(world)
    world.drain()
    with held(world, gid):
        void_in_shopify(world, gid)
        world.drain()
    assert payment_note(world, gid) is None
    catch_up(world)
    assert payment_note(world, gid) is not None

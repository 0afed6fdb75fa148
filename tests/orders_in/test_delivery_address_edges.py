"""A delivery address changed in Shopify, at the edges (jobs.order_edits.address): orders imported
before the address was recorded (an older obsPedido, which named a delivery only for a gift), a
change that reaches an orders/updated running the import, an ERP cancellation of a flagged order,
an ERP refusing the PUT for good; and what must keep working (a late older delivery, an address
changed back, a routine update costing no GraphQL read)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from rq import Queue

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import orders
from jobs.inbox import WebhookEvent
from jobs.order_edits import address
from ledger import kv, order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from ledger.queues import QUEUE_NAMES
from sandbox.consinco import tables as t
from sandbox.shopify.order_payloads import address as rest_address
from tests.orders_in.test_delivery_address import NEW, address_message, order_update, record_erp_calls
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_and_cancels import imported, placed_with_its_erp_answer_lost

KEYS = ("firstName", "lastName", "company", "address1", "address2", "city", "province", "provinceCode", "zip",
        "phone")  # fmt: skip


@pytest.fixture
def erp_calls(monkeypatch) -> list[tuple[str, Any]]:
    return record_erp_calls(monkeypatch)


def as_input(doc):
    return {**{k: doc.get(k) for k in KEYS if doc.get(k)}, "countryCode": doc.get("countryCodeV2")}


def updated(world, gid, address_doc):
    """orders/updated as Shopify delivers it, carrying `address_doc` (GraphQL's shape)."""
    num = gid.rsplit("/", 1)[-1]
    payload = {"id": int(num), "admin_graphql_api_id": gid, "shipping_address": rest_address(address_doc)}
    return orders.on_webhook(
        WebhookEvent(0, "orders/updated", world.domain, None, None, "2026-10", None, payload)
    )


def as_imported_by_an_older_version(world, gid: str, nro: int) -> str:
    """No record on the import's message, and the obsPedido an older version wrote for a delivery
    to the customer's own address: "Shopify #1001", no "Entrega: ..."."""
    with session_scope() as session:
        msg = session.get(Message, world.message(gid).id)
        payload = dict(msg.request_payload)
        payload.pop(address.RECORD)
        msg.request_payload = payload
    old_obs = f"Shopify {world.link(gid).shopify_order_name}"
    with world.chain.handle.erp.store.write() as (conn, _now):
        table = t.mad_pedvenda
        conn.execute(table.update().where(table.c.nropedvenda == nro).values(obspedido=old_obs))
    return old_obs


# ---------------------------------------------------------------- orders imported before the record


def test_a_tag_on_an_old_picked_order_flags_no_address_change(world, erp_calls):
    gid, nro = imported(world)
    as_imported_by_an_older_version(world, gid, nro)
    world.chain.handle.erp.separate(nro, weights={})
    erp_calls.clear()
    order_update(world, gid, tags=["conferido"])  # nothing about the address changed
    world.drain()
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None
    assert address_message(world, gid) is None
    assert erp_calls == []  # the baseline is Shopify's delivery now: no ERP read


def test_a_tag_on_an_old_unpicked_order_writes_nothing_to_the_erp(world, erp_calls):
    gid, nro = imported(world)
    old_obs = as_imported_by_an_older_version(world, gid, nro)
    erp_calls.clear()
    order_update(world, gid, tags=["conferido"])
    world.drain()
    assert erp_calls == []
    assert world.chain.order(nro)["obsPedido"] == old_obs

    order_update(world, gid, shippingAddress=NEW)  # a real change after the baseline is sent
    world.drain()
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]


# ---------------------------------------------------------------- a change meeting the import


def test_an_address_changed_during_the_import_reaches_the_erp(world, monkeypatch):
    """The address changes while the import's POST is under way: the orders/updated job finds the
    order not sent, waits on the order's lock, the import answers "already"; the address it
    carries is compared after, and sent."""
    gid = world.place()
    world.delivered()  # orders/create queued; the import is run here, in a thread
    num = gid.rsplit("/", 1)[-1]
    posting, go_on = threading.Event(), threading.Event()
    real = ErpClient.insert_order

    def slow_insert(self, order):
        posting.set()
        go_on.wait(20)
        return real(self, order)

    monkeypatch.setattr(ErpClient, "insert_order", slow_insert)
    results: dict[str, str] = {}

    def run_import():
        results["import"] = orders.import_order(world.shop_id, num, trigger="orders/create")

    importer = threading.Thread(target=run_import)
    importer.start()
    assert posting.wait(20)  # read and mapped with the old address; POST under way

    order_update(world, gid, shippingAddress=NEW)  # staff change where it goes, meanwhile
    doc = world.order_doc(gid)["shippingAddress"]
    waiting = threading.Thread(target=lambda: results.__setitem__("updated", updated(world, gid, doc)))
    waiting.start()
    time.sleep(1.0)  # it found the order not sent and waits on the lock
    go_on.set()
    importer.join(30)
    waiting.join(30)
    assert results == {"import": "done", "updated": "done"}
    obs = world.chain.order(world.link(gid).nro_pedvenda)["obsPedido"]
    assert "Rua das Palmeiras, 742" in obs, obs


def test_an_address_changed_while_the_erp_answer_was_lost_reaches_the_erp(world, monkeypatch):
    """The POST's answer was lost (the link has no number; the orders/create retry waits in RQ's
    backoff): the orders/updated carrying a new address runs the import, which posts the kept input
    again and learns the order the ERP holds (its old obsPedido); the new address is sent after."""
    gid, _num = placed_with_its_erp_answer_lost(world, monkeypatch, quantity=1, shipping="SEDEX")
    [held] = world.erp_orders_for(gid)
    nro = held["nropedvenda"]
    assert "Rua das Palmeiras" not in world.chain.order(nro)["obsPedido"]
    for name in QUEUE_NAMES:  # the orders/create job's retry is in RQ's backoff (later)
        Queue(name, connection=kv.get_redis()).empty()

    order_update(world, gid, shippingAddress=NEW)
    world.drain()  # orders/updated: not in the ERP as far as the link knows -> import_order

    assert world.link(gid).nro_pedvenda == nro
    assert world.message(gid).status == MessageStatus.DONE.value
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]
    assert address_message(world, gid).status == MessageStatus.DONE.value


def test_an_orders_updated_running_the_import_costs_no_more_when_the_address_is_the_same(world, erp_calls):
    """The usual case: the orders/updated that runs the import (or waits for it) finds the address
    the import recorded: nothing more (no ERP read, no address message)."""
    gid = world.place()
    world.delivered()
    doc = world.order_doc(gid)["shippingAddress"]
    assert updated(world, gid, doc) == "done"  # it ran the import itself
    assert [c for c in erp_calls if c[0] in ("get", "put")] == []
    assert address_message(world, gid) is None


# ---------------------------------------------------------------- cancelled, refused


def test_a_flag_is_cleared_once_the_erp_cancels_the_order(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    world.chain.handle.erp.cancel(nro)  # the store cancels it in the ERP (its C event)
    poll_erp_events(world)
    world.drain()
    link = world.link(gid)
    assert link.erp_status == "C" and link.cancelled_at is not None
    assert order_notes.note_of(link, "order_edits", topic="delivery address") is None, link.needs_attention
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text


def test_an_erp_refusing_the_put_is_told_once_until_retry(world, monkeypatch):
    """A refusal other than a 409 (the ERP's validation of the observation, say): the message fails
    with the ERP's words, and later orders/updated with this address cost nothing until Retry."""
    gid, nro = imported(world)
    edit = ErpClient.edit_order
    puts: list[int] = []
    reads: list[str] = []

    def refused(self, nro_pedvenda, *args, **kwargs):
        puts.append(nro_pedvenda)
        raise ErpRejected("obsPedido inválida", codigo="OBS_INVALIDA", status=422, endpoint="order")

    monkeypatch.setattr(ErpClient, "edit_order", refused)
    real_read = address.read_order_for_erp
    monkeypatch.setattr(
        address, "read_order_for_erp", lambda *a, **k: reads.append(a[1]) or real_read(*a, **k)
    )
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and "obsPedido inválida" in message.error_text
    assert len(puts) == 1 and len(reads) == 1

    order_update(world, gid, tags=["entregar cedo"])  # routine updates: quiet
    order_update(world, gid, note="portão azul")
    world.drain()
    assert len(puts) == 1 and len(reads) == 1
    assert address_message(world, gid).status == MessageStatus.FAILED.value

    monkeypatch.setattr(ErpClient, "edit_order", edit)  # fixed in the ERP: Retry sends it
    assert address.replay(message.id) == "done"
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]


# ---------------------------------------------------------------- what must keep working


def test_an_older_delivery_arriving_late_sends_nothing(world, erp_calls):
    gid, nro = imported(world)
    original = dict(world.order_doc(gid)["shippingAddress"])
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    obs = world.chain.order(nro)["obsPedido"]
    assert "Rua das Palmeiras" in obs
    erp_calls.clear()
    assert updated(world, gid, original) == "already"  # the older body, duplicated and late
    assert world.chain.order(nro)["obsPedido"] == obs
    assert [c for c in erp_calls if c[0] == "put"] == []


def test_changed_back_after_a_flag_clears_it_and_sends_nothing(world, erp_calls):
    gid, nro = imported(world)
    original = dict(world.order_doc(gid)["shippingAddress"])
    old = world.chain.order(nro)["obsPedido"]
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    erp_calls.clear()
    order_update(world, gid, shippingAddress=as_input(original))
    world.drain()
    assert world.chain.order(nro)["obsPedido"] == old
    assert [c for c in erp_calls if c[0] == "put"] == []
    assert world.link(gid).needs_attention is None
    assert address_message(world, gid).status == MessageStatus.SKIPPED.value, address_message(
        world, gid
    ).error_text


def test_a_fulfilment_like_update_costs_no_graphql(world, monkeypatch):
    gid, _nro = imported(world)
    calls = []
    real = address.read_order_for_erp
    monkeypatch.setattr(address, "read_order_for_erp", lambda *a, **k: calls.append(a) or real(*a, **k))
    order_update(world, gid, tags=["x"], note="n")
    world.drain()
    assert calls == []

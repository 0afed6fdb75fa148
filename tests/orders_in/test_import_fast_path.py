"""The second delivery of a sent order: settled without the order lock, unless its trace is open."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from jobs import orders
from jobs.locks import record_lock
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus

from .test_import_rules import rest_event


def test_sent_order_is_already_even_while_its_lock_is_held(world, monkeypatch):
    monkeypatch.setattr(orders, "ORDER_LOCK_WAIT", 0.2)
    gid = world.place(gateway="pix")
    assert orders.on_webhook(rest_event(world, gid, "orders/create")) == "done"
    num = gid.rsplit("/", 1)[-1]
    with record_lock(f"shop:{world.shop_id}:order:{num}"):
        # The link holds the NROPEDVENDA and the trace is closed: nothing to wait for.
        assert orders.on_webhook(rest_event(world, gid, "orders/paid", 1)) == "already"

        # A crash after the ERP answered left the message open: that path needs the lock.
        with session_scope() as session:
            session.execute(
                update(Message)
                .where(Message.id == world.message(gid).id)
                .values(status=MessageStatus.PENDING.value, finished_at=None)
            )
        with pytest.raises(Transient, match="being handled by another worker"):
            orders.on_webhook(rest_event(world, gid, "orders/paid", 2))
    assert orders.on_webhook(rest_event(world, gid, "orders/paid", 3)) == "already"
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value and message.finished_at is not None
    assert len(world.erp_orders_for(gid)) == 1

"""The ERP unreachable when the order's POST is sent (the connection never made: erp.transport knows
no attempt reached it) holds nothing from it: the order is not marked maybe taken, so a customer's
cancellation in Shopify while the ERP was down is not undone by sending the kept POST as it was; the
retry reads the order afresh and skips it. A POST cut off after it may have arrived stays maybe taken
(tests/orders_in/test_write_resent_after_lost_answer.py, tests/erp/test_erp_write_retried.py)."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from jobs import order_clients, orders
from ledger.errors import Transient
from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify


def test_an_order_cancelled_while_the_erp_was_unreachable_is_not_created_there(world, monkeypatch) -> None:
    gid = world.place([(world.sku(0), 1)], gateway="pix")
    world.delivered()
    session = order_clients.erp_client(world.shop_id).transport.session
    real, posts = session.request, []

    def unreachable(method, url, *args, **kwargs):
        if method == "POST" and url.endswith("PedidoVenda"):
            posts.append(url)
            raise requests.exceptions.ConnectionError(NewConnectionError(None, "Connection refused"))
        return real(method, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", unreachable)
    with pytest.raises(Transient):
        orders.import_order(world.shop_id, gid.rsplit("/", 1)[-1], trigger="orders/create")
    message = world.message(gid)
    assert posts and world.erp_orders_for(gid) == []  # nothing reached the ERP
    assert message.status == MessageStatus.RETRYING.value
    assert not (message.request_payload or {}).get("maybe_taken")

    cancel_in_shopify(world, gid)  # the customer gives up while the ERP is down
    monkeypatch.setattr(session, "request", real)
    world.drain()
    assert orders.replay(world.message(gid).id) == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []

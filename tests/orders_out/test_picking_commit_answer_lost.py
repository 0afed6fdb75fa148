"""A picking edit whose orderEditCommit reached Shopify and committed, its answer lost (a read
timeout after the request was sent). The retry re-reads the order, finds the picking there and sends
no second edit; its ledger rows say applied, its message is done, and the Orders page shows the order
as Shopify holds it now (its total the picking's, not the one placed) — a line removed (none served)
as well as one lowered, and the units of an earlier cut put back when the ERP picks the line again."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import Transient
from ledger.models import MessageStatus

from .conftest import LinkedOrder, World
from .test_cancel_and_refusals import _lose_the_first_answer


def _retried(world: World, order: LinkedOrder) -> Any:
    """What RQ's retries run, until the message is done: the message after."""
    from jobs import order_edits

    message = world.messages("order_edits", order)[-1]
    assert message.status == MessageStatus.RETRYING.value, (message.status, message.error_text)
    for _ in range(10):
        try:
            order_edits.replay(message.id)
            break
        except Transient:
            time.sleep(0.1)
    return world.messages("order_edits", order)[-1]


def _total(world: World, order: LinkedOrder) -> Decimal:
    return Decimal(world.order_doc(order.gid)["currentTotalPriceSet"]["shopMoney"]["amount"])


def _page(orders_api: Any, link_id: int) -> dict[str, Any]:
    client, auth = orders_api
    answer = client.get(f"/api/orders/{link_id}?locale=en", headers=auth)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


@pytest.mark.parametrize("served", [0, 1], ids=["removed", "lowered"])
def test_a_cut_whose_commit_answer_was_lost_is_applied_once_and_recorded_applied(
    world: World, orders_api: Any, monkeypatch: Any, served: int
) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    placed = _total(world, order)
    world.erp.separate(order.nro, cuts={str(order.lines[a]): served}, weights={})
    sent = _lose_the_first_answer(monkeypatch, "OrderEditCommit")
    world.poll()
    message = _retried(world, order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    assert sent == ["OrderEditCommit"]  # no second edit
    lines = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert (lines[a], lines[b]) == (served, 2), lines
    [row] = [c for c in world.line_changes(order.gid) if c.sku == a]
    assert row.applied and (row.kind, row.qty_after) == ("cut", served), (row.applied, row.reason)
    link = world.link(order.gid)
    assert link.needs_attention is None and link.erp_status == "S", link.needs_attention
    page = _page(orders_api, link.id)
    assert [c["applied"] for c in page["changes"]] == [True], page["changes"]
    assert _total(world, order) < placed
    assert Decimal(page["total"]) == _total(world, order), (page["total"], _total(world, order), placed)


def test_units_put_back_whose_commit_answer_was_lost_are_recorded_applied(
    world: World, orders_api: Any, monkeypatch: Any
) -> None:
    """Cut to 2, picked 3 of 3 again (the app's own unit put back): that edit's answer lost, the retry
    finds the 3 in Shopify and records them, instead of a picking that "changed nothing"."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 2)], gateway="pix")
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 2}, weights={})
    world.poll()
    world.erp.separate(order.nro, cuts={str(order.lines[a]): 3}, weights={})
    sent = _lose_the_first_answer(monkeypatch, "OrderEditCommit")
    world.poll()
    message = _retried(world, order)

    assert message.status == MessageStatus.DONE.value, (message.status, message.error_text)
    assert sent == ["OrderEditCommit"]
    assert (
        sum(line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"] if line["sku"] == a) == 3
    )
    rows = sorted((c for c in world.line_changes(order.gid) if c.sku == a), key=lambda c: c.change_key)
    assert [row.applied for row in rows] == [True, True], [(r.change_key, r.applied, r.reason) for r in rows]
    page = _page(orders_api, world.link(order.gid).id)
    assert Decimal(page["total"]) == _total(world, order)

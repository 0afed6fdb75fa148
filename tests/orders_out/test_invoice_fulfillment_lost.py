"""ERP -> Shopify: fulfillmentCreate carries no idempotency key, so an answer lost on its way back (a
read timeout, a 5xx) is not answered by sending it again (executor.NOT_RESENT): the invoice's event
is retried, re-reads the order and plans its fulfillment from the fulfillment orders' remaining
quantities (jobs.invoice_lines.plan_fulfilment). The goods are fulfilled once, never twice, and the
invoice does not fail as "nothing left to fulfil"."""

from __future__ import annotations

import time
from typing import Any

from jobs import invoices
from ledger.errors import Transient
from ledger.models import MessageStatus

from .conftest import World
from .test_cancel_and_refusals import _lose_the_first_answer


def test_a_fulfillment_whose_answer_was_lost_is_made_once_after_the_retry(
    world: World, monkeypatch: Any
) -> None:
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="pix")
    world.erp.invoice(order.nro)
    sent = _lose_the_first_answer(monkeypatch, "FulfillmentCreate")
    world.poll()
    [message] = world.messages("invoices", order)
    assert sent == ["FulfillmentCreate"] and message.status == MessageStatus.RETRYING.value, (
        message.error_text
    )
    for _ in range(5):  # what RQ's retries run
        try:
            invoices.replay(message.id)
            break
        except Transient:
            time.sleep(0.1)
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert sent == ["FulfillmentCreate"]  # the retry found nothing left to fulfil
    state = world.settlement(order.gid)
    assert [f.status for f in state.fulfillments] == ["SUCCESS"]
    assert {line["sku"]: line["_fulfilled"] for line in world.order_doc(order.gid)["_lines"]} == {a: 2, b: 1}
    # the fulfillment made under the lost answer is the NF-e's (tracking given later updates it)
    assert message.response_payload["fulfillments_adopted"]["ids"] == [f.id for f in state.fulfillments]

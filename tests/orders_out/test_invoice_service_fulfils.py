"""A fulfillment service (a 3PL, "Armazém Log") holds the order's fulfillment order (requestStatus
SUBMITTED or ACCEPTED: "Fulfillment in progress" in the admin) when the ERP invoices it: the service
ships the goods, so the app makes no fulfillment over its work (it would ship them twice, and
fulfillmentCreate of a service's fulfillment order needs a write scope the app does not ask for).
The message says which fulfillment orders the service fulfils; the money is taken as for any NF-e."""

from __future__ import annotations

import pytest

from jobs.cancellations import service_hold
from jobs.invoice_lines import SERVICE_HOLDS
from ledger.models import MessageStatus
from orders_out.conftest import World
from sandbox.shopify.fulfillment_service import hold


@pytest.mark.parametrize("status", ["SUBMITTED", "ACCEPTED"])
def test_the_invoice_leaves_a_fulfillment_order_a_service_holds_to_the_service(world: World, status) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", status)

    total, message = world.invoice(order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["fulfillments"] == []
    [by_service] = message.response_payload["fulfilled_by_service"]
    assert by_service.endswith("(Armazém Log)"), by_service
    assert world.order_doc(order.gid).get("_fulfillments", []) == []
    assert world.settlement(order.gid).paid == total  # the NF-e's money is taken all the same
    assert world.link(order.gid).needs_attention is None  # the service's fulfillment carries its tracking
    assert "fulfilled by a fulfillment service (Armaz" in message.response_payload["tracking"]


def test_the_statuses_a_service_holds_are_the_cancellations_own():
    assert set(service_hold.HOLDING) == SERVICE_HOLDS

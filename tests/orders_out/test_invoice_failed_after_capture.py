"""ERP -> Shopify: partial invoicing when the first NF-e's message is left failed after its money was
asked for. An order of (a x2, b x1) is invoiced in two NF-e: A (item a with the freight), then B (item
b). A's run asks its capture and then fails (a fulfillment Shopify refuses, a crash), its message
left failed for a person (no Retry yet), when B's event arrives: B must charge its own total, once,
and close the authorisation as the order's last NF-e; A's Retry afterwards asks nothing anew."""

from __future__ import annotations

import pytest

from jobs import invoices
from ledger.models import MessageStatus
from shopify_app.admin_api.client import AdminClient

from .conftest import World
from .test_capture_answers import _amounts, _fulfillment_fails
from .test_invoice_documents import _first_part_in_the_erp, _nfe_of_item


@pytest.mark.parametrize("how", ["refused", "crash"])
def test_the_next_nfe_counts_an_nfe_whose_message_failed_after_its_capture(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """NF-e A's capture is taken (SUCCESS, not final: the rest stays authorised for item b), then its
    run fails (fulfillmentCreate refused, a crash) and its message is left failed. NF-e B's event
    then captures B's own total (not nothing: A's capture is not money taken ahead for B, it is A's)
    as the order's last NF-e, closing the authorisation; the Orders page shows the whole order paid
    and nothing waiting for a further NF-e. A's Retry then follows the capture it recorded asking and
    asks nothing anew, nor says what B captured since is left authorised for a further NF-e."""
    order, items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.fulfillment_create

    def failing(self: AdminClient, *args: object, **kwargs: object) -> str:
        raise _fulfillment_fails(how)

    monkeypatch.setattr(AdminClient, "fulfillment_create", failing)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, (first.status, first.error_text)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]
    assert first.response_payload["capture_asked"] and not first.response_payload.get("run_ended")
    monkeypatch.setattr(AdminClient, "fulfillment_create", real)

    second, part_b = _nfe_of_item(world, order, items, world.plain(1))
    assert _amounts(world, order) == [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))], (
        second.response_payload["capture"]
    )
    assert second.response_payload["final_capture"] is True, second.response_payload
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    link = world.link(order.gid)
    assert link.captured_amount == part_a + part_b
    assert "waiting for a further NF-e" not in (link.needs_attention or ""), link.needs_attention

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # a person's Retry of A
    [first, _] = world.messages("invoices", order)
    assert "checked again (nothing asked anew)" in first.response_payload["capture"]
    assert _amounts(world, order) == [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    link = world.link(order.gid)
    assert link.captured_amount == part_a + part_b and link.nfe_key == second.response_payload["key"]
    assert world.settlement(order.gid).open_authorization() is None
    # what A's capture left authorised then, B has captured since: nothing waits for a further NF-e
    note = link.needs_attention or ""
    assert "left authorised" not in note and "waiting for a further NF-e" not in note, note

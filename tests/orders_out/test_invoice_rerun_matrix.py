"""The next NF-e (B) rerun after a crash at each point of its capture, the earlier one (A) cut short
after its capture landed (A begun, left failed). Expected: A and B each captured once, the order paid in full,
no authorisation left open; A's Retry asks nothing more."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from jobs import invoices
from ledger.models import MessageStatus
from orders_out.conftest import World
from orders_out.test_capture_answers import _amounts
from orders_out.test_invoice_documents import _another_nfe, _first_part_in_the_erp
from orders_out.test_invoice_own_capture import _Crash, _cut_short
from shopify_app.admin_api.client import AdminClient


def _never_sent(self, *args, **kwargs):
    raise _Crash("crashed after capture_begun was kept, before orderCapture was sent")


def _fulfil_crash(self, *args, **kwargs):
    raise _Crash("crashed after the capture record was kept")


POINTS = {
    "before_send": ("order_capture", lambda real: _never_sent),
    "landed_no_record": ("order_capture", lambda real: _cut_short(real)),
    "after_record": ("_update_link", lambda real: _fulfil_crash),
}


@pytest.mark.parametrize(
    "runs",
    [
        ["before_send"],
        ["landed_no_record"],
        ["after_record"],
        ["before_send", "landed_no_record"],
        ["landed_no_record", "after_record"],
        ["landed_no_record", "landed_no_record"],
    ],
)
def test_b_reruns_at_every_crash_point(
    world: World, monkeypatch: pytest.MonkeyPatch, runs: list[str]
) -> None:
    order, items, part_a = _first_part_in_the_erp(world)
    real_capture = AdminClient.order_capture
    monkeypatch.setattr(AdminClient, "order_capture", _cut_short(real_capture))
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value
    monkeypatch.setattr(AdminClient, "order_capture", real_capture)

    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    second = None
    for i, point in enumerate(runs):
        name, make = POINTS[point]
        owner = invoices if name.startswith("_") else AdminClient
        real = getattr(owner, name)
        monkeypatch.setattr(
            owner, name, make(real) if owner is AdminClient else (lambda *a, **k: _fulfil_crash(None))
        )
        if i == 0:
            world.poll()
            second = world.messages("invoices", order)[-1]
        else:
            with contextlib.suppress(_Crash):
                invoices.replay(second.id)
        monkeypatch.setattr(owner, name, real)
        second = world.messages("invoices", order)[-1]
        if i == 0:
            assert second.status != MessageStatus.DONE.value, (point, second.response_payload)
        if second.status == MessageStatus.DONE.value:
            break
    if second.status != MessageStatus.DONE.value:
        assert invoices.replay(second.id) == MessageStatus.DONE.value
    second = world.messages("invoices", order)[-1]
    captured = [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    assert _amounts(world, order) == captured, second.response_payload
    assert invoices.replay(first.id) == MessageStatus.DONE.value
    assert _amounts(world, order) == captured
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    assert world.link(order.gid).captured_amount == part_a + part_b

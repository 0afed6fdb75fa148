"""ERP -> Shopify: which of the order's captures are the current NF-e's own when it is run again.
An order of (a x2, b x1) is invoiced in two NF-e: A (item a with the freight), then B (item b). B's
first run begins its capture and fails; its rerun must tell the captures its own runs made (which
it never asks again) from the ones Shopify held before B's charge began (A's): else B would take A's
capture as its own and charge nothing. And a capture of A still pending at the gateway when A's run
crashed is money asked (B never asks it again), never money reported as taken."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from jobs import invoices
from jobs.invoice_documents import Documents, own_landed
from ledger.models import MessageStatus
from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyNetworkError, ShopifyUserErrors, UserError
from shopify_app.admin_api.order_settlement import CaptureInfo, Settlement

from .conftest import World
from .test_capture_answers import _amounts, _fulfillment_fails
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp


class _Crash(Exception):
    """A failure no class names (a bug): the message fails, a person retries."""


def _cut_short(real: object) -> object:
    """orderCapture reaches Shopify, and the run crashes before reading its answer."""

    def cut_short(self: AdminClient, *args: object, **kwargs: object) -> object:
        real(self, *args, **kwargs)  # type: ignore[operator]
        raise _Crash("the run crashed before reading orderCapture's answer")

    return cut_short


@pytest.mark.parametrize("b_fails", ["refused", "unreached"])
@pytest.mark.parametrize("a_was", ["done", "cut_short"])
def test_the_rerun_of_the_next_nfe_whose_capture_took_nothing_charges_its_own_total(
    world: World, monkeypatch: pytest.MonkeyPatch, a_was: str, b_fails: str
) -> None:
    """NF-e A's capture is taken: its message done, or its run cut short after the capture landed
    (capture_begun, no capture record: its message left failed). NF-e B's first run writes that its
    capture began and then takes nothing: Shopify refuses it with a userError (`refused`: B failed
    for a person), or the request never reaches Shopify (`unreached`: a network error, B retrying).
    B's rerun must capture B's total: what Shopify holds is A's capture, which was there before B's
    charge began, not B's own — counted as B's (the rule for a rerun whose own capture may have
    landed), B would charge nothing and the supermarket lose item b's money. A's Retry then asks
    nothing more."""
    order, items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.order_capture
    if a_was == "cut_short":
        monkeypatch.setattr(AdminClient, "order_capture", _cut_short(real))
    world.poll()
    [first] = world.messages("invoices", order)
    status = MessageStatus.DONE if a_was == "done" else MessageStatus.FAILED
    assert first.status == status.value, (first.status, first.error_text)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]

    def took_nothing(self: AdminClient, *args: object, **kwargs: object) -> object:
        if b_fails == "refused":
            raise ShopifyUserErrors("OrderCapture", [UserError(("id",), "Capture could not be made", None)])
        raise ShopifyNetworkError("OrderCapture: connection refused")  # never sent

    monkeypatch.setattr(AdminClient, "order_capture", took_nothing)
    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[-1]
    status = MessageStatus.FAILED if b_fails == "refused" else MessageStatus.RETRYING
    assert second.status == status.value, (second.status, second.error_text)
    assert second.response_payload["capture_begun_at"], second.response_payload
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]

    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert invoices.replay(second.id) == MessageStatus.DONE.value  # the Retry of B (a person's, or RQ's)
    second = world.messages("invoices", order)[-1]
    captured = [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    assert _amounts(world, order) == captured, second.response_payload["capture"]
    assert second.response_payload["final_capture"] is True, second.response_payload
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    link = world.link(order.gid)
    assert link.captured_amount == part_a + part_b
    note = link.needs_attention or ""
    assert "not charged" not in note and "waiting for a further NF-e" not in note, note

    if a_was == "cut_short":
        assert invoices.replay(first.id) == MessageStatus.DONE.value  # a person's Retry of A
        assert _amounts(world, order) == captured
        assert world.link(order.gid).captured_amount == part_a + part_b


@pytest.mark.parametrize("how", ["cut_short", "failed_after_record"])
def test_a_capture_of_the_first_nfe_pending_when_its_run_crashed_is_asked_not_taken(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """NF-e A's capture is answered PENDING by the gateway (a payments app resolves it later), and
    A's run crashes: before reading the answer (`cut_short`: capture_begun, no capture record), or
    after keeping the capture record (`failed_after_record`: its fulfillment crashed). NF-e B then
    captures its own total only — A's pending capture is money asked, never asked again — and
    nothing reports A's money as taken while it is pending (the order link's captured amount, B's
    "captured"). Once the gateway takes A's capture, A's Retry asks nothing anew and the order is
    paid in full."""
    order, items, part_a = _first_part_in_the_erp(world)
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    name = "order_capture" if how == "cut_short" else "fulfillment_create"
    real = getattr(AdminClient, name)

    def failing(self: AdminClient, *args: object, **kwargs: object) -> str:
        raise _fulfillment_fails("crash")

    monkeypatch.setattr(AdminClient, name, _cut_short(real) if how == "cut_short" else failing)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, (first.status, first.error_text)
    assert ("key" in first.response_payload) is (how == "failed_after_record"), first.response_payload
    assert _amounts(world, order) == [("PENDING", str(part_a))]
    monkeypatch.setattr(AdminClient, name, real)

    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[-1]
    assert _amounts(world, order) == [("PENDING", str(part_a)), ("SUCCESS", str(part_b))], (
        second.status, second.error_text, second.response_payload,
    )  # fmt: skip
    assert second.response_payload["captured"] == str(part_b), second.response_payload
    state = world.settlement(order.gid)
    assert state.paid == part_b and state.pending_captures == part_a
    assert world.link(order.gid).captured_amount == part_b

    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # a person's Retry of A
    if second.status != MessageStatus.DONE.value:
        assert invoices.replay(second.id) == MessageStatus.DONE.value
    assert _amounts(world, order) == [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    assert world.link(order.gid).captured_amount == part_a + part_b


def test_the_nfe_own_captures_are_those_beyond_what_shopify_held_when_its_charge_began() -> None:
    """The rule (jobs.invoice_documents.own_landed), pure: A's capture c1 (R$ 100, taken before B's
    charge began), B's c2 (R$ 30 taken) and c3 (R$ 10, pending at the gateway: asked), a refused c4.
    B (R$ 50) owns c2 and c3 once its charge began with c1 held; nothing before it began; all of its
    total once applied (a replay), or when its charge began before that record was kept (the rule
    before: what Shopify holds counts as its own first); never above its total."""
    captures = (
        CaptureInfo("c1", "a1", "SUCCESS", Decimal("100.00")),
        CaptureInfo("c2", "a1", "SUCCESS", Decimal("30.00")),
        CaptureInfo("c3", "a1", "PENDING", Decimal("10.00")),
        CaptureInfo("c4", "a1", "FAILURE", Decimal("20.00")),
    )
    state = Settlement(
        id="gid://shopify/Order/1", name="#1", cancelled_at=None, financial_status=None,
        fulfillment_status=None, tags=[], current_total=None, currency="BRL", total_capturable=Decimal(0),
        authorizations=[], paid=Decimal("130.00"), nfe={}, captures=captures,
    )  # fmt: skip
    b = Documents(["A", "B"], Decimal("150.00"), None, own=Decimal("50.00"), begun=Decimal("100.00"))
    assert own_landed(b, state, False, None) == 0
    assert own_landed(b, state, True, ["c1"]) == Decimal("40.00")
    assert own_landed(b, state, True, ["c1", "c2", "c3", "c4"]) == 0  # its first run took nothing
    assert own_landed(b, state, True, []) == Decimal("50.00")  # never above its own total
    assert own_landed(b, state, True, None) == Decimal("50.00")
    assert own_landed(replace(b, applied_by=7), state, False, None) == Decimal("50.00")

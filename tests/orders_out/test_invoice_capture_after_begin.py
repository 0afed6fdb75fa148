"""ERP -> Shopify: a capture of another NF-e that lands AFTER this NF-e's charge began is not its own.
An order of (a x2, b x1) is invoiced in two NF-e: A (item a with the freight), then B (item b). A
message's runs are told their own captures by the ids Shopify held when its charge began
(jobs.invoice_record.CAPTURES_BEFORE); a capture of the other NF-e landing between two runs of the
message (the other's Retry, a person capturing by hand in Shopify) is beyond them. A rerun whose
previous run had every capture it asked answered (a refusal, a userError: nothing created) knows its
own by the ids its records name, and takes the rest as the other NF-e's: else it charges nothing for
its own NF-e, and that money stays authorised until the authorisation lapses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import invoices
from jobs.invoice_documents import held_by_others
from ledger import handled
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

from .conftest import World
from .test_capture_answers import _amounts
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp
from .test_invoice_own_capture import _Crash, _cut_short


def _refused(self: AdminClient, *args: object, **kwargs: object) -> object:
    raise ShopifyUserErrors("OrderCapture", [UserError(("id",), "Capture could not be made", None)])


def _both_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, Message, Message, Decimal, Decimal]:
    """A's and B's first runs begin their captures and are refused (both left failed, nothing taken)."""
    order, items, part_a = _first_part_in_the_erp(world)
    monkeypatch.setattr(AdminClient, "order_capture", _refused)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value and first.response_payload.get("capture_begun")
    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[-1]
    assert second.status == MessageStatus.FAILED.value, second.error_text
    assert second.response_payload.get("captures_before_begun") == []
    assert _amounts(world, order) == []
    return order, first, second, part_a, part_b


@pytest.mark.parametrize("landed_by", ["a_retry_cut_short", "by_hand"])
def test_the_rerun_of_b_does_not_take_a_capture_of_a_landed_after_b_began_as_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch, landed_by: str
) -> None:
    """A's and B's captures are refused (a userError each: both messages failed, nothing taken). A's
    money then lands after B's charge began: A's Retry captures it and crashes before keeping its
    record (`a_retry_cut_short`), or a person captures A's amount by hand in Shopify (`by_hand`).
    B's Retry must capture B's total: its previous run was refused, so the capture beyond the ids
    Shopify held when B began is not B's. Counted as B's, B charged nothing and ended done."""
    real = AdminClient.order_capture
    order, first, second, part_a, part_b = _both_refused(world, monkeypatch)
    if landed_by == "a_retry_cut_short":
        monkeypatch.setattr(AdminClient, "order_capture", _cut_short(real))
        with pytest.raises(_Crash):
            invoices.replay(first.id)
    else:
        monkeypatch.setattr(AdminClient, "order_capture", real)
        auth = world.settlement(order.gid).open_authorization()
        for_shop(world.domain).order_capture(order.gid, auth.id, part_a, currency="BRL", final_capture=False)
    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]

    assert invoices.replay(second.id) == MessageStatus.DONE.value  # B's Retry
    second = world.messages("invoices", order)[-1]
    captured = [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))]
    assert _amounts(world, order) == captured, second.response_payload
    if landed_by == "a_retry_cut_short":
        assert invoices.replay(first.id) == MessageStatus.DONE.value  # A's Retry asks nothing more
        assert _amounts(world, order) == captured
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None


def test_a_captured_by_hand_then_closed_as_handled_leaves_nothing_of_b_authorised(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's and B's captures refused; a person captures A's amount by hand in Shopify; B's Retry; the
    person closes A as handled (its money was taken by hand). B's Retry must have captured B's
    total: nothing will ever capture it after, and its money would stay authorised until the
    authorisation expires."""
    real = AdminClient.order_capture
    order, first, second, part_a, part_b = _both_refused(world, monkeypatch)
    monkeypatch.setattr(AdminClient, "order_capture", real)
    auth = world.settlement(order.gid).open_authorization()
    for_shop(world.domain).order_capture(order.gid, auth.id, part_a, currency="BRL", final_capture=False)

    assert invoices.replay(second.id) == MessageStatus.DONE.value  # B's Retry
    with session_scope() as session:
        handled.mark(
            session, session.get(Message, first.id), by="staff-1", note="captured by hand in Shopify"
        )
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b, (state.open_authorization(), world.link(order.gid).needs_attention)
    assert state.open_authorization() is None


def test_the_retry_of_a_does_not_take_the_capture_of_b_landed_after_a_began_as_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mirror: A's capture refused (A failed, nothing taken); B's run captures B's money and is
    cut short before keeping its record (B failed, its capture landed after A's charge began). A's
    Retry must capture A's total — B's capture is B's, beyond what Shopify held when A began — and
    B's Retry then asks nothing more."""
    order, items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.order_capture
    monkeypatch.setattr(AdminClient, "order_capture", _refused)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value
    monkeypatch.setattr(AdminClient, "order_capture", _cut_short(real))
    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[-1]
    assert second.status == MessageStatus.FAILED.value, second.error_text
    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert _amounts(world, order) == [("SUCCESS", str(part_b))]

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # A's Retry
    first = world.messages("invoices", order)[0]
    captured = [("SUCCESS", str(part_b)), ("SUCCESS", str(part_a))]
    assert _amounts(world, order) == captured, first.response_payload
    assert invoices.replay(second.id) == MessageStatus.DONE.value  # B's Retry asks nothing more
    assert _amounts(world, order) == captured
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None


def test_the_captures_not_its_own_grow_only_after_a_run_that_had_every_answer() -> None:
    """The rule (jobs.invoice_documents.held_by_others), pure: the charge began with c1 held. The
    last run began with c1, c2 held (c2 landed in a run cut short before: its own) and had every
    answer, naming c3: c4, landed since, is another NF-e's. That run cut short (or no run kept):
    nothing is added. A charge begun before CAPTURES_BEFORE was kept stays without it."""
    answered = {"held": ["c1", "c2"], "answered": True}
    now = ["c1", "c2", "c3", "c4"]
    assert held_by_others(["c1"], answered, now, {"c3"}) == ["c1", "c4"]
    assert held_by_others(["c1"], {**answered, "answered": False}, now, {"c3"}) == ["c1"]
    assert held_by_others(["c1"], None, now, set()) == ["c1"]
    assert held_by_others(None, answered, now, {"c3"}) is None

"""ERP -> Shopify: partial invoicing when the first NF-e's message is left failed after its money was
asked for. An order of (a x2, b x1) is invoiced in two NF-e: A (item a with the freight), then B (item
b). A's run asks its capture and then fails (a fulfillment Shopify refuses, a crash), or is cut short
while asking (no capture record kept: only capture_begun_at), its message left failed for a person
(no Retry yet), when B's event arrives: B must charge its own total, once, and close the
authorisation as the order's last NF-e only when all of A's money was taken; A's Retry afterwards
asks only what A still lacks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import invoices
from ledger.models import MessageStatus
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyNetworkError, ShopifyUserErrors, UserError

from .conftest import World, refund
from .test_capture_answers import _amounts, _fulfillment_fails, _split_authorisation
from .test_invoice_documents import _another_nfe, _first_part_in_the_erp, _nfe_of_item


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


class _Crash(Exception):
    """A failure no class names (a bug): the message fails, a person retries."""


@pytest.mark.parametrize("case", ["landed", "landed_then_refund", "half_landed", "not_landed"])
def test_the_next_nfe_charges_its_own_total_after_an_nfe_whose_capture_was_cut_short(
    world: World, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """NF-e A's run wrote that its capture began (capture_begun, capture_begun_at) and was cut short
    while asking, before any full capture record was kept, its message left failed: Shopify took A's
    capture and the run crashed before reading the answer (`landed`; and the merchant then refunded
    R$5.00, `landed_then_refund`), took it from the first of two authorisations only, R$10.00 short
    (`half_landed`), or refused it with a userError (`not_landed`). NF-e B's event captures B's own
    total and no more, whatever of A landed: what landed is A's (Shopify's transactions say it),
    what did not is left authorised for A's Retry (B's capture is final only when all of A landed).
    A's Retry then asks only what A still lacks."""
    order, items, part_a = _first_part_in_the_erp(world)
    if case == "half_landed":
        _split_authorisation(world, order.gid, part_a - Decimal("10.00"))
    real = AdminClient.order_capture
    calls: list[object] = []

    def cut_short(self: AdminClient, *args: object, **kwargs: object) -> object:
        calls.append(args)
        if case == "not_landed":
            raise ShopifyUserErrors("OrderCapture", [UserError(("id",), "Capture could not be made", None)])
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        raise _Crash("the run crashed before reading orderCapture's answer")

    def first_answered(self: AdminClient, *args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise _Crash("the run crashed asking the second authorisation")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AdminClient, "order_capture", first_answered if case == "half_landed" else cut_short)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, (first.status, first.error_text)
    response = first.response_payload
    assert response["capture_begun_at"] and "key" not in response and "capture_asked" not in response
    landed = {"not_landed": Decimal(0), "half_landed": part_a - Decimal("10.00")}.get(case, part_a)
    before = [("SUCCESS", str(landed))] if landed else []
    assert _amounts(world, order) == before
    if case == "landed_then_refund":
        refund(world, order, Decimal("5.00"))  # the merchant's, after A's capture
    monkeypatch.setattr(AdminClient, "order_capture", real)

    second, part_b = _nfe_of_item(world, order, items, world.plain(1))
    assert _amounts(world, order) == [*before, ("SUCCESS", str(part_b))], second.response_payload["capture"]
    all_landed = landed == part_a
    assert second.response_payload["final_capture"] is all_landed, second.response_payload
    state = world.settlement(order.gid)
    left = state.open_authorization()
    assert (left.unsettled if left else Decimal(0)) == part_a - landed  # kept for A's Retry
    link = world.link(order.gid)
    assert link.captured_amount == landed + part_b
    note = link.needs_attention or ""
    assert "not charged" not in note and "refund" not in note, note
    if all_landed:
        assert "waiting for a further NF-e" not in note, note

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # a person's Retry of A
    rest = [("SUCCESS", str(part_a - landed))] if landed != part_a else []
    assert _amounts(world, order) == [*before, ("SUCCESS", str(part_b)), *rest]
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None
    assert world.link(order.gid).captured_amount == part_a + part_b


def test_the_rerun_of_the_next_nfe_cut_short_too_does_not_charge_it_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NF-e A's capture is refused with a userError (nothing taken: its message failed, capture
    begun); NF-e B's capture is then taken but its answer lost (a network error: B retrying). B's
    rerun finds Shopify holding B's money only: it is B's own (its charge began too), not A's — so
    B asks nothing more, and the authorisation keeps A's money for A's Retry, which takes it."""
    order, items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.order_capture

    def refused(self: AdminClient, *args: object, **kwargs: object) -> object:
        raise ShopifyUserErrors("OrderCapture", [UserError(("id",), "Capture could not be made", None)])

    def lost(self: AdminClient, *args: object, **kwargs: object) -> object:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        raise ShopifyNetworkError("OrderCapture: read timed out")

    monkeypatch.setattr(AdminClient, "order_capture", refused)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value, (first.status, first.error_text)
    monkeypatch.setattr(AdminClient, "order_capture", lost)
    part_b = Decimal(str(items[world.plain(1)]["vlrTotalAtendido"]))
    _another_nfe(world, order.nro, part_b, items=[items[world.plain(1)]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[-1]
    assert second.status == MessageStatus.RETRYING.value, (second.status, second.error_text)
    assert _amounts(world, order) == [("SUCCESS", str(part_b))]

    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert invoices.replay(second.id) == MessageStatus.DONE.value  # RQ's retry of B
    second = world.messages("invoices", order)[-1]
    assert _amounts(world, order) == [("SUCCESS", str(part_b))], second.response_payload["capture"]
    left = world.settlement(order.gid).open_authorization()
    assert left is not None and left.unsettled == part_a  # kept for A's Retry

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # a person's Retry of A
    assert _amounts(world, order) == [("SUCCESS", str(part_b)), ("SUCCESS", str(part_a))]
    state = world.settlement(order.gid)
    assert state.paid == part_a + part_b and state.open_authorization() is None


class _Crash(Exception):
    pass


@pytest.mark.parametrize("how", ["fulfillment_refused", "capture_cut_short"])
def test_the_next_nfe_leaves_the_earlier_nfes_goods_to_its_retry_which_fulfils_them_with_no_false_note(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """B, counted final while A's message failed after its capture, fulfils its own lines only: A's
    Retry fulfils A's goods (with A's tracking), and no note tells a person to fulfil goods that
    are fulfilled."""
    order, items, _ = _first_part_in_the_erp(world)
    name = "fulfillment_create" if how == "fulfillment_refused" else "order_capture"
    real = getattr(AdminClient, name)

    def failing(self, *args, **kwargs):
        if how == "fulfillment_refused":
            raise _fulfillment_fails("refused")
        real(self, *args, **kwargs)  # Shopify takes it; the run crashes before reading the answer
        raise _Crash("crash")

    monkeypatch.setattr(AdminClient, name, failing)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value
    monkeypatch.setattr(AdminClient, name, real)
    _nfe_of_item(world, order, items, world.plain(1))
    assert world.order_doc(order.gid)["displayFulfillmentStatus"] != "FULFILLED"  # not A's goods by B
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # the person's Retry of A
    assert world.order_doc(order.gid)["displayFulfillmentStatus"] == "FULFILLED"
    note = world.link(order.gid).needs_attention or ""
    assert "fulfil NF-e" not in note, note

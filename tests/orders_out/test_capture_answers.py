"""ERP -> Shopify: what Shopify answers to the invoice's capture. Brazilian card gateways are payments
apps, which resolve a capture session later (PENDING, then SUCCESS or FAILURE) or reject it at once;
and a card authorisation lapses about 7 days after the order. Only money taken counts as taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from jobs import invoices
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from sandbox.shopify.checkout import expire_authorizations
from sandbox.shopify.resolvers.order_capture import answer_next_capture, settle_captures
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyNetworkError, ShopifyUserErrors, UserError

from .conftest import LinkedOrder, World, refund
from .test_invoice_documents import _first_part_in_the_erp, _nfe_of_item


def _captures(world: World, order: LinkedOrder) -> list[dict]:
    return [t for t in world.order_doc(order.gid)["_transactions"] if t["kind"] == "CAPTURE"]


def test_a_capture_pending_at_the_gateway_is_checked_again_until_it_is_taken_never_asked_twice(
    world: World,
) -> None:
    """orderCapture answers PENDING: nothing is counted as taken, the NF-e is on the order and
    fulfilled all the same, and the message is checked again (retrying) without asking Shopify for
    the money a second time; once the gateway resolves the capture, the retry ends done with the
    money taken."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.RETRYING.value, (message.status, message.error_text)
    error = message.error_text or ""
    assert "capture pending at the gateway" in error and str(nfe_total) in error, error
    state = world.settlement(order.gid)
    assert state.paid == 0 and state.pending_captures == nfe_total
    assert state.nfe["chave"] and state.active_fulfillments and "NF-e emitida" in state.tags
    link = world.link(order.gid)
    assert link.captured_amount in (None, 0) and link.needs_attention is None

    with pytest.raises(Transient):  # still pending: checked again later, not captured again
        invoices.replay(message.id)
    assert [c["status"] for c in _captures(world, order)] == ["PENDING"]

    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    state = world.settlement(order.gid)
    assert state.paid == nfe_total and state.open_authorization() is None
    assert [c["status"] for c in _captures(world, order)] == ["SUCCESS"]
    link = world.link(order.gid)
    assert link.captured_amount == nfe_total and link.needs_attention is None


@pytest.mark.parametrize("later", [False, True], ids=["at-once", "after-pending"])
def test_a_capture_the_gateway_refuses_is_not_money_taken_and_is_named_for_a_person(
    world: World, later: bool
) -> None:
    """The gateway rejects the capture (PROCESSING_ERROR), at once or after answering PENDING:
    nothing was taken, so the order link says so with the amount and the authorisation (the goods
    leave with the NF-e, the money never came), and the app does not capture it again by itself."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    authorisation = world.settlement(order.gid).open_authorization()
    assert authorisation is not None
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING" if later else "FAILURE")
    nfe_total, message = world.invoice(order)
    if later:
        settle_captures(world.shopify.sandbox, world.name, order.gid, "FAILURE")
        assert invoices.replay(message.id) == MessageStatus.DONE.value
        [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    assert state.paid == 0 and state.nfe["chave"] and state.active_fulfillments
    link = world.link(order.gid)
    assert link.captured_amount in (None, 0)
    note = link.needs_attention or ""
    refused = f"the gateway refused the capture of {nfe_total} from card authorisation {authorisation.id}"
    assert refused in note, note
    assert "PROCESSING_ERROR" in note and f"{nfe_total} was not charged" in note, note
    assert [c["status"] for c in _captures(world, order)] == ["FAILURE"]
    assert invoices.replay(message.id) == MessageStatus.DONE.value  # a retry captures nothing either
    assert len(_captures(world, order)) == 1 and world.settlement(order.gid).paid == 0


def test_an_authorisation_that_expired_before_the_invoice_is_named_as_expired(world: World) -> None:
    """Card networks hold an authorisation about 7 days; a supermarket order scheduled for next
    week is invoiced after it lapsed. The note says the authorisation expired uncaptured — not that
    the NF-e is above what the customer authorised."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    authorisation = world.settlement(order.gid).open_authorization()
    assert authorisation is not None
    expire_authorizations(world.shopify.sandbox, world.name, order.gid)
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(order.gid).paid == 0 and _captures(world, order) == []
    note = world.link(order.gid).needs_attention or ""
    assert note == (
        f"invoices: the NF-e total {nfe_total}: the card authorisation of {authorisation.amount} expired "
        f"uncaptured (0 taken): {nfe_total} was not charged; charge the customer again or absorb it"
    ), note
    assert "above what the customer" not in note and Decimal(nfe_total) > 0


def test_an_authorisation_voided_before_the_invoice_is_named_as_voided(world: World) -> None:
    """A person voided the card authorisation in Shopify admin after the order reached the ERP, and
    the ERP invoiced it anyway. The note says the authorisation was voided — not that the NF-e is
    above what the customer paid or authorised — and the message ends done, as for a lapsed one."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    authorisation = world.settlement(order.gid).open_authorization()
    assert authorisation is not None
    for_shop(world.domain).transaction_void(authorisation.id)  # a person, in Shopify admin
    assert world.settlement(order.gid).financial_status == "VOIDED"
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.settlement(order.gid).paid == 0 and _captures(world, order) == []
    note = world.link(order.gid).needs_attention or ""
    assert note == (
        f"invoices: the NF-e total {nfe_total}: the card authorisation of {authorisation.amount} was voided "
        f"in Shopify (0 taken): {nfe_total} was not charged; charge the customer another way or absorb it"
    ), note
    assert "above what the customer" not in note and Decimal(nfe_total) > 0


def test_an_order_paid_in_another_currency_is_not_captured_in_the_shops_and_is_named(world: World) -> None:
    """A Shopify Markets order the customer paid in USD: orderCapture must ask in USD, and every amount
    the app reads and the NF-e carry is in BRL. Nothing is asked at a rate of the app's choosing (nor
    in BRL, which Shopify refuses, failing the invoice before its fulfilment): the invoice is written
    and fulfilled, and the capture is named for a person, who captures it in Shopify admin."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    doc = world.order_doc(order.gid)
    world.shopify.sandbox.store.put(world.name, {**doc, "presentmentCurrencyCode": "USD"})
    _nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    settlement = world.settlement(order.gid)
    assert settlement.presentment_currency == "USD" and _captures(world, order) == []
    assert settlement.open_authorization() is not None  # left whole for the person
    assert world.settlement(order.gid).fulfillments, "the goods left: fulfilled whatever the money"
    note = world.link(order.gid).needs_attention or ""
    assert "the customer paid in USD and the app captures in the shop's currency (BRL) only" in note, note
    with pytest.raises(ShopifyUserErrors):  # the sandbox refuses a capture asked in BRL, as Shopify does
        for_shop(world.domain).order_capture(order.gid, settlement.open_authorization().id, Decimal("1.00"),
                                             currency="BRL")  # fmt: skip


def test_an_order_paid_in_full_in_another_currency_asks_no_person_to_capture_it(world: World) -> None:
    """Paid by Pix (a sale: nothing authorised), the NF-e for what was paid: nothing is left to capture.
    The foreign currency's note ("capture the NF-e's amount from the order in Shopify admin") was put
    on every such order, and a person following it would charge the customer a second time."""
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    doc = world.order_doc(order.gid)
    world.shopify.sandbox.store.put(world.name, {**doc, "presentmentCurrencyCode": "USD"})
    assert world.settlement(order.gid).open_authorization() is None
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert Decimal(nfe_total) == world.settlement(order.gid).paid
    assert world.link(order.gid).needs_attention is None


def _amounts(world: World, order: LinkedOrder) -> list[tuple[str, str]]:
    return [(c["status"], c["amountSet"]["shopMoney"]["amount"]) for c in _captures(world, order)]


def test_the_recheck_of_a_pending_capture_does_not_take_back_a_refund_made_since(world: World) -> None:
    """Partial invoicing: NF-e A's capture answers PENDING, the gateway then takes it and the
    merchant refunds R$5.00 (a damaged item) before the re-check. The re-check only reads what the
    capture it asked became: it does not work out again what is due (which would count the refund as
    money owed and capture it again from the authorisation kept for NF-e B). NF-e B then captures
    its own part: NF-e A was charged when its capture was asked, before the refund (not when the
    re-check finished, after it)."""
    order, items, part_a = _first_part_in_the_erp(world)
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.RETRYING.value, first.error_text
    asked = first.response_payload["capture_asked"]
    assert [(c["amount"], c["transaction"]) for c in asked["captures"]] == [
        (str(part_a), _captures(world, order)[0]["id"])
    ]
    # The capture was asked a minute ago; the gateway took it, and 30 seconds ago the merchant refunded.
    asked["at"] = (datetime.fromisoformat(asked["at"]) - timedelta(seconds=60)).isoformat()
    with session_scope() as session:
        message = session.get(Message, first.id)
        assert message is not None
        message.response_payload = {**message.response_payload, "capture_asked": asked}
    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    refund(world, order, Decimal("5.00"), datetime.now(UTC) - timedelta(seconds=30))
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # the re-check (RQ retry / catch-up)
    [first] = world.messages("invoices", order)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))], first.response_payload["capture"]
    assert "checked again (nothing asked anew)" in first.response_payload["capture"]
    assert first.response_payload["capture_asked"]["at"] == asked["at"]
    assert world.link(order.gid).captured_amount == part_a

    second, part_b = _nfe_of_item(world, order, items, world.plain(1))
    assert _amounts(world, order) == [("SUCCESS", str(part_a)), ("SUCCESS", str(part_b))], (
        second.response_payload["capture"]
    )
    assert world.link(order.gid).needs_attention is None


def test_the_recheck_of_a_pending_final_capture_does_not_ask_to_collect_a_refund(world: World) -> None:
    """One NF-e: its capture answers PENDING, the gateway takes it, the merchant refunds R$5.00. The
    re-check reports the money taken; it does not flag the refund as 'NF-e above what the customer
    paid: collect it'."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.RETRYING.value
    settle_captures(world.shopify.sandbox, world.name, order.gid, "SUCCESS")
    refund(world, order, Decimal("5.00"))
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    link = world.link(order.gid)
    assert link.needs_attention is None, link.needs_attention
    assert link.captured_amount == nfe_total and _amounts(world, order) == [("SUCCESS", str(nfe_total))]


def test_a_pending_capture_the_gateway_then_refuses_is_reported_by_the_recheck(world: World) -> None:
    """The re-check of a pending capture the gateway then rejects names it for a person and captures
    nothing anew (the app does not capture a refused authorisation again by itself)."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    answer_next_capture(world.shopify.sandbox, world.name, order.gid, "PENDING")
    nfe_total, message = world.invoice(order)
    with pytest.raises(Transient):  # still pending: the re-check asks nothing
        invoices.replay(message.id)
    assert _amounts(world, order) == [("PENDING", str(nfe_total))]
    settle_captures(world.shopify.sandbox, world.name, order.gid, "FAILURE")
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    note = world.link(order.gid).needs_attention or ""
    assert f"the gateway refused the capture of {nfe_total}" in note and "PROCESSING_ERROR" in note, note
    assert _amounts(world, order) == [("FAILURE", str(nfe_total))]


class _Crash(Exception):
    """A failure no class names (a bug in the run after the capture): the message fails, a person retries."""


def _fulfillment_fails(how: str) -> Exception:
    if how == "refused":  # Shopify refuses the fulfillment: a person fixes it and clicks Retry
        return ShopifyUserErrors(
            "FulfillmentCreate", [UserError(("fulfillment",), "Location inactive", None)]
        )
    if how == "transient":  # the network fails under it: RQ retries, then the orders catch-up
        return Transient("fulfillmentCreate: connection reset")
    return _Crash("the run crashed after the capture")


@pytest.mark.parametrize("how", ["refused", "transient", "crash"])
def test_a_rerun_after_the_capture_does_not_take_back_a_refund_made_in_between(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """NF-e A (not the last: item b's NF-e is to come, the rest stays authorised) is captured
    (SUCCESS), then the run fails before its message is done (fulfillmentCreate refused, a network
    failure, a crash). Meanwhile the merchant refunds R$5.00. The rerun follows the capture its first
    run recorded asking (capture_asked) and plans nothing anew: worked out again, what is due would
    count the refund as money owed and capture it back from the authorisation kept for item b."""
    order, _items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.fulfillment_create

    def failing(self: AdminClient, *args: object, **kwargs: object) -> str:
        raise _fulfillment_fails(how)

    monkeypatch.setattr(AdminClient, "fulfillment_create", failing)
    world.poll()
    [first] = world.messages("invoices", order)
    expected = MessageStatus.RETRYING if how == "transient" else MessageStatus.FAILED
    assert first.status == expected.value, (first.status, first.error_text)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]  # taken before the failure
    asked = first.response_payload.get("capture_asked")
    assert asked and [c["amount"] for c in asked["captures"]] == [str(part_a)], first.response_payload

    refund(world, order, Decimal("5.00"))
    monkeypatch.setattr(AdminClient, "fulfillment_create", real)  # fixed: the rerun (Retry, RQ retry)
    assert invoices.replay(first.id) == MessageStatus.DONE.value
    [first] = world.messages("invoices", order)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))], first.response_payload["capture"]
    assert "checked again (nothing asked anew)" in first.response_payload["capture"]
    state = world.settlement(order.gid)
    assert state.paid == part_a and state.refunded == Decimal("5.00")
    assert state.open_authorization() is not None and state.active_fulfillments  # kept for item b
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # done: a replay captures nothing either
    assert "applied already" in world.messages("invoices", order)[0].response_payload["capture"]
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]


def test_an_nfe_total_below_the_cent_is_captured_rounded_to_the_cent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ERP gives the order's only NF-e a total with a third decimal (R$ x.xx5, half a cent below
    the served total). orderCapture is asked for whole cents (rounded half up: the served total),
    never a fraction of one; the capture is final and no refund of the half cent is named."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    erp_order = world.erp.invoice(order.nro)
    served = Decimal(str(erp_order["vlrTotalAtendido"]))
    sub_cent = served - Decimal("0.005")
    world.rewrite_event(order.nro, "F", lambda d: d["documentoFiscal"].update(vlrTotal=float(sub_cent)))
    sent: list[Decimal] = []
    real = AdminClient.order_capture

    def spying(self: AdminClient, order_id: str, parent: str, amount: Decimal, **kwargs: object) -> object:
        sent.append(amount)
        return real(self, order_id, parent, amount, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AdminClient, "order_capture", spying)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert sent == [served] and all(a.as_tuple().exponent == -2 for a in sent), sent
    assert _amounts(world, order) == [("SUCCESS", str(served))]
    assert message.response_payload["final_capture"] is True
    link = world.link(order.gid)
    assert link.needs_attention is None, link.needs_attention
    assert world.settlement(order.gid).open_authorization() is None


def _split_authorisation(world: World, gid: str, first: Decimal) -> None:
    """The customer's card authorisation split in two (two cards at checkout): `first`, and the rest."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context
    from sandbox.shopify.order_totals import bag

    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, gid)
        auth = next(t for t in doc["_transactions"] if t["kind"] == "AUTHORIZATION")
        total = Decimal(auth["amountSet"]["shopMoney"]["amount"])
        second = dict(auth)
        second["id"] = order_store.new_id(ctx, "OrderTransaction")
        second["amountSet"] = bag(total - first)
        auth["amountSet"] = bag(first)
        doc["_transactions"].append(second)
        order_store.save(ctx, doc, touch=True)


def _then_nfe_b(world: World, order: LinkedOrder, items: dict, before: list[tuple[str, str]]) -> None:
    """Item b's NF-e: it captures its own total only and names nothing to collect, as the refund was
    made after NF-e A's charge began."""
    second, part_b = _nfe_of_item(world, order, items, world.plain(1))
    assert _amounts(world, order) == [*before, ("SUCCESS", str(part_b))], second.response_payload["capture"]
    assert world.link(order.gid).needs_attention is None, world.link(order.gid).needs_attention


def test_a_rerun_after_a_capture_cut_short_between_two_authorisations_does_not_take_back_a_refund(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two authorisations (two cards): NF-e A's capture from the first is taken, the one from the
    second raises a network error (never resent), before any full capture record is kept. The
    merchant refunds R$5.00 of the capture taken. The rerun asks only the R$10.00 still owed from the
    second authorisation, not R$15.00: it plans from the time the charge began (kept on the message
    before the first orderCapture), reading the captures that landed from Shopify's transactions. The
    first capture's record was kept on the message as it was answered; item b's NF-e later captures
    its own total only."""
    order, items, part_a = _first_part_in_the_erp(world)
    _split_authorisation(world, order.gid, part_a - Decimal("10.00"))
    real = AdminClient.order_capture
    calls: list[object] = []

    def second_lost(self: AdminClient, *args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise ShopifyNetworkError("OrderCapture: connection reset")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AdminClient, "order_capture", second_lost)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.RETRYING.value, (first.status, first.error_text)
    taken = ("SUCCESS", str(part_a - Decimal("10.00")))
    assert _amounts(world, order) == [taken]
    response = first.response_payload
    assert "capture_asked" not in response and response["capture_begun_at"], response
    [so_far] = response["capture_asked_so_far"]
    assert [c["amount"] for c in so_far["captures"]] == [taken[1]], so_far

    refund(world, order, Decimal("5.00"))  # the merchant's, after the capture
    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # RQ's retry
    [first] = world.messages("invoices", order)
    assert _amounts(world, order) == [taken, ("SUCCESS", "10.00")], first.response_payload["capture"]
    assert first.response_payload["charged_at"] == response["capture_begun_at"]
    assert first.response_payload["capture_asked_so_far"] == [so_far]  # the run cut short, kept
    _then_nfe_b(world, order, items, [taken, ("SUCCESS", "10.00")])


def test_a_rerun_after_a_capture_whose_answer_was_lost_does_not_take_back_a_refund(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One authorisation: Shopify takes NF-e A's capture but its answer is lost (a network error,
    never resent). The merchant refunds R$5.00; the rerun sees the capture among the order's
    transactions and asks nothing more (it planned R$5.00 before: the refund, as money owed)."""
    order, items, part_a = _first_part_in_the_erp(world)
    real = AdminClient.order_capture

    def lost(self: AdminClient, *args: object, **kwargs: object) -> object:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        raise ShopifyNetworkError("OrderCapture: read timed out")

    monkeypatch.setattr(AdminClient, "order_capture", lost)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.RETRYING.value, (first.status, first.error_text)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))]
    refund(world, order, Decimal("5.00"))
    monkeypatch.setattr(AdminClient, "order_capture", real)
    assert invoices.replay(first.id) == MessageStatus.DONE.value  # RQ's retry
    [first] = world.messages("invoices", order)
    assert _amounts(world, order) == [("SUCCESS", str(part_a))], first.response_payload["capture"]
    _then_nfe_b(world, order, items, [("SUCCESS", str(part_a))])

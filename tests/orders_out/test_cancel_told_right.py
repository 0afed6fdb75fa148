"""ERP -> Shopify cancellation: what the message says when

- orderCancel reached Shopify and its answer was lost: the retry finds the order cancelled by the
  app's own request, and says so (done, with what it asked: restock, refund), not "already
  cancelled", which tells a person someone else cancelled it;
- a fulfillment service holds the order (it accepted the fulfillment request): Shopify refuses the
  cancellation, and the message names the service and what to do, keeping Shopify's words.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from jobs.cancellations import to_shopify as cancel_side
from ledger.errors import Transient
from ledger.models import MessageStatus
from sandbox.shopify.fulfillment_service import hold

from .conftest import World
from .test_cancel_and_refusals import _lose_the_first_answer


def _cancelled_in_shopify(world: World, gid: str) -> None:
    for _ in range(50):  # the sandbox's cancel job ends within a second
        if world.order_doc(gid)["cancelledAt"]:
            return
        time.sleep(0.1)
    raise AssertionError("Shopify's cancel job never ended")


def _replayed(world: World, order: Any) -> Any:
    """What RQ's retries run, until the message is no longer retrying."""
    for _ in range(20):
        [message] = world.messages("cancellations", order)
        if message.status not in (MessageStatus.RETRYING.value, MessageStatus.PENDING.value):
            return message
        try:
            cancel_side.replay(message.id)
        except Transient:
            time.sleep(0.25)
    raise AssertionError("still retrying")


@pytest.mark.parametrize("when", ["job-ended", "job-running"])
def test_a_cancellation_whose_answer_was_lost_reads_as_the_apps_own_not_already_cancelled(
    world: World, monkeypatch: Any, when: str
) -> None:
    """Shopify took orderCancel and its answer never came back. Retried after Shopify's cancel job
    ended, or while it still runs (orderCancel sent again is refused as already cancelled), the
    message ends done as a cancellation the app made, saying its answer was lost, with what it
    asked of the order (restock, refund) and what Shopify shows of the money."""
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    sent = _lose_the_first_answer(monkeypatch, "OrderCancel")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert sent == ["OrderCancel"] and message.status == MessageStatus.RETRYING.value, message.error_text
    if when == "job-ended":
        _cancelled_in_shopify(world, order.gid)
    message = _replayed(world, order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "already cancelled" not in (message.error_text or "")
    outcome = message.response_payload
    assert outcome["done"] is True and outcome["cancelled_at"] and outcome["reason"] == "CUSTOMER"
    assert outcome["restock"] is True and outcome["refund"] is True
    assert outcome["financial_status"] == "REFUNDED"
    said = outcome["answer_lost"]
    assert said.startswith("The cancellation the app asked for took effect") and "answer was lost" in said, (
        said
    )
    assert world.link(order.gid).erp_status == "C"


def test_an_order_cancelled_by_someone_else_after_a_refused_cancel_still_reads_already_cancelled(
    world: World,
) -> None:
    """The app's orderCancel was refused (a fulfillment service held the order): Shopify did nothing
    on it. Cancelled later in the Shopify admin, the Retry finds it cancelled by someone else: that
    is "already cancelled", not the app's own cancellation."""
    from shopify_app.admin_api import for_shop

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", None)
    for_shop(world.domain).order_cancel(order.gid, reason="STAFF", restock=True)
    _cancelled_in_shopify(world, order.gid)

    assert cancel_side.replay(message.id) == MessageStatus.SKIPPED.value
    [message] = world.messages("cancellations", order)
    assert "already cancelled" in (message.error_text or ""), message.error_text


@pytest.mark.parametrize("held", ["ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"])
def test_a_cancel_refused_because_a_fulfillment_service_holds_the_order_says_what_to_do(
    world: World, held: str
) -> None:
    """A fulfillment service took the order's fulfillment (Shopify: "Fulfillment in progress"):
    Shopify refuses orderCancel. The message names the service and what blocks the cancellation,
    tells what to do (have the service cancel its fulfillment, then Retry) and keeps Shopify's own
    words as the detail. Once the service gives the order back, Retry cancels it."""
    from shopify_app.api_explain import explain

    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", held)
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    detail = message.error_detail or {}
    assert detail.get("code") == "CANCEL_HELD_BY_FULFILLMENT_SERVICE", (detail, message.error_text)
    text = message.error_text or ""
    name = world.link(order.gid).shopify_order_name
    assert f"Shopify did not cancel order {name}" in text and "Armazém Log" in text, text
    assert "orderCancel rejected" not in text.split(". ")[0], text  # not Shopify's raw words first
    assert "click Retry" in text and "fulfillment service" in text, text
    assert held != "ACCEPTED" or "Request cancellation" in text, text
    assert detail["shopify_code"] == "INVALID" and detail["user_errors"][0]["code"] == "INVALID"
    assert detail["shopify_words"] and "fulfillment" in detail["shopify_words"][0]
    assert detail["fulfillment_orders"][0]["request_status"] == held
    assert "fulfillment service" in explain(message, "en")["what_to_do"]
    assert world.order_doc(order.gid)["cancelledAt"] is None
    assert "cancel_sent" not in (message.response_payload or {})  # refused: nothing was sent that took

    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", None)  # the service let it go
    cancel_side.replay(message.id)
    message = _replayed(world, order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "answer_lost" not in message.response_payload
    assert world.order_doc(order.gid)["cancelledAt"]


def test_the_app_asks_for_the_scope_that_shows_a_fulfillment_services_fulfillment_orders() -> None:
    """Shopify answers Order.fulfillmentOrders with only the fulfillment orders the app's scopes
    cover: a fulfillment service's need read_third_party_fulfillment_orders. Without it the hold
    above could never be seen on a real store (the sandbox does not filter by scope)."""
    import tomllib

    from settings import DEFAULT_SCOPES, ROOT

    with (ROOT / "shopify.app.toml").open("rb") as handle:
        asked = tomllib.load(handle)["access_scopes"]["scopes"].split(",")
    assert "read_third_party_fulfillment_orders" in asked
    assert "read_third_party_fulfillment_orders" in DEFAULT_SCOPES.split(",")


def test_a_store_that_has_not_granted_the_scope_is_told_the_app_cannot_see_a_service(
    world: World, monkeypatch: Any
) -> None:
    """A store installed before the app asked for read_third_party_fulfillment_orders: Shopify
    leaves the service's fulfillment orders out of the read, so no hold is seen. The refusal keeps
    Shopify's words and says what the app cannot see and what to do (check the admin, approve the
    permissions), in both languages."""
    from ledger.db import session_scope
    from ledger.models import Shop
    from settings import DEFAULT_SCOPES
    from shopify_app.admin_api.order_ops import OrderOperations
    from shopify_app.note_words import say_note

    real = OrderOperations.fulfillment_orders

    def as_shopify_filters(self: Any, order_id: str) -> Any:  # what an app lacking the scope reads
        return [fo for fo in real(self, order_id) if fo.request_status in (None, "UNSUBMITTED")]

    monkeypatch.setattr(OrderOperations, "fulfillment_orders", as_shopify_filters)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.scopes = ",".join(
            s for s in DEFAULT_SCOPES.split(",") if s != "read_third_party_fulfillment_orders"
        )
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", "ACCEPTED")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    text = message.error_text or ""
    assert text.startswith("OrderCancel rejected"), text  # Shopify's words first: it may be another refusal
    assert "cannot tell whether a fulfillment service holds order" in text, text
    assert "read_third_party_fulfillment_orders" in text and "approve the permissions" in text, text
    assert (message.error_detail or {}).get("missing_scope") == "read_third_party_fulfillment_orders"
    note = world.link(order.gid).needs_attention or ""
    assert "cannot tell whether a fulfillment service" in note, note
    from ledger import order_notes

    [said] = [say_note(p, "pt-BR") for p in order_notes.words_of(world.link(order.gid)).values()]
    assert said and "não consegue saber se um serviço de processamento" in said, said
    hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", None)


def _cancel_cut_off(world: World, monkeypatch: Any) -> tuple[Any, Any]:
    """An ERP cancellation of a one-line Pix order whose orderCancel is cut off before Shopify got it
    (the app cannot tell: it is marked sent, retrying): (the order, its cancellations message)."""
    from shopify_app.admin_api.errors import ShopifyNetworkError
    from shopify_app.admin_api.transport import AdminTransport

    real_send = AdminTransport.send

    def cut(self: Any, op: Any, variables: Any, token: Any) -> Any:
        if op.name == "OrderCancel":
            raise ShopifyNetworkError("connection reset")
        return real_send(self, op, variables, token)

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    with monkeypatch.context() as patched:
        patched.setattr(AdminTransport, "send", cut)
        world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value and message.response_payload.get("cancel_sent")
    return order, message


def test_a_cancel_that_never_reached_shopify_then_made_by_a_person_reads_already_cancelled(
    world: World, monkeypatch: Any
) -> None:
    """orderCancel was sent and cut off before Shopify got it (the app cannot tell: it is marked
    sent); a person then cancels the order in the admin with their own staff note. The retry finds
    a cancellation whose staff note is not the app's: someone else's, "already cancelled"."""
    from shopify_app.admin_api import for_shop

    order, message = _cancel_cut_off(world, monkeypatch)
    for_shop(world.domain).order_cancel(
        order.gid, reason="CUSTOMER", restock=True, staff_note="Cliente ligou"
    )
    _cancelled_in_shopify(world, order.gid)

    assert cancel_side.replay(message.id) == MessageStatus.SKIPPED.value
    [message] = world.messages("cancellations", order)
    assert "already cancelled" in (message.error_text or ""), message.error_text


@pytest.mark.parametrize("refusal", ["held by a fulfillment service", "refused as a whole"])
def test_a_refusal_after_a_cut_call_drops_the_sent_mark(world: World, monkeypatch: Any, refusal: str) -> None:
    """orderCancel cut off before reaching Shopify (marked sent); its Retry refused (a fulfillment
    service holds the order, or the request refused as a whole): the order was read not cancelled
    and the refusal is not "already cancelled", so neither call took and the mark goes. A person
    then cancels the order by hand, with no staff note and keeping stock and money: the next Retry
    reads it as theirs ("already cancelled", skipped), never as the app's own cancellation "with its
    units restocked and the payment refunded"."""
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.errors import ShopifyGraphQLError
    from shopify_app.admin_api.transport import AdminTransport

    real_send = AdminTransport.send

    def refused(self: Any, op: Any, variables: Any, token: Any) -> Any:
        if op.name == "OrderCancel":
            raise ShopifyGraphQLError(
                "OrderCancel", [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]
            )
        return real_send(self, op, variables, token)

    order, message = _cancel_cut_off(world, monkeypatch)

    with monkeypatch.context() as patched:
        if refusal == "refused as a whole":
            patched.setattr(AdminTransport, "send", refused)
        else:
            hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log")
        cancel_side.replay(message.id)
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    code = "CANCEL_HELD_BY_FULFILLMENT_SERVICE" if refusal != "refused as a whole" else "ACCESS_DENIED"
    assert (message.error_detail or {}).get("code") == code, message.error_detail
    assert "cancel_sent" not in (message.response_payload or {}), "a refusal left the call marked sent"

    if refusal != "refused as a whole":
        hold(world.shopify.sandbox, world.name, order.gid, "Armazém Log", None)
    for_shop(world.domain).order_cancel(order.gid, reason="STAFF", restock=False)  # by hand, no note
    _cancelled_in_shopify(world, order.gid)

    assert cancel_side.replay(message.id) == MessageStatus.SKIPPED.value
    [message] = world.messages("cancellations", order)
    assert "answer_lost" not in (message.response_payload or {}), message.response_payload.get("answer_lost")
    assert "already cancelled" in (message.error_text or ""), message.error_text


def test_a_request_not_accepted_yet_is_withdrawn_and_the_furthest_along_decides() -> None:
    """Pure: a request the service has not answered is withdrawn (Cancel request); with several
    fulfillment orders the one furthest along says what to do; finished ones hold nothing."""
    from jobs.cancellations.service_hold import held, hold_refusal
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
    from shopify_app.admin_api.order_results import FulfillmentOrder

    refusal = ShopifyUserErrors("OrderCancel", [UserError(("orderId",), "Cannot cancel.", "INVALID")])
    fo = "gid://shopify/FulfillmentOrder/"
    submitted = FulfillmentOrder(
        f"{fo}1", "OPEN", None, request_status="SUBMITTED", location_name="Armazém Log"
    )
    rejected = FulfillmentOrder(
        f"{fo}2", "IN_PROGRESS", None, request_status="CANCELLATION_REJECTED", location_name="Armazém Log"
    )
    closed = FulfillmentOrder(f"{fo}3", "CLOSED", None, request_status="ACCEPTED")
    mine = FulfillmentOrder(f"{fo}4", "OPEN", None, request_status="UNSUBMITTED")
    assert held([submitted, closed, mine]) == [submitted]
    one = hold_refusal("#1001", [submitted], refusal)
    assert "Cancel request" in one.message and one.message.endswith("Shopify said: Cannot cancel.")
    both = hold_refusal("#1001", [submitted, rejected], refusal)
    assert "refused to cancel its fulfillment" in both.message and "contact the service" in both.message
    assert both.code == "CANCEL_HELD_BY_FULFILLMENT_SERVICE" and both.detail["shopify_code"] == "INVALID"


@pytest.mark.parametrize(
    "status", ["SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"]
)
def test_a_fulfillment_services_hold_is_said_in_both_languages_as_its_text_reads(status: str) -> None:
    """CANCEL_HELD_BY_FULFILLMENT_SERVICE carries its words (shopify_app.note_words): said in English
    they are the refusal as written, the services, what they do and what to do alike; in pt-BR they
    name the same services and keep Shopify's own words."""
    from jobs.cancellations.service_hold import hold_refusal
    from ledger.words import stored
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
    from shopify_app.admin_api.order_results import FulfillmentOrder
    from shopify_app.note_words import say_note

    refusal = ShopifyUserErrors("OrderCancel", [UserError(("orderId",), "Cannot cancel.", "INVALID")])
    fo = "gid://shopify/FulfillmentOrder/"
    holding = [
        FulfillmentOrder(f"{fo}1", "OPEN", None, request_status=status, location_name="Armazém Log"),
        FulfillmentOrder(f"{fo}2", "OPEN", None, request_status="SUBMITTED"),  # a service not named
    ]
    refused = hold_refusal("#1001", holding, refusal)
    assert refused.words is not None, "the refusal has no words: the note reads in English only"
    part = [stored(refused.words)]
    assert say_note(part, "en") == refused.message
    pt = say_note(part, "pt-BR")
    assert pt is not None and "{" not in pt and pt.startswith("A Shopify não cancelou o pedido #1001"), pt
    assert (
        "Armazém Log e um serviço de processamento" in pt or "um serviço de processamento e Armazém Log" in pt
    )
    assert pt.endswith("A Shopify disse: Cannot cancel."), pt
    assert "Shopify did not" not in pt and "Tentar de novo" in pt, pt


def _reworded(monkeypatch: Any) -> None:
    """Shopify refuses a second orderCancel in words of its own: it publishes none (its
    OrderCancelUserErrorCode says INVALID), so the sandbox's "already been cancelled" is said
    without "already" here, and the app must decide from the order, not from the words."""
    from sandbox.shopify.resolvers import order_cancel as resolver

    real = resolver._error

    def error(field: Any, message: str, code: str) -> dict[str, Any]:
        if "already" in message.lower():
            message = "Order cannot be cancelled."
        return real(field, message, code)

    monkeypatch.setattr(resolver, "_error", error)


def test_a_retry_refused_while_the_lost_cancel_still_runs_waits_whatever_shopify_says(
    world: World, monkeypatch: Any
) -> None:
    """orderCancel's answer was lost and Shopify's cancel job still runs: the retry's orderCancel
    is refused in words without "already". The order is not cancelled yet and the earlier call was
    just sent: it may still take, so the message keeps retrying (the mark kept), and ends done as the
    app's own cancellation once Shopify's job has run."""
    from sandbox.shopify.resolvers import order_cancel as resolver

    _reworded(monkeypatch)
    monkeypatch.setattr(resolver, "CANCEL_DELAY_SECONDS", 2.0)  # the retry comes while it runs
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    sent = _lose_the_first_answer(monkeypatch, "OrderCancel")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value, message.error_text

    with pytest.raises(Transient):
        cancel_side.replay(message.id)
    [message] = world.messages("cancellations", order)
    assert sent == ["OrderCancel", "OrderCancel"]  # sent again, refused
    assert message.status == MessageStatus.RETRYING.value, message.error_text
    assert message.response_payload.get("cancel_sent"), "the earlier call, that may take, forgotten"
    assert "Order cannot be cancelled." in (message.error_text or "")

    _cancelled_in_shopify(world, order.gid)
    message = _replayed(world, order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["answer_lost"].startswith(
        "The cancellation the app asked for took effect"
    )


def test_a_refusal_that_finds_the_order_cancelled_by_the_lost_call_is_the_apps_own_whatever_its_words(
    world: World, monkeypatch: Any
) -> None:
    """orderCancel's answer was lost; the retry reads the order not cancelled yet, and Shopify's job
    ends before the retry's orderCancel, which is refused in words without "already". The order,
    read again, is cancelled with the app's staff note: done, the app's own cancellation."""
    from sandbox.shopify import order_store
    from sandbox.shopify.resolvers import order_cancel as resolver

    _reworded(monkeypatch)
    monkeypatch.setattr(resolver, "CANCEL_DELAY_SECONDS", 30.0)  # ended below, by hand
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    sent = _lose_the_first_answer(monkeypatch, "OrderCancel")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value, message.error_text
    real = cancel_side._cancel_fulfillments

    def then_the_job_ends(*args: Any, **kwargs: Any) -> None:  # between the read and orderCancel
        real(*args, **kwargs)
        with order_store.for_control(world.shopify.sandbox, world.name, order.gid) as (ctx, doc):
            resolver.complete_if_due(ctx, ctx.store.get(ctx.shop, doc["_cancelJob"]), force=True)
        assert world.order_doc(order.gid)["cancelledAt"]

    monkeypatch.setattr(cancel_side, "_cancel_fulfillments", then_the_job_ends)
    assert cancel_side.replay(message.id) == MessageStatus.DONE.value
    [message] = world.messages("cancellations", order)
    assert sent == ["OrderCancel", "OrderCancel"]
    assert message.response_payload["answer_lost"].startswith(
        "The cancellation the app asked for took effect"
    )


@pytest.mark.parametrize("sent", ["just now", "long ago"])
def test_a_refusal_in_other_words_after_a_cut_call_waits_only_while_that_call_may_still_take(
    world: World, monkeypatch: Any, sent: str
) -> None:
    """orderCancel cut off (marked sent: the app cannot tell whether Shopify got it); the retry's is
    refused in words of Shopify's own, no fulfillment service holds the order and it is not
    cancelled. Sent just now, the cut call may still be cancelling it: retried, the mark kept. Sent
    long ago (longer than any cancel job takes), it did not take: the refusal is Shopify's, the
    message failed with its words and the mark dropped."""
    from datetime import timedelta

    from ledger.db import session_scope
    from ledger.models import Message, utcnow
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
    from shopify_app.admin_api.order_ops import OrderOperations

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ShopifyUserErrors(
            "OrderCancel", [UserError(("orderId",), "Order cannot be cancelled.", "INVALID")]
        )

    order, message = _cancel_cut_off(world, monkeypatch)
    if sent == "long ago":
        with session_scope() as session:
            row = session.get(Message, message.id)
            row.response_payload = {
                **row.response_payload,
                "cancel_sent": (utcnow() - timedelta(hours=1)).isoformat(),
            }

    monkeypatch.setattr(OrderOperations, "order_cancel", refuse)
    if sent == "just now":
        with pytest.raises(Transient):
            cancel_side.replay(message.id)
    else:
        assert cancel_side.replay(message.id) == MessageStatus.FAILED.value
    [message] = world.messages("cancellations", order)
    assert "Order cannot be cancelled." in (message.error_text or ""), message.error_text
    if sent == "just now":
        assert message.status == MessageStatus.RETRYING.value, message.error_text
        assert message.response_payload.get("cancel_sent")
    else:
        assert message.status == MessageStatus.FAILED.value, message.error_text
        assert "cancel_sent" not in (message.response_payload or {})
    assert world.order_doc(order.gid)["cancelledAt"] is None

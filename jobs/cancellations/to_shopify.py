"""Cancellations ERP -> Shopify (flow `cancellations`): an order cancelled in the ERP.

Source: EventoPedido 'C' (jobs.order_events enqueues `apply_event(shop_id, seq_evento)`),
before or after invoicing (`nfeCancelada`: the NF-e was cancelled too). Unit of work: one event.

orderCancel is asynchronous and irreversible: the job stores Shopify's cancel job id in the
message before waiting, polls `job(id:)` with backoff for a few seconds, and when Shopify is
still working raises Transient so RQ runs it again later — the next attempt polls the stored
job instead of cancelling twice. A job that ends without cancelling (Shopify's cancellation
failed: a refund declined, say) fails the message as CANCEL_NOT_APPLIED and is forgotten, so the
Retry sends orderCancel again. Restock, refund and customer notification follow the shop
settings cancel_restock / cancel_refund / cancel_notify_customer. An order already cancelled
in Shopify is a no-op. orderCancel's answer can be lost after Shopify took it (a timeout): the
message records that orderCancel was sent (`cancel_sent`, committed before the call, dropped when
Shopify refused it and the order, read again, is not cancelled and no earlier call of the app's
may still be cancelling it, or its job ended without cancelling: Shopify's refusal words are not
relied on, `_refused`), so the retry that finds the order
cancelled tells the app's own cancellation (done, its answer lost: `answer_lost`) from one made
before the app asked (skipped, "already cancelled"), and a cancellation with another staff note
than the app's is someone else's, as is one showing money kept that the app asked to refund
(`_refund_not_made`: its job failed unwatched, a person cancelled by hand keeping the payment).
A refusal because a fulfillment service holds the order is told with what to do
(jobs.cancellations.service_hold). The cancellation's staff note names the ERP
order and its motive (MOTCANCELAMENTO, free text of the ERP's own length), cut to Shopify's 255
characters with an ellipsis (`staff_note`): a longer note would be refused and the order never
cancelled. The motive stays whole on the message (`erp_reason`).

After invoicing, Shopify refuses to cancel a fulfilled order: the fulfillment made at invoicing
is cancelled first. The order is also marked (metafield nfe.status = "cancelada", tag "NF-e
cancelada") and flagged for a person (this flow's note on the order link, `ledger.order_notes`,
beside any other flow's, naming every NF-e of the order: `nfe_keys`): goods may have left the store.
Before invoicing, a fulfillment is the store's or a delivery app's (the app fulfils at invoicing):
it is cancelled too, as the ERP called the sale off, and the link is flagged naming it and its
tracking number, since those goods may have left as well.
Either way a delivery address flagged earlier (jobs.order_edits.address) no longer matters: its
note goes and its message ends skipped; so does a Shopify edit's note (jobs.order_edits.to_erp).
An invoice event of the order that failed before this one (its NF-e key refused, or "cancelled but
the ERP invoiced it") has nothing left to do either: it ends skipped and its note goes.
Shopify's cancellation failing (or refused) after the app cancelled fulfillments leaves the order
live without them: the failure names them with their tracking (`_fulfillments_undone`), as the
event's note on the link does. The invoiced order's note says what to check of the money by what
the cancellation did with it (cancel_refund); so does the note of an order cancelled before
invoicing whose payment was kept, by what Shopify shows whoever cancelled it (cancel_refund off,
paid at checkout; a person's cancellation keeping it: `_money_kept`): both sides are cancelled, so
nothing else would tell a person the customer's money is still held.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.records import OrderEvent
from jobs import old_orders, order_clients, order_events, stock_reread
from jobs.cancellations import service_hold, to_erp
from jobs.invoices import kept_keys
from jobs.nfe import normalise
from jobs.order_edits import address as address_change
from jobs.order_edits import to_erp as edits_to_erp
from jobs.order_map import FINANCIAL_STATUS_WORDS
from ledger import order_notes, shop_settings, trace
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY, SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLink, Shop, utcnow
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_settlement import Settlement, fulfillment_cancel, settlement

log = logging.getLogger(__name__)

FLOW = "cancellations"
INVOICES = "invoices"  # jobs.invoices.FLOW: an invoice the ERP's cancellation settles
PICKINGS = "order_edits"  # jobs.order_edits.to_shopify.FLOW: a picking the ERP's cancellation settles
PICKING_TOPICS = ("fulfilled lines", "lowered lines")  # a picking's notes on lines (jobs.order_edits)
NFE_CANCELLED_TAG = "NF-e cancelada"
POLL_DELAYS = (0.2, 0.4, 0.8, 1.6, 3.2)  # ~6 s in the job, then RQ's own backoff
# What a rerun keeps of the stored outcome: the job to poll, the fulfillments already cancelled,
# that orderCancel was sent (Shopify may have taken it, its answer lost).
SENT = "cancel_sent"
CARRIED = ("cancel_job", "fulfillments_cancelled", "fulfillments_named", SENT)
# What orderCancel was sent with: kept while Shopify may have taken it (the settings may change).
ASKED = ("reason", "restock", "refund", "notify_customer")
ANSWER_LOST = "answer_lost"
# How long an orderCancel whose answer was lost may still be cancelling the order (Shopify's cancel
# job takes seconds): past it, a refusal of the order not cancelled is Shopify's own, not "under
# way". Longer than RQ's whole retry schedule (ledger.queues.RETRY_INTERVALS, about 9 minutes).
UNDER_WAY_FOR = timedelta(minutes=10)
# First match wins. Payment words come before stock words, and stock words name the goods: a bare
# "falta" or "indisponível" also reads "Falta de pagamento" or "Cliente indisponível", and
# INVENTORY tells the customer (in Shopify's cancellation email) that the store had no stock. A
# refusal is the payment's only when the motive names it ("Entrega recusada pelo cliente" is not).
REASON_WORDS = (
    ("FRAUD", ("fraude",)),
    ("DECLINED", ("pagamento", "cartao", "cartão", "transacao recusad", "transação recusad", "operadora")),
    ("INVENTORY", ("estoque", "ruptura", "produto indispon", "item indispon")),
    ("CUSTOMER", ("cliente", "desist", "arrepend")),
)


STAFF_NOTE_MAX = 255  # orderCancel(staffNote:): "Maximum length of 255 characters."
ELLIPSIS = "…"


def staff_note(nro_pedvenda: int | str, cancel_reason: str | None) -> str:
    """Pure: the orderCancel staff note for an ERP cancellation, at most STAFF_NOTE_MAX
    characters (a longer motive is cut, ending in an ellipsis)."""
    note = f"Cancelado no ERP (pedido {nro_pedvenda}): {(cancel_reason or '').strip() or '-'}"
    return note if len(note) <= STAFF_NOTE_MAX else note[: STAFF_NOTE_MAX - len(ELLIPSIS)].rstrip() + ELLIPSIS


def reason_code(text: str | None) -> str:
    """Pure: Shopify's OrderCancelReason for the ERP's free-text MOTCANCELAMENTO (default OTHER)."""
    lowered = (text or "").lower()
    for code, words in REASON_WORDS:
        if any(word in lowered for word in words):
            return code
    return "OTHER"


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: enqueue the EventoPedido poller."""
    order_events.poll_now(shop_id)


def apply_event(shop_id: int, seq_evento: int, generation: int = 0) -> str:
    """The job the poller enqueues for a 'C' event (of the shop's `generation`-th ERP); the
    message's final status."""
    return order_events.apply_by_seq(shop_id, seq_evento, FLOW, replay, generation)


def replay(message_id: int) -> str:
    """Redo one 'C' event, re-reading the Shopify order (retry, replay, resume)."""
    return order_events.execute(message_id, _apply)


def _apply(unit: order_events.EventUnit, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    event = unit.event
    with session_scope() as session:
        order_events.wait_for_earlier(session, unit.shop_id, event, must_apply=(), generation=unit.generation)
        message = session.get(Message, unit.message_id)
        previous = dict(message.response_payload or {}) if message else {}
        shop = session.get(Shop, unit.shop_id)
        assert shop is not None
        settings = shop_settings.effective(shop)
        link = session.get(OrderLink, unit.link_id)
        nfe_key = (event.invoice.key if event.invoice else None) or (link.nfe_key if link else None)
    client = for_shop(unit.shop_domain)
    state = settlement(client, unit.order_id)
    if state is None:  # deleted in Shopify, or too old for the app to read: cancelled by hand then
        reason = (event.cancel_reason or "").strip()
        raise old_orders.unreadable(
            unit.shop_id, unit.order_id,
            f"Cancel the order (the ERP's reason: {reason})" if reason else "Cancel the order",
            ("too_old_todo_cancel", {"reason": reason}) if reason else ("too_old_todo_cancel_plain", {}),
        )  # fmt: skip
    if nfe_key and not event.nfe_cancelled and not state.cancelled_at:
        _refuse_valid_nfe(unit, state)
    invoiced = event.nfe_cancelled or bool(nfe_key)
    keys = nfe_keys(state, nfe_key)
    if invoiced:
        _mark_nfe_cancelled(client, unit.order_id, state)
    # Cancelled, and not by this message's orderCancel: none sent, or another's staff note on it (a
    # person cancelled by hand after the app's cancel job failed, that job still remembered), or
    # money kept that the app's orderCancel was asked to refund (a person's, with no staff note).
    ours = previous.get("cancel_job") and _ours(state, event)
    mine = (ours or _asked_before(previous, state, event)) and not _refund_not_made(previous, state)
    if state.cancelled_at and not mine:
        _update_link(unit, state, invoiced, keys, _as_found(previous), _cancelled_from_shopify(unit))
        # A person's cancellation (as a failed cancel of the app's advised), its restock maybe after
        # a stock pass wrote the figure the ERP's cancellation released: read the levels again
        stock_reread.cancelled(unit.shop_id, unit.link_id, unit.order_id, event.nro_empresa,
                               [line.id_sku for line in event.lines])  # fmt: skip
        raise order_events.Skipped(
            f"Shopify order {state.name} was already cancelled",
            {"cancelled_at": state.cancelled_at},
            words=("shopify_order_already_cancelled", {"name": state.name}),
        )
    outcome: dict[str, Any] = {
        "reason": reason_code(event.cancel_reason),
        "erp_reason": event.cancel_reason,
        "restock": bool(settings["cancel_restock"]),
        "refund": bool(settings["cancel_refund"]),
        "notify_customer": bool(settings["cancel_notify_customer"]),
        "nfe_cancelled": event.nfe_cancelled,
        **{k: v for k, v in previous.items() if k in CARRIED},
        **({k: previous[k] for k in ASKED if k in previous} if previous.get(SENT) else {}),
    }
    try:
        after = _cancel_order(client, unit, state, invoiced, outcome, sleep)
    except Rejected as exc:
        if not outcome.get("fulfillments_cancelled"):
            raise
        raise _fulfillments_undone(exc, state, outcome) from exc
    outcome.update(
        {"done": True, "cancelled_at": after.cancelled_at, "financial_status": after.financial_status}
    )
    _update_link(unit, after, invoiced, keys, outcome)
    if outcome["restock"]:  # units back to "available" the ERP may have released already: read again
        stock_reread.cancelled(unit.shop_id, unit.link_id, unit.order_id, event.nro_empresa,
                              [line.id_sku for line in event.lines])  # fmt: skip
    log.info("cancellations: order %s cancelled (%s)", unit.order_id, outcome["reason"],
             extra={"shop_id": unit.shop_id, "flow": FLOW})  # fmt: skip
    return outcome


def _refuse_valid_nfe(unit: order_events.EventUnit, state: Settlement) -> None:
    """An invoiced order the ERP cancelled without saying its NF-e was (nfeCancelada false): when the
    ERP order still holds a valid NF-e (the rest cancelled after a partial invoice), cancelling it in
    Shopify would write "NF-e cancelada" on a document valid at SEFAZ, cancel the fulfillment of goods
    delivered and refund them: a person settles it (refund the cancelled rest, keep the invoiced)."""
    erp_order = order_clients.erp_client(unit.shop_id).get_order(unit.event.nro_pedvenda)
    valid = [doc.key for doc in erp_order.invoices if doc.valid]
    if not valid:
        return
    said = {"name": state.name, "nro": unit.event.nro_pedvenda, "keys": ", ".join(valid)}
    raise Rejected(
        f"ERP order {said['nro']} was cancelled but its NF-e {said['keys']} is still valid (the rest "
        f"cancelled after a partial invoice): Shopify order {state.name} was not cancelled. Refund in "
        "Shopify what the ERP cancelled and keep what the NF-e invoiced; then mark this message as handled.",
        system="app", code=to_erp.NFE_STILL_VALID, detail={"keys": valid},
        words=("cancel_nfe_still_valid", said),
    )  # fmt: skip


def _cancel_order(
    client: AdminClient,
    unit: order_events.EventUnit,
    state: Settlement,
    invoiced: bool,
    outcome: dict[str, Any],
    sleep: Callable[[float], None],
) -> Settlement:
    """Cancel the fulfillments, then the order (or poll the cancel job a run before started); the
    order as it is once cancelled.

    Raises:
        Transient: the cancel job still running (or unknown to Shopify now: sent again).
        Rejected: a fulfillment or the order not cancelled (CANCEL_NOT_APPLIED: the job failed).
    """
    if not outcome.get("cancel_job"):
        if not state.cancelled_at:
            state = _send_cancel(client, unit, state, invoiced, outcome)
        if state.cancelled_at:  # by this message's orderCancel of an earlier attempt (_apply)
            outcome[ANSWER_LOST] = _answer_lost(state, outcome)
    finished = bool(state.cancelled_at)  # a rerun: the order says our job is done, no need to poll it
    if not finished:
        finished = _wait(client, outcome["cancel_job"], sleep)
    if finished is None:  # Shopify no longer knows the job, and the order is not cancelled: again
        _remember(unit.message_id, _unsent(outcome))
        raise Transient(f"Shopify cancel job {outcome['cancel_job']} is unknown and the order is not "
                        "cancelled: it is cancelled again")  # fmt: skip
    if not finished:
        raise Transient(
            f"Shopify cancel job {outcome['cancel_job']} still running", cancel_job=outcome["cancel_job"]
        )
    after = settlement(client, unit.order_id)
    if after is None or not after.cancelled_at:
        # The job ended without cancelling (Shopify's OrderCancelStatus FAILED): polling it again
        # can only say the same, so the job is forgotten and the Retry sends orderCancel again.
        _remember(unit.message_id, _unsent(outcome))
        raise Rejected(
            f"The cancellation of Shopify order {state.name} failed in Shopify: its cancel job "
            f"{outcome['cancel_job']} ended and the order is not cancelled (a refund to the original "
            "payment method declined, for instance). The order's timeline in the Shopify admin says "
            "why; once that is fixed, Retry sends the cancellation again (or cancel the order there).",
            system="shopify", code="CANCEL_NOT_APPLIED", detail={"cancel_job": outcome["cancel_job"]},
            words=("cancel_failed_in_shopify", {"name": state.name, "job": outcome["cancel_job"]}),
        )  # fmt: skip
    return after


def _fulfillments_undone(exc: Rejected, state: Settlement, outcome: dict[str, Any]) -> Rejected:
    """`exc` (the order not cancelled) with what the app undid before: the fulfillments it
    cancelled. The order is live and shows unfulfilled in Shopify, so it may be fulfilled and
    shipped again, and those goods may have left already: the message (and the event's note on the
    link, its text) names them with their tracking."""
    named = ", ".join(outcome.get("fulfillments_named") or outcome["fulfillments_cancelled"])
    words = (
        f" Before that, the app cancelled the order's fulfillment(s) {named} (Shopify cancels no "
        f"fulfilled order): order {state.name} is live in Shopify without them (it may show as "
        "unfulfilled), so it may be fulfilled and shipped again, and those goods may have left the store "
        "already: check the delivery with the carrier."
    )
    detail = {**exc.detail, "fulfillments_cancelled": outcome["fulfillments_cancelled"]}
    text = exc.message.rstrip() + words
    said = {"refusal": exc.words, "fulfillments": named, "name": state.name}
    worded = ("cancel_fulfillments_undone", said) if exc.words else None  # else: its text
    return Rejected(text, system=exc.system, code=exc.code, field=exc.field, detail=detail, words=worded)


def _send_cancel(
    client: AdminClient,
    unit: order_events.EventUnit,
    state: Settlement,
    invoiced: bool,
    outcome: dict[str, Any],
) -> Settlement:
    """Cancel the fulfillments, then send orderCancel, recorded as sent before the call (its answer
    may be lost after Shopify took it) and its job id once answered. The order as read before
    (not cancelled yet), or as it is now when an earlier attempt's orderCancel cancelled it.

    A userError refusal is decided by the order read again (`_refused`), whatever Shopify's words.
    A request refused as a whole comes with the order read not cancelled just before: neither this
    call nor an earlier attempt's cut one took, so the mark goes (and with it what that earlier call
    asked, `_apply`), whatever an earlier attempt sent; so it does for a userError refusal of an order
    not cancelled that no earlier call may still cancel. A cancellation found on a later Retry is
    then not the app's (a person's by hand: skipped)."""
    event = unit.event
    _cancel_fulfillments(client, state, unit.message_id, outcome, invoiced)
    earlier = outcome.get(SENT)  # an earlier attempt's call, that may have taken (its answer lost)
    outcome[SENT] = utcnow().isoformat()
    _remember(unit.message_id, outcome)
    try:
        job = client.order_cancel(
            unit.order_id,
            reason=outcome["reason"],
            restock=outcome["restock"],
            refund_to_original=outcome["refund"],
            notify_customer=outcome["notify_customer"],
            staff_note=staff_note(event.nro_pedvenda, event.cancel_reason),
        )
    except ShopifyUserErrors as exc:  # refused: this call did nothing, the mark is the earlier call's
        if earlier:
            outcome[SENT] = earlier
        else:
            outcome.pop(SENT)
        _remember(unit.message_id, outcome)
        return _refused(client, unit, state.name, exc, outcome)
    except Rejected:  # refused as a whole (a GraphQL error, a 4xx): nothing cancelled it, read just now
        outcome.pop(SENT)
        _remember(unit.message_id, outcome)
        raise
    outcome["cancel_job"] = job.id
    _remember(unit.message_id, outcome)  # committed before waiting: a rerun polls, never re-cancels
    return state


def _voided(state: Settlement) -> bool:
    """Shopify voided the order's authorisation: an open one is voided by orderCancel whatever its
    refund argument (nothing was captured, so nothing was kept either)."""
    return (state.financial_status or "").upper() == "VOIDED"


def _answer_lost(state: Settlement, outcome: dict[str, Any]) -> str:
    """Pure: the message's words for a cancellation the app asked for whose answer was lost."""
    stock = "its units restocked" if outcome["restock"] else "its units not restocked"
    if outcome["refund"]:
        money = "the payment refunded"
    elif _voided(state):
        money = "the payment not refunded (Shopify voided the open authorisation anyway: nothing was charged)"
    else:
        money = "the payment kept"
    return (
        f"The cancellation the app asked for took effect: Shopify cancelled order {state.name} on the "
        "app's orderCancel, whose answer was lost (a timeout or a cut connection), so the retry found "
        f"the order cancelled. It was asked with {stock} and {money} (the shop's settings); Shopify "
        f"shows the payment {state.financial_status or 'with no status'}."
    )


def _as_found(previous: dict[str, Any]) -> dict[str, Any]:
    """Pure: what an earlier attempt stored, as the note of an order found cancelled may tell it.
    What it asked of orderCancel (ASKED: refund, restock...) is what happened only when that
    cancellation took effect (`done`): an attempt whose cancellation failed (its job ended without
    cancelling, a fulfillment service's hold refused it) asked for nothing that happened, and the
    order was cancelled since by someone else, keeping or refunding the money as they chose."""
    if previous.get("done"):
        return dict(previous)
    return {k: v for k, v in previous.items() if k not in ASKED}


def _unsent(outcome: dict[str, Any]) -> dict[str, Any]:
    """The outcome once its orderCancel is known not to have cancelled (its job ended without, or
    unknown to Shopify): no job to poll, nothing sent that may still take."""
    return {k: v for k, v in outcome.items() if k not in ("cancel_job", SENT)}


def _asked_before(previous: dict[str, Any], state: Settlement, event: OrderEvent) -> bool:
    """An earlier attempt of this message sent orderCancel and Shopify may have taken it (its answer
    lost): the order's cancellation is the app's, unless its staff note is another's."""
    return bool(previous.get(SENT)) and _ours(state, event)


def _refund_not_made(previous: dict[str, Any], state: Settlement) -> bool:
    """Pure: an earlier attempt's orderCancel, not known to have taken effect, asked for a refund,
    and Shopify shows money paid and not refunded (nor an authorisation voided): the cancellation
    is not that call's (its job failed, a refund declined; a person then cancelled keeping the
    payment, maybe with no staff note) but someone else's, told as found, its money flagged. A
    refund the gateway has not answered for yet (a Pix refund is asynchronous) is money being given
    back: the app's own cancellation, its refund under way, is not taken for someone else's."""
    asked = bool(previous.get("refund")) and not previous.get("done")
    return asked and not _voided(state) and state.kept_net > 0


def _ours(state: Settlement, event: OrderEvent) -> bool:
    """The order's cancellation may be the app's: it shows the app's staff note, or none at all."""
    ours = staff_note(event.nro_pedvenda, event.cancel_reason)
    return state.cancel_note is None or state.cancel_note.strip() == ours.strip()


def _refused(
    client: AdminClient,
    unit: order_events.EventUnit,
    name: str,
    exc: ShopifyUserErrors,
    outcome: dict[str, Any],
) -> Settlement:
    """orderCancel refused (`exc`): the order as it is now when an earlier attempt's orderCancel,
    whose answer was lost, cancelled it. Shopify publishes no words for "already cancelled / being
    cancelled" (OrderCancelUserErrorCode: INVALID for that and much else), so the order read again
    decides, not the refusal's text:

    - cancelled, with the app's staff note, after an earlier attempt sent orderCancel: that call
      took (returned); cancelled otherwise: someone else's, or a job that just ended — Transient,
      the rerun reads it cancelled and tells which (skipped "already cancelled", or done);
    - not cancelled, a fulfillment service holding it: that refusal, told (service_hold), the mark
      dropped (Shopify refused the earlier call too);
    - not cancelled, an earlier attempt's orderCancel sent less than UNDER_WAY_FOR ago (its job may
      still be running), or Shopify's words say "already" (a hint: someone's cancellation under
      way): Transient, checked again;
    - else Shopify's refusal as it said it, the mark dropped: no call of the app's took (followed by
      what the app cannot see when the shop's grant lacks service_hold.THIRD_PARTY: `unseen`)."""
    state = settlement(client, unit.order_id)
    earlier = outcome.get(SENT)
    if state is not None and state.cancelled_at:
        if earlier and _ours(state, unit.event):
            return state
        raise Transient(
            f"Shopify says {exc.message!r} and the order is cancelled now: checked again"
        ) from exc
    held = service_hold.explained(client, unit.order_id, name, exc) if state is not None else None
    if held is None and (_under_way(earlier) or _already(exc)):
        raise Transient(f"Shopify says {exc.message!r}: a cancellation already started may still be under "
                        "way; checked again") from exc  # fmt: skip
    if earlier:  # the order is not cancelled and the earlier call had time to: it did not take
        outcome.pop(SENT)
        _remember(unit.message_id, outcome)
    if held is not None:
        raise held from exc
    unseen = service_hold.unseen(name, exc, _granted(unit.shop_id))
    if unseen is not None:
        raise unseen from exc
    raise exc


def _granted(shop_id: int) -> str | None:
    """The scopes Shopify granted the shop (comma-separated; None: not known, no row or none kept)."""
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        return (shop.scopes or None) if shop is not None else None


def _under_way(sent: str | None) -> bool:
    """An orderCancel sent at `sent` (isoformat, None: never) may still be cancelling the order."""
    if not sent:
        return False
    when = datetime.fromisoformat(sent)
    return utcnow() - (when if when.tzinfo else when.replace(tzinfo=UTC)) < UNDER_WAY_FOR


def _already(exc: ShopifyUserErrors) -> bool:
    """Pure: a hint only (Shopify publishes no wording): the refusal's words say the order is
    cancelled, or being cancelled, already."""
    return "already" in exc.message.lower()


def _mark_nfe_cancelled(client: AdminClient, order_id: str, state: Settlement) -> None:
    """nfe.status = cancelada and the tag, each only when Shopify does not show it yet."""
    if state.nfe.get("status") != "cancelada":
        client.metafields_set(
            [{"ownerId": order_id, "namespace": "nfe", "key": "status", "type": "single_line_text_field",
              "value": "cancelada"}]
        )  # fmt: skip
    if NFE_CANCELLED_TAG not in state.tags:
        client.tags_add(order_id, [NFE_CANCELLED_TAG])


def _cancel_fulfillments(
    client: AdminClient, state: Settlement, message_id: int, outcome: dict[str, Any], invoiced: bool
) -> None:
    """Cancel every active fulfillment (Shopify cancels no fulfilled order), adding each to the
    outcome with its name and tracking number, remembered at once: a retry after orderCancel's
    answer was lost finds them already cancelled, and must still name them in the link's note."""
    # The app fulfils at invoicing; before it, a fulfillment is the store's or a delivery app's.
    by = "at invoicing" if invoiced else "in Shopify (by the store or a delivery app, before invoicing)"
    by_words = ("fulfilled_at_invoicing" if invoiced else "fulfilled_in_shopify", {})
    for fulfillment in state.active_fulfillments:
        named = fulfillment.name or fulfillment.id  # as the admin names it (#1001-F1), not its gid
        try:
            fulfillment_cancel(client, fulfillment.id)
        except Rejected as exc:
            # Shopify's refusal in its own words when it has them (ShopifyUserErrors), else as it came.
            refusal = exc.words or exc.message
            raise Rejected(
                f"Shopify cannot cancel order {state.name}: it was fulfilled {by} and cancelling "
                f"fulfillment {named} was refused ({exc.message}). Cancel the fulfillment in the "
                "Shopify admin, then replay this message.",
                system="shopify",
                code=exc.code or "FULFILLMENT_CANCEL_REFUSED",
                detail={"fulfillment_id": fulfillment.id},
                words=("cancel_fulfillment_refused", {"name": state.name, "by": by_words,
                                                      "fulfillment": named, "message": refusal}),
            ) from exc  # fmt: skip
        outcome["fulfillments_cancelled"] = [*outcome.get("fulfillments_cancelled", []), fulfillment.id]
        tracking = f"tracking {fulfillment.tracking_number}" if fulfillment.tracking_number else "no tracking"
        outcome["fulfillments_named"] = [*outcome.get("fulfillments_named", []), f"{named} ({tracking})"]
        _remember(message_id, outcome)
    outcome.setdefault("fulfillments_cancelled", [])


def _wait(client: AdminClient, job_id: str, sleep: Callable[[float], None]) -> bool | None:
    """Poll the cancel job with backoff; True once Shopify reports it done, None when Shopify
    does not know it (anymore)."""
    for delay in (0.0, *POLL_DELAYS):
        if delay:
            sleep(delay)
        job = client.job(job_id)
        if job is None:
            return None
        if job.done:
            return True
    return False


def _remember(message_id: int, outcome: dict[str, Any]) -> None:
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None:
            message.response_payload = dict(outcome)


def _cancelled_from_shopify(unit: order_events.EventUnit) -> bool:
    """The order's cancellation in Shopify reached the ERP (its to_erp message done): a person
    cancelled it there, choosing in Shopify's own dialog whether to refund. The C event is then that
    cancellation's echo (or the ERP's, crossed with it), not "the ERP cancelled it" keeping money."""
    with session_scope() as session:
        status = session.scalar(
            select(Message.status).where(
                Message.shop_id == unit.shop_id,
                Message.flow == FLOW,
                Message.direction == SHOPIFY_TO_ERP,
                Message.unit_key == to_erp.unit_key(unit.order_id),
            )
        )
    return status == MessageStatus.DONE.value


def _update_link(
    unit: order_events.EventUnit,
    state: Settlement,
    invoiced: bool,
    keys: list[str],
    outcome: dict[str, Any],
    from_shopify: bool = False,
) -> None:
    """The link of an order found cancelled in Shopify, and what a person is told. `from_shopify`
    (`_cancelled_from_shopify`): the money is as the person who cancelled it there chose, not told
    as "the ERP cancelled it" keeping the payment (no goods left: nothing else to check)."""
    with session_scope() as session:
        link = session.get(OrderLink, unit.link_id)
        if link is None:
            return
        link.erp_status = "C"
        link.shopify_status = state.financial_status or link.shopify_status
        link.cancelled_at = link.cancelled_at or utcnow()
        _cancelled_as_asked(session, unit, link)
        _invoices_settled(session, unit, link, state.name)
        _pickings_settled(session, unit, link, state.name)
        edits_to_erp.settle_cancelled(session, link)  # an edit flagged or held back: the sale is off
        address_change.settle_cancelled(session, unit.shop_id, link)  # nothing left to deliver
        if invoiced:  # replaces this flow's "cancel the NF-e" (done now); other flows' notes stay
            text, words = _nfe_cancelled_note(unit, state, keys, outcome)
            order_notes.put(link, FLOW, text, words=words)
        elif outcome.get("fulfillments_cancelled"):
            text, words = _fulfilled_before_invoicing_note(unit, state, outcome)
            order_notes.put(link, FLOW, text, words=words)
        elif _money_kept(state, outcome) and not from_shopify:
            text, words = _money_kept_note(unit, state, outcome)
            order_notes.put(link, FLOW, text, words=words)


def nfe_keys(state: Settlement, nfe_key: str | None) -> list[str]:
    """Pure: every NF-e of the order (an order may be invoiced in several: jobs.invoice_documents),
    the keys it keeps (`nfe.chaves`, in the order applied: jobs.invoices.kept_keys), and `nfe_key`
    (the C event's document, else the link's) when not among them. A person checks each at SEFAZ."""
    keys = kept_keys(state)
    if nfe_key and normalise(nfe_key) not in {normalise(key) for key in keys}:
        keys.append(nfe_key)
    return keys


def _nfe_cancelled_note(
    unit: order_events.EventUnit, state: Settlement, keys: list[str], outcome: dict[str, Any]
) -> tuple[str, trace.Words]:
    """The note of an invoiced order the ERP cancelled, naming every NF-e of the order, and its
    words (one NF-e: cancel_nfe_cancelled_in_erp, as before; several: cancel_nfes_cancelled_in_erp)."""
    check, check_words = _money_to_check(state, outcome)
    seq = unit.event.seq_evento
    said: dict[str, Any] = {"seq": seq, "name": state.name, "money": check_words}
    if len(keys) > 1:
        text = (
            f"{FLOW}: NF-e {', '.join(keys)} were cancelled in the ERP after invoicing (event #{seq}); the "
            f"Shopify order {state.name} is cancelled. {check}"
        )
        return text, ("cancel_nfes_cancelled_in_erp", {"keys": keys, **said})
    text = (
        f"{FLOW}: NF-e {keys[0] if keys else '(key unknown)'} was cancelled in the ERP after invoicing "
        f"(event #{seq}); the Shopify order {state.name} is cancelled. {check}"
    )
    return text, ("cancel_nfe_cancelled_in_erp", {"key": keys[0] if keys else ("key_unknown", {}), **said})


def _cancelled_as_asked(session: Session, unit: order_events.EventUnit, link: OrderLink) -> None:
    """The ERP order is cancelled now: a Shopify cancellation the ERP had refused (or whose ERP
    number was unknown) is done by the ERP itself, as its note asked ("cancel it in the ERP"). The
    note goes and that failed message is closed, instead of still saying the order is live."""
    to_erp.clear_unsure_note(link)
    order_id = link.shopify_order_id.rsplit("/", 1)[-1]
    trace.succeed_open(
        session,
        unit.shop_id,
        to_erp.FLOW,
        [to_erp.unit_key(order_id)],
        {"cancelled_in_erp": True, "event": unit.event.seq_evento},
    )


def _invoices_settled(session: Session, unit: order_events.EventUnit, link: OrderLink, name: str) -> None:
    """The ERP cancelled the order (this C event is applied, or found it cancelled in Shopify): an
    invoice of it whose event failed before (its NF-e key refused, or ORDER_CANCELLED: "cancelled in
    Shopify but the ERP invoiced it", whose advice a person followed by cancelling the NF-e) has
    nothing left to do. Its message is closed as skipped saying which event cancelled the order, and
    its note goes, as jobs.cancellations.to_erp.settle_erp_side does the other way; in the words its
    own Retry would skip it with (jobs.invoices._cancelled_after). Only the same ERP's events before
    this one: a later invoice is another story (the ERP invoiced again)."""
    seq, nro = unit.event.seq_evento, unit.event.nro_pedvenda
    for row in _events_before(session, unit, link, INVOICES):
        row.response_payload = {**(row.response_payload or {}), "cancelled_by_event": seq}
        why = f"ERP event #{seq} cancelled ERP order {nro} after this invoice"
        words = ("invoice_cancelled_by_event", {"name": name, "seq": seq, "nro": nro})
        trace.skip(session, row, f"Shopify order {name} is cancelled and {why}: nothing to invoice",
                   words=words)  # fmt: skip


def _pickings_settled(session: Session, unit: order_events.EventUnit, link: OrderLink, name: str) -> None:
    """The ERP cancelled the order: a picking of it Shopify could not take (its event failed: lines
    a person had fulfilled, a refusal) has nothing left to apply. Its message is closed as skipped
    saying which event cancelled the order and its note goes, as an invoice's (`_invoices_settled`),
    and so do the picking's notes on lines (fulfilled or lowered in Shopify)."""
    seq, nro = unit.event.seq_evento, unit.event.nro_pedvenda
    for row in _events_before(session, unit, link, PICKINGS):
        why = f"ERP event #{seq} cancelled ERP order {nro} after this picking"
        words = ("picking_cancelled_by_event", {"name": name, "seq": seq, "nro": nro})
        trace.skip(session, row, f"Shopify order {name} is cancelled and {why}: nothing to apply",
                   words=words)  # fmt: skip
    for topic in PICKING_TOPICS:
        order_notes.clear(link, PICKINGS, topic=topic)


def _events_before(
    session: Session, unit: order_events.EventUnit, link: OrderLink, flow: str
) -> list[Message]:
    """The order's `flow` event messages left failed or parked, of the same ERP's events before this
    C event (another ERP's order of the same number, or an event after the cancellation, is another
    story), each one's note cleared from the link: the caller closes them."""
    seq, generation, nro = unit.event.seq_evento, unit.generation, unit.event.nro_pedvenda
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == unit.shop_id,
            Message.flow == flow,
            Message.direction == ERP_TO_SHOPIFY,
            Message.erp_id == str(nro),
            Message.unit_key.like("event:%"),
            Message.status.in_(to_erp.STUCK),
        )
    )
    settled = []
    for row in rows:
        event = order_notes.event_of(row.unit_key)
        if event is None or event[1] != generation or event[0] >= seq:
            continue
        order_notes.clear(link, flow, event=event[0], generation=generation)
        settled.append(row)
    return settled


def _status_shown(state: Settlement) -> str:
    """Pure: the order's financial status as a note says it in English, as Shopify's admin does
    ("partially refunded"); a status Shopify added since as its code; none: "no status"."""
    code = state.financial_status
    if not code:
        return "no status"
    return code.lower().replace("_", " ") if code.upper() in FINANCIAL_STATUS_WORDS else code


def _status_words(state: Settlement) -> trace.Words | str:
    """Pure: `_status_shown` as a note's words (financial_paid...), said in the page's language."""
    code = state.financial_status
    return FINANCIAL_STATUS_WORDS.get(code.upper(), code) if code else ("no_status", {})


def _money_to_check(state: Settlement, outcome: dict[str, Any]) -> tuple[str, trace.Words]:
    """What a person checks of the goods and the money of an invoiced order cancelled, by what the
    cancellation did with the payment (the cancel_refund setting; not told when no attempt of this
    message asked: the order was cancelled in Shopify before it), and its words."""
    shown = _status_shown(state)
    status = {"status": _status_words(state)}
    if outcome.get("refund"):
        said = "Check whether goods left the store and that the refund reached the customer."
        return said, ("check_refunded", {})
    if "refund" in outcome and _voided(state):
        return (
            "Shopify voided the open authorisation (it does whatever the cancel_refund setting "
            "says): nothing was charged. Check whether goods left the store."
        ), ("check_voided", {})
    if "refund" in outcome:
        return (
            "The payment was kept, as the cancel_refund setting asks (off; Shopify shows "
            f"{shown}): check whether goods left the store, and refund the customer what they paid "
            "for goods they do not keep."
        ), ("check_kept", status)
    said = f"Check whether goods left the store and how the payment was settled (Shopify shows {shown})."
    return said, ("check_settled", status)


def _money_kept(state: Settlement, outcome: dict[str, Any]) -> bool:
    """Pure: the cancelled order kept money the customer paid, by what Shopify shows whatever was
    asked (cancel_refund off; a refund asked that did not happen; someone else's cancellation
    keeping it): not voided (nothing was charged) and something paid and not refunded. Before
    invoicing no NF-e note says so, and the reconciliation sees both sides cancelled: without a
    note nobody is told to give it back (`outcome` says which words: `_money_to_check`). A refund
    the gateway has not answered for yet (a Pix refund) is money being given back, not kept."""
    return not _voided(state) and state.kept_net > 0


def _money_kept_note(
    unit: order_events.EventUnit, state: Settlement, outcome: dict[str, Any]
) -> tuple[str, trace.Words]:
    """The note of an order the ERP cancelled before invoicing whose payment was kept (`_money_kept`),
    and its words: what the invoiced path's note says of the money (`_money_to_check`)."""
    check, check_words = _money_to_check(state, outcome)
    seq = unit.event.seq_evento
    text = (
        f"{FLOW}: the ERP cancelled order {state.name} before invoicing it (event #{seq}); the Shopify "
        f"order is cancelled. {check}"
    )
    said = {"name": state.name, "seq": seq, "money": check_words}
    return text, ("cancel_before_invoicing_money_kept", said)


def _fulfilled_before_invoicing_note(
    unit: order_events.EventUnit, state: Settlement, outcome: dict[str, Any]
) -> tuple[str, trace.Words]:
    """The order was fulfilled in Shopify (by the store or a delivery app, not by the app, which
    fulfils at invoicing) and the ERP cancelled it before invoicing: the sale is off, so the
    fulfillments were cancelled with the order, but the goods may be on their way. The note and its
    words."""
    named = ", ".join(outcome.get("fulfillments_named") or outcome["fulfillments_cancelled"])
    if "refund" not in outcome:  # no cancellation of the app's took effect: cancelled by someone else
        money, payment = "was settled by whoever cancelled the order in Shopify, not by the app", "as_shown"
    elif outcome.get("refund"):
        money = "was refunded (or its authorisation voided), as the cancel_refund setting asks"
        payment = "refunded"
    elif _voided(state):
        money = (
            "was not charged: Shopify voided the open authorisation (it does whatever the "
            "cancel_refund setting says)"
        )
        payment = "voided"
    else:
        money, payment = "was kept, as the cancel_refund setting asks (off)", "kept"
    said = {
        "name": state.name,
        "seq": unit.event.seq_evento,
        "fulfillments": named,
        "payment": (f"payment_{payment}", {}),
        "status": _status_words(state),
    }
    words = ("cancel_fulfilled_before_invoicing", said)
    return (
        f"{FLOW}: the ERP cancelled order {state.name} before invoicing it (event #{unit.event.seq_evento}), "
        f"but it was fulfilled in Shopify: fulfillment(s) {named} were cancelled with the order, and "
        f"the payment {money} (Shopify shows {_status_shown(state)}). The goods may "
        "have left the store: check the delivery with the carrier, and get them back or charge the "
        "customer again."
    ), words

"""Cancellations Shopify -> ERP (flow `cancellations`, direction shopify_to_erp).

Source: orders/cancelled (REST order body). Unit of work: one order's cancellation,
unit_key "cancel:<numeric order id>".

- Sent to the ERP and not invoiced: cancel the ERP order (POST .../Cancelamento; cancelling
  twice is fine, so an echo of a cancellation that started in the ERP changes nothing).
- Invoiced (the link shows its NF-e applied, nfe_key or status F: the ERP is not asked, its
  refusal is not counted on; or 409 PEDIDO_FATURADO, or a 409 on an order whose status, read
  again, is F): an NF-e cannot be silently undone. The OrderLink gets this flow's note
  (`ledger.order_notes`: an invoice's or edit's note of the order is kept beside it, never over
  it, and it is read first) and the message fails (rejected, code PEDIDO_FATURADO whatever the
  ERP's codigo, kept as `erp_code`) telling a person what to do, naming every NF-e of the order
  (one invoiced in several: each is cancelled on its own, `invoiced_keys`). Not so when the ERP
  cancelled the order itself (its C event came: `_cancelled_by_erp`) and Shopify's side of that
  failed (a person cancelled it in Shopify as its message advised) or is still running (this is
  its echo): the ERP order and its NF-e are cancelled already, so the message is done and the
  ERP's failed cancellation closes (`settle_erp_side`).
- Refused for another reason (422, or a 409 on an order not invoiced): the ERP order stays live,
  so the link is flagged (REFUSED_NOTE: the ERP's words; cancel it in the ERP, or fix the cause and
  Retry) and the message fails with the ERP's words; a Retry that cancels it clears the note.
  The ERP having no such order (404, on the cancel or on the status read again after a 409) is not
  that: deleted there, or the connection's address points at another ERP (NOT_FOUND_NOTE: mark it
  handled, or check the address and Retry). Nor is the integration's login refused (LOGIN_NOTE:
  the message fails flagged AUTH, retried once the ERP connection is saved again). The ERP down
  for the status read again is transient, as any call.
- Cancelled (or already: 409 PEDIDO_CANCELADO, or a 409 on an order whose status, read again, is
  C; or the link says the ERP cancelled it; or an attempt's answer lost, a timeout, and the
  transport's resend refused however worded, erp.errors.ErpRejected.maybe_taken, or a run after an
  earlier one of the unit refused so, on an order whose status, read again, is C): a flagged
  Shopify -> ERP edit's note on the order link is cleared (the sale is off), and an ERP -> Shopify
  cancellation of the order that failed in Shopify (its message said "or cancel the order there")
  is closed, its note gone (`settle_erp_side`). Read again and not C, that refusal is the ERP's
  answer, as above.
- Linked to an ERP order of the ERP the shop was connected to before (jobs.order_generation: the
  connection moved since, and the same number there is another order): nothing is sent; the link
  is flagged and the message fails (ORDER_OF_OTHER_ERP) for a person to cancel it where it is.
- Never sent to the ERP (waiting for payment, parked on a mapping...): its pending orders
  message is closed as skipped, so it stops counting as stock taken and never resumes.
- Mapped and posted, but the ERP's answer lost (no NROPEDVENDA on the link; its orders message
  says a POST may have been taken, jobs.order_posted): the import runs again first to learn the
  number, posting the input of that POST again (the cancel has zeroed the order's lines in
  Shopify by then; the ERP is idempotent on idPedidoCanalVenda), then the ERP order is cancelled.
  Posting it again failing for good (refused, parked), the cancellation fails as
  CANCEL_ERP_NUMBER_UNKNOWN for a person (the ERP may hold it live), the link is flagged and
  marked cancelled (its units stop counting as pending stock) and the orders message stays open
  for the Retry, which clears that note once it cancels the ERP order.
- Posted, but every POST refused by the ERP (the link exists, no POST may have been taken): as
  never sent.
- Its import closed by a person as handled outside the app and not linked to an ERP order
  (`ledger.handled`: entered in the ERP by hand, say): the app knows no ERP order to cancel, and
  one typed by hand would be picked and invoiced; the message fails for a person
  (CANCEL_HANDLED_BY_HAND, the link marked cancelled): cancel it in the ERP, then mark it handled.
- Not known to be in the ERP, but placed in an installation whose data shop/redact erased (its link
  with it): the ERP may hold it under a number the app lost; the message fails for a person
  (CANCEL_ORDER_ERASED, jobs.cancellations.erased) naming its channel order id.

Runs under the same per-order lock as the import, so a cancellation and an import of the same
order never interleave (the import re-reads the order and skips a cancelled one). Its message is
begun before it waits for the lock (jobs.order_waits): held past every retry by the order's other
work, the cancellation is replayed by the orders catch-up, not lost with its webhook delivery.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.errors import AUTH, ErpAuthError, ErpRejected
from erp.errors import SYSTEM as ERP
from jobs import invoices, order_clients, order_generation, order_map, order_posted, order_waits, stock_reread
from jobs import orders as orders_flow
from jobs.cancellations import erased
from jobs.inbox import Ignored, not_installed
from jobs.order_edits import address as address_change
from jobs.order_edits import to_erp as edits_to_erp
from jobs.order_lookup import find_link, mark_unsent_cancelled, shop_id_for
from jobs.orders import current_job_id, ensure_held, redis_down, run_classified
from ledger import handled, handled_before, order_notes, trace
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY, SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLink, Shop, utcnow
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.order_settlement import settlement

log = logging.getLogger(__name__)

FLOW = "cancellations"
# An ERP cancellation of an order whose NF-e it left valid (to_shopify._refuse_valid_nfe): a person's
NFE_STILL_VALID = "CANCEL_NFE_STILL_VALID"
# How the note of a cancellation whose ERP number is unknown starts (`_unsure`): cleared, unlike
# the invoiced order's note, once the ERP order is cancelled (`clear_unsure_note`).
UNSURE_NOTE = f"{FLOW}: ERP number unknown. "
# Why posting the order again failed, as that note says it when the ERP gave no words of its own
# (`_why_noted`; shopify_app.note_words says them in the merchant's language).
NO_REASON = "no reason recorded"
REASON_ON_ORDERS_MESSAGE = "the reason is on the order's message, on the Messages page"
# The code of a cancellation refused on an invoiced order, however the ERP worded the refusal.
INVOICED = "PEDIDO_FATURADO"
# How the note of a cancellation the ERP refused (not invoiced) starts (`_refused`): cleared too.
REFUSED_NOTE = f"{FLOW}: the ERP refused to cancel. "
# How the notes of a cancellation not sent start when the ERP has no such order (404) or refused
# the integration's login (`_refused`): cleared too.
NOT_FOUND_NOTE = f"{FLOW}: the ERP has no such order. "
LOGIN_NOTE = f"{FLOW}: the ERP refused the app's login. "
# The ERP's code for a command on an order it holds cancelled (docs/consinco-api.md).
ALREADY_CANCELLED = "PEDIDO_CANCELADO"
OPEN = (
    MessageStatus.PENDING.value,
    MessageStatus.RETRYING.value,
    MessageStatus.PARKED.value,
    MessageStatus.FAILED.value,
)
# The message's request keeps when Shopify made the order (orders/cancelled's), for its Retry.
CREATED = "created_at"
# An ERP -> Shopify cancellation waiting for a person (`settle_erp_side`), not for its own job.
STUCK = (MessageStatus.FAILED.value, MessageStatus.PARKED.value)


def unit_key(order_id: str | int) -> str:
    return f"cancel:{order_map.numeric_id(order_id)}"


def on_webhook(event: Any) -> str | Ignored:
    payload = event.payload
    order_id = payload.get("admin_graphql_api_id") or payload.get("id")
    if not order_id:
        raise ValueError("orders/cancelled payload has no order id")
    with session_scope() as session:
        shop_id = shop_id_for(session, event.shop_domain)
    if shop_id is None:
        log.warning("cancellations: order %s of unknown shop %s ignored", order_id, event.shop_domain)
        return not_installed(event.shop_domain)
    return cancel_in_erp(shop_id, str(order_id), payload.get("cancel_reason"), name=payload.get("name"),
                         created_at=payload.get("created_at"))  # fmt: skip


def replay(message_id: int) -> str:
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, key = message.shop_id, message.unit_key
        request = message.request_payload or {}
    num = key.split(":", 1)[1]
    return cancel_in_erp(shop_id, num, request.get("reason"), created_at=request.get(CREATED))


def cancel_in_erp(
    shop_id: int,
    order_id: str | int,
    reason: str | None,
    *,
    name: str | None = None,
    created_at: str | None = None,
) -> str:
    """Cancel the order's ERP order (or close its never-sent message); returns the outcome.
    `created_at`: when Shopify made the order (orders/cancelled's payload), which tells an order of an
    installation whose data shop/redact erased (jobs.cancellations.erased).

    Raises:
        Transient: the ERP or Redis unreachable, or the order locked (RQ retries).
    """
    try:
        return _cancel_locked(shop_id, order_id, reason, name, created_at)
    except RedisError as exc:
        raise redis_down(exc) from exc


def _done_already(shop_id: int, gid: str, num: str) -> bool:
    """Whether the app cancelled the ERP order already (its message done, the ERP order cancelled):
    an orders/cancelled delivered again later (a new event id) leaves that record as it is. Run
    again, the message ended skipped "already cancelled", and the Messages page no longer showed
    that the app had cancelled it."""
    with session_scope() as session:
        done = session.scalar(
            select(Message.id).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.unit_key == unit_key(num),
                Message.status == MessageStatus.DONE.value,
            )
        )
        link = find_link(session, shop_id, gid) if done is not None else None
        if link is None or link.erp_status != "C":
            return False
    log.info("cancellations: %s cancelled in the ERP already by message %s: nothing to do", gid, done)
    return True


def _cancel_locked(
    shop_id: int, order_id: str | int, reason: str | None, name: str | None, created_at: str | None
) -> str:
    gid = order_map.order_gid(order_id)
    num = order_map.numeric_id(gid)
    request = {"reason": reason, **({CREATED: created_at} if created_at else {})}
    if _done_already(shop_id, gid, num):
        return MessageStatus.DONE.value

    def begin(session: Session) -> Message:
        return trace.begin(
            session,
            shop_id,
            FLOW,
            unit_key(num),
            SHOPIFY_TO_ERP,
            shopify_id=gid,
            search=[num, name],
            request=request,
            job_id=current_job_id(),
        )

    # begun before it waits for the order's other work: a cancellation its retries ran out on
    # behind the lock is replayed by the orders catch-up (jobs.order_waits), never lost
    with order_waits.begun_then_locked(shop_id, gid, begin) as (session, message, lock):
        link = find_link(session, shop_id, gid)
        orders_message = _orders_message(session, shop_id, num)
        by_hand = handled.info(orders_message) if orders_message is not None else None
        if by_hand is not None and (link is None or link.nro_pedvenda is None):
            return _handled_by_hand(session, link, message, gid, by_hand)
        maybe_in_erp = orders_message is not None and order_posted.maybe_taken(orders_message.request_payload)
        if link is not None and link.nro_pedvenda is None and maybe_in_erp:
            link = _learn_erp_number(session, shop_id, num, gid, message)
            if link is not None and link.nro_pedvenda is None:
                return _unsure(session, shop_id, num, link, message)
        if link is None or link.nro_pedvenda is None:
            closed = close_never_sent(session, shop_id, num)
            mark_unsent_cancelled(link)
            named = (link.shopify_order_name if link else None) or name or gid
            if (when := erased.erased_when(session, shop_id, created_at)) is not None:  # the ERP may hold it
                return trace.fail(session, message, erased.refusal(named, gid, when)).value
            if (installed := erased.placed_without_app(session, shop_id, created_at)) is not None:
                return trace.fail(session, message, erased.refusal_without_app(named, gid, installed)).value
            trace.skip(
                session,
                message,
                "never sent to the ERP: nothing to cancel there"
                + ("; its pending order was closed" if closed else ""),
                words=("cancel_never_sent_closed" if closed else "cancel_never_sent", {}),
            )
            return "skipped"
        message.search_text = trace.search_text(
            message.search_text.split(), [link.nro_pedvenda, link.shopify_order_name]
        )
        if link.erp_status == "C":
            clear_unsure_note(link)  # cancelled in the ERP by hand, as the note asked
            edits_to_erp.settle_cancelled(session, link)  # an edit flagged or held back: the sale is off
            settle_erp_side(session, shop_id, link)
            trace.skip(session, message, f"ERP order {link.nro_pedvenda} is already cancelled",
                       words=("erp_order_already_cancelled", {"nro": link.nro_pedvenda}))  # fmt: skip
            return "skipped"
        other_erp = order_generation.refusal(session, link, "the cancellation")
        if other_erp is not None:
            return _of_other_erp(session, link, message, other_erp)
        session.commit()  # the message row exists before the outside call
        return run_classified(
            session, message, lambda: _cancel(session, shop_id, link, message, reason, lock)
        )


def _learn_erp_number(
    session: Session, shop_id: int, num: str, gid: str, message: Message
) -> OrderLink | None:
    """The order's link has no NROPEDVENDA, yet its orders message says a POST may have been taken:
    the ERP may hold the order and its answer have been lost (a timeout). The import runs again
    first (we hold the order's lock; it posts the order again, idempotent on idPedidoCanalVenda, so
    the ERP answers the order it holds, or takes it now to be cancelled right after), so a
    cancelled Shopify order never leaves a live ERP order behind. The link as it is after.

    Raises:
        Transient: the ERP or Shopify unreachable (recorded on this message; RQ retries).
    """
    session.commit()  # the cancellation's message exists before the outside calls
    try:
        outcome = orders_flow.import_locked(shop_id, num, trigger="cancellation")
    except Transient as exc:
        trace.fail(session, message, exc)
        session.commit()
        raise
    log.info("cancellations: order %s, the import ran again first: %s", num, outcome)
    session.expire_all()
    return find_link(session, shop_id, gid)


def _cancel(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    reason: str | None,
    lock: Lock | None = None,
) -> str:
    nro = link.nro_pedvenda
    assert nro is not None
    if link.nfe_key or link.erp_status == "F":
        # Invoiced as the link shows it (its NF-e applied): the ERP is not asked to cancel it. Its
        # cancel endpoint is not public (docs: the sandbox's is assumed), so its refusal of an
        # invoiced order (409 PEDIDO_FATURADO) is not counted on: an ERP that took it would cancel
        # an order whose NF-e is valid, and the app would call it done.
        if (seq := _cancelled_by_erp(session, shop_id, link)) is not None:
            # Unless the ERP cancelled it itself (its C event came: the NF-e cancelled with it) and
            # Shopify's side of that failed or is still running: a person cancelled it in Shopify
            # as that message advised, or this is the echo of the app's own cancellation. Both
            # sides are cancelled: nothing to ask of a person, no NF-e left to cancel.
            return _cancelled(session, shop_id, link, message, "C", erp_event=seq)
        return _invoiced(session, link, message, nro, erp_code=None)
    motive = f"Cancelado na Shopify {link.shopify_order_name or ''} ({reason or 'sem motivo'})".strip()
    erp = order_clients.erp_client(shop_id)
    # Invoiced in the ERP before its F event reached the app (the link still says L): read first, for
    # the same reason as above (the ERP's refusal of an invoiced order is not counted on).
    try:
        now = erp.get_order(nro)
    except ErpRejected:  # gone, or refused: the cancel says what it says
        now = None
    if now is not None and (now.situacao == "F" or any(doc.valid for doc in now.invoices)):
        return _invoiced(session, link, message, nro, erp_code=None)
    ensure_held(lock, order_map.numeric_id(link.shopify_order_id))  # or another job may be writing it
    try:
        cancelled = erp.cancel_order(nro, reason=motive[:200])
    except ErpRejected as exc:
        # The ERP's code says which state forbids it; a conflict worded otherwise (another
        # installation's) is read by the order's status, read again (the ERP down for that read:
        # Transient, retried; the order gone, or the login refused: said as such, below). So is any
        # refusal of the transport's resend after an attempt whose answer was lost (`maybe_taken`: a
        # timeout), or of a run after an earlier one of this unit (whose answers may all have been
        # lost): that attempt may have cancelled it, and a refusal speaks for its own attempt only.
        situacao, refusal = None, exc
        conflict = exc.status == 409 and exc.codigo != INVOICED
        maybe_taken = exc.maybe_taken or message.attempts > 1
        if exc.codigo != ALREADY_CANCELLED and (conflict or maybe_taken):
            try:
                situacao = erp.get_order(nro).situacao
            except ErpRejected as reread:
                refusal = reread
        if exc.codigo == ALREADY_CANCELLED or situacao == "C":  # cancelled in the ERP already: done
            return _cancelled(session, shop_id, link, message, "C", erp_code=exc.codigo,
                              answer_lost=maybe_taken and not conflict)  # fmt: skip
        invoiced = exc.codigo == INVOICED or situacao == "F"
        if not invoiced:  # not cancelled, and a retry alone changes nothing: a person must know
            _refused(link, nro, refusal)
            if refusal is exc:
                raise
            raise refusal from exc
        return _invoiced(session, link, message, nro, erp_code=exc.codigo)
    return _cancelled(session, shop_id, link, message, cancelled.situacao)


def _money_settled(session: Session, link: OrderLink) -> tuple[str, trace.Words]:
    """What Shopify did with the money of an order cancelled there after its NF-e, in a sentence
    for the person who settles the NF-e: refunded already (do not refund again), in part, or kept
    (refund it). Shopify unreadable: the words of before (settle the refund), saying so."""
    state = None
    try:
        domain = session.scalar(select(Shop.domain).where(Shop.id == link.shop_id))
        client = for_shop(str(domain))
        try:
            state = settlement(client, link.shopify_order_id)
        finally:
            client.close()
    except Exception as exc:  # the words only: the note is written whatever Shopify answers
        log.warning("cancellations: the money of %s could not be read: %s", link.shopify_order_id, exc)
    if state is None:
        return ("Settle the refund with the customer (Shopify could not be read to say what it refunded).",
                ("cancel_money_unknown", {}))  # fmt: skip
    refunded, kept = state.refunded, state.kept_net
    back, keeps = order_notes.money(refunded), order_notes.money(kept)
    if state.paid <= 0:
        return "Nothing was paid in Shopify: there is no money to give back.", ("cancel_money_none", {})
    if state.refunding > 0 and kept <= 0:  # a Pix refund waiting for the payment provider
        going = order_notes.money(state.refunding)
        said = (
            f"Shopify is refunding {state.refunding} (waiting for the payment provider): do not refund it "
            "again; check that it reached the customer."
        )
        return said, ("cancel_money_refunding", {"refunding": going})
    if kept <= 0:
        said = f"Shopify refunded {refunded} already (the whole payment): do not refund it again."
        return said, ("cancel_money_refunded", {"refunded": back})
    if refunded > 0:
        said = f"Shopify refunded {refunded} and still keeps {kept}: refund the rest to the customer, if due."
        return said, ("cancel_money_part", {"refunded": back, "kept": keeps})
    said = (
        f"Shopify keeps the payment ({kept}): refund it to the customer once the NF-e is cancelled or the "
        "return invoiced."
    )
    return said, ("cancel_money_kept", {"kept": keeps})


def _invoiced(session: Session, link: OrderLink, message: Message, nro: int, *, erp_code: str | None) -> str:
    """The ERP order is invoiced (the ERP refused the cancel so, or the link shows its NF-e and the
    ERP was not asked: `erp_code` None): an NF-e cannot be silently undone, so the link gets this
    flow's note and the message fails for a person."""
    keys = invoiced_keys(session, link)
    name = link.shopify_order_name or link.shopify_order_id
    # What Shopify did with the money: the person settling the NF-e must not refund twice.
    money, money_words = _money_settled(session, link)
    # This flow's note (ledger.order_notes): an invoice or edit that comes after notes beside it.
    words: trace.Words
    if len(keys) > 1:  # each NF-e is its own document to cancel: every key named
        explanation = (
            f"Order {name} was cancelled in Shopify, but ERP order {nro} is already invoiced (NF-e "
            f"{', '.join(keys)}). An NF-e cannot be undone silently: a person must cancel each NF-e in the "
            f"ERP (within the legal deadline) or issue a return invoice. {money}"
        )
        words = (
            "cancel_after_invoicing_nfes_money",
            {"name": name, "nro": nro, "keys": keys, "money": money_words},
        )
    else:
        nfe = f" (NF-e {keys[0]})" if keys else ""
        explanation = (
            f"Order {name} was cancelled in Shopify, but ERP "
            f"order {nro} is already invoiced{nfe}. An NF-e cannot be undone silently: a person must cancel "
            f"the NF-e in the ERP (within the legal deadline) or issue a return invoice. {money}"
        )
        nfe_words = ("nfe_key", {"key": keys[0]}) if keys else ""
        words = (
            "cancel_after_invoicing_money",
            {"name": name, "nro": nro, "nfe": nfe_words, "money": money_words},
        )
    order_notes.put(link, FLOW, explanation, words=words)
    log.warning("cancellations: %s cancelled in Shopify after invoicing (ERP order %s)",
                link.shopify_order_id, nro)  # fmt: skip
    # PEDIDO_FATURADO whatever the ERP's codigo (its wording of a conflict on an invoiced order may be
    # its own): the Messages page explains a cancellation's by it (api_explain FLOW_CODES).
    # the ERP's code of its refusal; none when the link showed it invoiced and the ERP was not asked
    detail: dict[str, Any] = {"nro_pedvenda": nro, "erp_code": erp_code}
    if erp_code is None:
        detail = {"nro_pedvenda": nro, "erp_asked": False}
    rejected = Rejected(explanation, system="consinco", code=INVOICED, detail=detail, words=words)
    return trace.fail(session, message, rejected).value


def invoiced_keys(session: Session, link: OrderLink) -> list[str]:
    """Every valid NF-e of the linked ERP order the app applied (an order may be invoiced in several,
    or an NF-e cancelled and re-issued: jobs.invoice_documents), in the order applied: those its
    invoices message done last counted ("invoiced" keys, written when there were several: the order's
    valid NF-e as it ran; else its own key), and the link's (the latest applied) when not among them.
    Only messages of the ERP the link's number is of (jobs.order_generation)."""
    erp = order_generation.of_link(session, link)
    rows = session.scalars(
        select(Message)
        .where(
            Message.shop_id == link.shop_id,
            Message.flow == invoices.FLOW,
            Message.direction == ERP_TO_SHOPIFY,
            Message.erp_id == str(link.nro_pedvenda),
            Message.unit_key.like("event:%"),
            Message.status == MessageStatus.DONE.value,
        )
        .order_by(Message.finished_at.desc().nulls_last(), Message.id.desc())
    )
    counted = (invoices.counted_keys(row.response_payload or {}) for row in rows
               if order_notes.generation_of(row.unit_key) == erp)  # fmt: skip
    keys = next((found for found in counted if found), [])
    if link.nfe_key and link.nfe_key not in keys:
        keys.append(link.nfe_key)
    return keys


def _cancelled(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    situacao: str | None,
    *,
    erp_code: str | None = None,
    answer_lost: bool = False,
    erp_event: int | None = None,
) -> str:
    """The ERP order is cancelled (`erp_code`: the ERP refused as it was cancelled already, or
    refused the resend of an attempt whose answer was lost, `answer_lost`, and the order read back
    is cancelled; `erp_event`: the ERP's own C event of it, the ERP not asked)."""
    nro = link.nro_pedvenda
    link.erp_status = situacao
    link.cancelled_at = link.cancelled_at or utcnow()
    edits_to_erp.settle_cancelled(session, link)  # an edit flagged or held back: the sale is off
    address_change.settle_cancelled(session, shop_id, link)  # nor a delivery address not taken
    clear_unsure_note(link)  # the ERP order a Retry learned, or one it refused, is cancelled now
    settle_erp_side(session, shop_id, link)
    response: dict[str, Any] = {"nro_pedvenda": nro, "situacao": situacao}
    if erp_code is not None:
        response["already_cancelled_in_erp"] = erp_code
    if answer_lost:
        response["answer_lost"] = True  # the ERP took an attempt whose answer was lost
    if erp_event is not None:
        response["cancelled_by_erp_event"] = erp_event
    trace.succeed(session, message, response=response, erp_id=str(nro), search=[nro])
    log.info("cancellations: ERP order %s cancelled%s (Shopify %s)", nro,
             " already" if erp_code else "", link.shopify_order_id)  # fmt: skip
    return "done"


def _cancelled_by_erp(session: Session, shop_id: int, link: OrderLink) -> int | None:
    """The EventoPedido number of the ERP's own cancellation of the link's order (a C event the app
    read: its message of this flow, whatever its status, of the ERP the link's number is of), None
    when none came. The ERP cancels an invoiced order with its NF-e (`nfeCancelada`); not one whose
    NF-e it left valid (NFE_STILL_VALID: the rest cancelled after a partial invoice), whose goods
    were delivered against a valid NF-e whatever Shopify does since."""
    erp = order_generation.of_link(session, link)
    rows = session.execute(
        select(Message.unit_key, Message.error_detail).where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.direction == ERP_TO_SHOPIFY,
            Message.erp_id == str(link.nro_pedvenda),
            Message.unit_key.like("event:%"),
        )
    )
    for key, detail in rows:
        event = order_notes.event_of(key)
        if event is not None and event[1] == erp and not _nfe_still_valid(detail):
            return event[0]
    return None


def _nfe_still_valid(detail: Any) -> bool:
    """A C event's message refused as NFE_STILL_VALID (jobs.cancellations.to_shopify)."""
    return isinstance(detail, dict) and detail.get("code") == NFE_STILL_VALID


def settle_erp_side(session: Session, shop_id: int, link: OrderLink) -> None:
    """The order is cancelled in Shopify now: a cancellation of its ERP order coming the other way
    (its C event) that failed in Shopify (a refund declined: "or cancel the order there", its
    message said) is carried out. That message is closed saying so, and its note goes; a pending
    one runs by itself (it finds the order cancelled). The fulfillments it cancelled before failing
    stay named on the link (`fulfillments_note`): their goods may have left the store. The levels
    are read again: the ERP may have cancelled it first (its C event, a person in the ERP), its
    reservation released, a stock pass may have written that figure, and the restock of the
    cancellation in Shopify added the units again (phantom stock; cheap when right)."""
    stock_reread.cancelled_in(session, shop_id, link.id, link.shopify_order_id, None, [])
    erp = order_generation.of_link(session, link)
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.direction == ERP_TO_SHOPIFY,
            Message.erp_id == str(link.nro_pedvenda),
            Message.unit_key.like("event:%"),
            Message.status.in_(STUCK),
        )
    )
    for row in rows:
        event = order_notes.event_of(row.unit_key)
        if event is None or event[1] != erp:
            continue  # the same number of another ERP is another order
        if _nfe_still_valid(row.error_detail):  # its NF-e valid: not "both sides cancelled", still a person's
            continue
        order_notes.clear(link, FLOW, event=event[0], generation=event[1])
        if fulfillments := (row.response_payload or {}).get("fulfillments_named"):
            text, words = fulfillments_note(link, event[0], fulfillments)
            order_notes.put(link, FLOW, text, words=words)
        code = (row.error_detail or {}).get("code") or row.error_class
        row.response_payload = {**(row.response_payload or {}), "cancelled_in_shopify": True}
        why = f"the order was cancelled in Shopify after this cancellation failed there ({code})"
        trace.skip(session, row, f"{why}: both sides are cancelled, nothing left to do",
                   words=("cancel_both_sides", {"code": code}))  # fmt: skip


def fulfillments_note(link: OrderLink, seq: int, fulfillments: list[str]) -> tuple[str, trace.Words]:
    """The note of an ERP cancellation whose fulfillments were cancelled before Shopify's
    cancellation failed, carried out in Shopify by hand since, and its words."""
    name = link.shopify_order_name or link.shopify_order_id
    text = (
        f"{FLOW}: the ERP cancelled order {name} (event #{seq}) and the app cancelled its fulfillment(s) "
        f"{', '.join(fulfillments)} before Shopify refused to cancel it; it was cancelled in Shopify since. "
        "The goods may have left the store: check the delivery with the carrier, and get them back."
    )
    named = ", ".join(fulfillments)
    return text, ("cancel_fulfillments_before_refusal", {"name": name, "seq": seq, "fulfillments": named})


def _of_other_erp(session: Session, link: OrderLink, message: Message, refusal: Rejected) -> str:
    """The link's ERP number is of the ERP the shop was connected to before (jobs.order_generation):
    cancelling it in the ERP used now would cancel another order. A person cancels it in the ERP
    that holds it; the link is flagged meanwhile (the note goes once the message is marked handled)
    and marked cancelled (Shopify restocked its units)."""
    order_notes.put(link, FLOW, refusal.message, words=refusal.words)
    link.cancelled_at = link.cancelled_at or utcnow()
    log.warning("cancellations: %s is linked to ERP order %s of another ERP; not cancelled",
                link.shopify_order_id, link.nro_pedvenda)  # fmt: skip
    return trace.fail(session, message, refusal).value


def _unsure(session: Session, shop_id: int, num: str, link: OrderLink, message: Message) -> str:
    """A POST of the order may be in the ERP (jobs.order_posted: its answer lost, or cut off) and
    posting it again to learn its number failed for good (refused, parked): the ERP may hold a live
    order nobody knows the number of. Closing the cancellation as "never sent" would leave it to be
    picked and invoiced, so it fails for a person, saying where to look (UNSURE_NOTE on the link,
    cleared once a Retry cancels the ERP order). The orders message is left open, so that Retry
    can post the order again; the link is marked cancelled, so its units stop counting as pending
    stock (Shopify restocked them; if the ERP holds the order, its reservation counts them)."""
    orders_message = _orders_message(session, shop_id, num)
    why = (orders_message.error_text if orders_message is not None else None) or NO_REASON
    name = link.shopify_order_name or link.shopify_order_id
    channel = order_map.channel_order_id(link.shopify_order_id)

    def explained(why: str) -> str:
        return (
            f"Order {name} was cancelled in Shopify. It was sent to the ERP once and the ERP's answer was "
            f"lost, and sending it again to learn its ERP number failed ({why}). The ERP may hold it as a "
            f"live order: look it up in the ERP by its channel order id {channel} and cancel it there, or "
            "fix the cause above and Retry this cancellation."
        )

    explanation = explained(why)
    noted, why_words = _why_noted(orders_message)
    words = ("cancel_erp_number_unknown", {"name": name, "why": why_words, "channel": channel})
    order_notes.put(link, FLOW, f"{UNSURE_NOTE}{explained(noted)}", words=words)
    link.cancelled_at = link.cancelled_at or utcnow()
    if orders_message is not None:
        orders_message.updated_at = utcnow()  # it stops counting as pending: the stock flow rechecks
    log.warning("cancellations: order %s cancelled in Shopify; its ERP number is unknown (%s)", num, why)
    # The failure says it in the note's words (the ERP's own text, else where the reason is).
    refused = Rejected(explanation, system="app", code="CANCEL_ERP_NUMBER_UNKNOWN", words=words)
    return trace.fail(session, message, refused).value


def _why_noted(orders_message: Message | None) -> tuple[str, Any]:
    """Why the order's POST failed as its note says it (the note is said in the merchant's language,
    so no English of the app's in its words), and the note's words for it: the ERP's own text when
    the ERP refused it; else a fragment: none recorded, or the app's reason is on the order's
    message (the cancellation's message keeps the reason itself)."""
    if orders_message is None or not orders_message.error_text:
        return NO_REASON, ("no_reason_recorded", {})
    detail = orders_message.error_detail
    if isinstance(detail, dict) and _erp_answered(detail):
        return orders_message.error_text, orders_message.error_text
    return REASON_ON_ORDERS_MESSAGE, ("reason_on_orders_message", {})


def _erp_answered(detail: dict[str, Any]) -> bool:
    """Whether a failure's text is the ERP's own answer (erp.errors.ErpRejected built from an HTTP
    answer: it has a status), not the app's words about the ERP (a refused login's, an address's)."""
    return detail.get("system") == ERP and detail.get("status") is not None and not detail.get(AUTH)


def _handled_by_hand(
    session: Session, link: OrderLink | None, message: Message, gid: str, by_hand: dict[str, Any]
) -> str:
    """The order's import was closed as handled outside the app and never linked to an ERP order:
    if the person entered it in the ERP by hand, that order is live there and the app cannot
    cancel it (it knows no number). A person must: the message fails saying so."""
    mark_unsent_cancelled(link)
    name = (link.shopify_order_name if link else None) or gid
    explanation = (
        f"Order {name} was cancelled in Shopify. Its import was handled outside the app "
        f'("{by_hand.get("note")}"), and no ERP order is linked to it, so the app cannot cancel one: '
        "if it was entered in the ERP by hand, cancel it there, then mark this message handled."
    )
    log.warning("cancellations: order %s cancelled in Shopify; its import was handled by hand", gid)
    note: Any = by_hand.get("note")
    if handled_before.by_app(by_hand):  # closed on what an earlier installation kept: said in words
        at = f"{datetime.fromisoformat(by_hand['at']):%Y-%m-%d %H:%M}"
        note = ("handled_in_earlier_installation", {"at": at})
    words = ("cancel_handled_by_hand", {"name": name, "note": note})
    refused = Rejected(explanation, system="app", code="CANCEL_HANDLED_BY_HAND", words=words)
    return trace.fail(session, message, refused).value


def _refused(link: OrderLink, nro: int, refusal: ErpRejected) -> None:
    """The ERP did not cancel the order, and the same request gets the same answer: the link is
    flagged (cleared once a Retry cancels it) so the Orders page does not show it as a live order
    like any other, saying why. The ERP refused the integration's login (ErpAuthError: the message
    fails flagged AUTH, retried once the ERP connection is saved again): LOGIN_NOTE. The ERP has no
    such order (404: deleted there, or the connection's address points at another ERP, which answers
    404 for any order): NOT_FOUND_NOTE, never "still live". Else the ERP refused it for a reason of
    its own (an order in a load, a rule of the installation): REFUSED_NOTE, the ERP order stays live,
    to be picked and invoiced."""
    name = link.shopify_order_name or link.shopify_order_id
    why = refusal.mensagem.strip().rstrip(".") + "."
    words = {"name": name, "nro": nro, "why": why}
    if isinstance(refusal, ErpAuthError):
        explanation = (
            f"Order {name} was cancelled in Shopify, but ERP order {nro} was not cancelled, as the ERP "
            f"refused the app's login: {why} The ERP order is still live: fix the ERP user and password "
            "under Setup (saving them retries this cancellation), or cancel it in the ERP."
        )
        order_notes.put(link, FLOW, f"{LOGIN_NOTE}{explanation}", words=("cancel_login_refused", words))
    elif refusal.status == 404:
        explanation = (
            f"Order {name} was cancelled in Shopify, but the ERP answered it has no order {nro}: {why} If "
            "it was deleted in the ERP, there is nothing left to cancel: mark this cancellation handled. If "
            "the ERP should have it, check the ERP connection's address under Setup, then Retry this "
            "cancellation."
        )
        order_notes.put(
            link, FLOW, f"{NOT_FOUND_NOTE}{explanation}", words=("cancel_erp_order_not_found", words)
        )
    else:
        explanation = (
            f"Order {name} was cancelled in Shopify, but the ERP refused to cancel ERP order {nro}: {why} "
            "The ERP order is still live and would be picked and invoiced: cancel it in the ERP, or fix the "
            "cause and Retry this cancellation."
        )
        order_notes.put(link, FLOW, f"{REFUSED_NOTE}{explanation}", words=("cancel_refused_by_erp", words))
    log.warning("cancellations: ERP order %s not cancelled (Shopify %s): %s", nro, name, why)


def clear_unsure_note(link: OrderLink) -> None:
    """Clear the note `_unsure` or `_refused` left (the ERP order is cancelled); the note asking a
    person to cancel an invoiced order's NF-e is not one of these and stays."""
    order_notes.clear(link, FLOW, starting=(UNSURE_NOTE, REFUSED_NOTE, NOT_FOUND_NOTE, LOGIN_NOTE))


def _orders_message(session: Session, shop_id: int, num: str) -> Message | None:
    return session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == orders_flow.FLOW,
            Message.unit_key == orders_flow.unit_key(num),
        )
    ).one_or_none()


def close_never_sent(session: Session, shop_id: int, num: str) -> bool:
    """Skip the orders message of an order that never reached the ERP; True when one was open."""
    message = _orders_message(session, shop_id, num)
    if message is None or message.status not in OPEN:
        return False
    trace.skip(
        session, message, "cancelled in Shopify before it reached the ERP", words=("cancelled_before_erp", {})
    )
    return True

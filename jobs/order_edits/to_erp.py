"""Order edits Shopify -> ERP (flow `order_edits`, direction shopify_to_erp).

Source: orders/edited (`{"order_edit": {id, order_id, ...}}`). Unit of work: one order edit,
unit_key "edit:<order edit id>". The job re-reads the order (the payload only lists deltas,
and a later edit may already have superseded it), maps its current lines exactly as the import
does (same SKU bindings, same discount distribution, so totals stay equal to the cent) and
replaces the ERP order's lines while the ERP still allows it: the PUT is sent unless SITUACAOPED is
one known to take no edit (S picking, F invoiced, C cancelled: NOT_EDITABLE), and the ERP's answer
decides in any other (D/A/L, and R, W, P, which some installations use: R released, the others
unexplained), its refusal handled as below.

Once the ERP is separating or has invoiced the order (409 PEDIDO_EM_SEPARACAO / FATURADO), an
edit cannot be applied silently: the OrderLink is flagged `needs_attention` and the message
fails (rejected) with an explanation a person can act on, worded by what changed and the ERP's
status: separated, the picking is changed (an edit may be undone instead; a refund, refunds/create
run through this flow, cannot be reversed); invoiced, the NF-e stands and items taken back need a
return invoice (nota de devolução). An order the ERP cancelled (its C event not applied yet) is
not flagged: the edit is skipped, there is nothing left to pick. Each line change is recorded as
an OrderLineChange (direction shopify_to_erp), applied or not. A cancellation's note on the link
stays beside the edit's (`ledger.order_notes`: a note per flow), and an edit of an order cancelled
in Shopify is skipped: webhooks are not ordered, and the cancellation is what the ERP must get. A
change of an order not in the ERP is skipped: its import sends Shopify's lines as they are then,
or (a test order, one placed before the install) it is never sent. An order linked to an ERP order
of the ERP the shop was connected to before (jobs.order_generation) is not sent to the ERP used
now, where its number is another order: the edit fails (ORDER_OF_OTHER_ERP) for a person.

The flag's note starts "order_edits: " (NOTE). It is cleared once Shopify and the ERP agree again:
an edit applied, or skipped because the ERP already has Shopify's lines (a person undid the edit
as told, or changed the ERP order to match), and a cancellation sent to the ERP (the edit no
longer matters). Only this flow's own note is cleared; another flow's (an invoice's capture
warning, a cancellation's, the ERP's picking edit that failed: "order_edits (ERP event #n)") stays.

Lost answers: a retry that finds the ERP already has Shopify's lines (the earlier attempt's PUT was
taken, its answer lost) refreshes the link's total and status from the ERP and records the line
changes that attempt sent (its request_payload, when it sent exactly these lines) as applied. So
does a PUT whose resend by the transport (after an attempt's answer was lost: a timeout) the ERP
refused, "too late" or otherwise (ErpRejected.maybe_taken): the ERP order is read back, and holding
these lines and this freight the edit is done (`holds_edit`), never flagged "NOT applied"; not
holding them, the refusal is handled as any.

Echoes: when the ERP -> Shopify side edits the Shopify order after picking, Shopify sends
orders/edited back; the Shopify lines then already equal the ERP's served quantities and its
freight the ERP's, so the edit is skipped as "already matches ERP order ... as picked" instead of
being flagged. A freight that differs (a shipping line removed or refunded after picking) is the
merchant's change: flagged, named "freight R$ x -> R$ y". Once picked, the changes a flag names
and records are counted from what the ERP served (`diff(..., served=True)`), so the ERP's own cut,
already in Shopify, is never named as the merchant's; a change made before the picking reached
Shopify (the poller had not applied the ERP's S event yet) waits for it (Transient,
jobs.order_edits.picking_state), or Shopify, still as placed, would read as the merchant undoing
the ERP's cut. The echo of a picking that cut every item
(Shopify left with no item) is flagged ERP_CUT_EVERY_ITEM: nothing left to deliver, cancel the
order; not an edit to undo. A weighed line's money is compared as Shopify shows its weighing (the
lower of its ordered and weighed values, `weighed_shown`, within a cent a unit), so a discount put
on it after the picking is flagged like any line's, not skipped as the echo.

An edit applied sends the ERP order's payment forms again (formaPagtoDto: jobs.order_map
.map_payments for the new total, as the import maps them), so they keep summing to its total; a
card payment among them the card data was not sent for (the rest paid by card) gets it then
(jobs.card_payments.follow). An edit the ERP refuses for a reason of its own (not "too late")
fails with the ERP's words and flags the link (`refused`): the edit was NOT applied; the note is
cleared when an edit applies.
An edit the ERP no longer takes that added a line it cannot sell (a product made in Shopify, a
custom item) is flagged as too late, the line named "not an ERP product": not parked waiting for a
binding, which would resume nothing. One the ERP would still take is held back whole and the order
flagged (jobs.order_edits.held): parked only on an ERP SKU not bound yet, else failed for a person
(EDIT_NOT_ERP_PRODUCT: another edit replacing or removing the line carries the change); so is one
the ERP order would total other than what Shopify charges (the import's TAXES_ADDED /
TOTALS_MISMATCH: `_total_differs`). A later change of the order, its cancellation or the ERP's
picking closes a held edit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from typing import Any

from redis.exceptions import RedisError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from erp.errors import ErpAuthError, ErpRejected
from erp.records import Order as ErpOrder
from erp.records import OrderLine as ErpLine
from jobs import card_payments, order_clients, order_generation, order_map, order_posted, order_waits
from jobs.inbox import Ignored, not_installed
from jobs.order_edits import goodwill, held, picking_state
from jobs.order_lookup import find_link, payment_codes, shop_id_for, variants_for
from jobs.order_map import CENT, ZERO, cents
from jobs.orders import FLOW as ORDERS_FLOW
from jobs.orders import current_job_id, ensure_held, lock_lost, redis_down, run_classified, still_held
from jobs.orders import unit_key as order_unit_key
from ledger import order_notes, shop_settings, trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLineChange, OrderLink, Shop, utcnow
from ledger.words import Said, said, stored_for
from shopify_app.admin_api.order_import_ops import ErpOrderRead, read_order_for_erp
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine
from shopify_app.admin_api.refund_money import refund_money

log = logging.getLogger(__name__)

FLOW = "order_edits"
NOTE = f"{FLOW}: "  # how its note on the order link starts (a failed picking edit's: "order_edits (ERP")
TOO_LATE = {
    "S": ("PEDIDO_EM_SEPARACAO", "is already being separated (em separação)"),
    "F": ("PEDIDO_FATURADO", "is already invoiced (faturado): its NF-e cannot change"),
    "C": ("PEDIDO_CANCELADO", "is cancelled in the ERP"),
}
# The states known to take no edit. Not a list of those that do (D/A/L): installations use others
# (R grouped with L by some, W and P unexplained: the shared Consinco reference), and an edit the app
# held back there would be flagged "is in state R" with picking advice; the ERP's refusal decides.
NOT_EDITABLE = frozenset(TOO_LATE)
TOO_LATE_CODES = frozenset(code for code, _ in TOO_LATE.values())  # the ERP's codigo of each
FLAG_CODES = ("PEDIDO_EM_SEPARACAO", "PEDIDO_FATURADO")  # a flag for a person (`_flag`)
STATE_WORDS = {"S": "state_separating", "F": "state_invoiced", "C": "state_cancelled"}  # TOO_LATE's, said
NOT_BOUND, NOT_ERP = "its ERP product not bound to Shopify yet", "not an ERP product"  # LineChange.note
NOTE_WORDS = {NOT_BOUND: "line_not_bound", NOT_ERP: "line_not_erp"}


@dataclass(frozen=True)
class LineChange:
    kind: str  # added | removed | qty | price (same quantity, another value: a discount, a price)
    sku: str
    before: Decimal
    after: Decimal
    value_before: Decimal | None = None  # a price change's line value, R$ (quantity x price - discount)
    value_after: Decimal | None = None
    note: str | None = None  # what a person needs to know of the line ("not an ERP product")

    def describe(self) -> str:
        """The change in a person's words: quantities as counted (2, not 2.0); a price change
        (same quantity) by its line value in R$, the only thing that changed."""
        was, now = self.value_before, self.value_after
        if self.kind == "price" and was is not None and now is not None:
            return f"{self.sku} value {brl(was)} -> {brl(now)} (price or discount changed)"
        told = f", {self.note}" if self.note else ""
        return f"{self.sku} {self.before.normalize():f} -> {self.after.normalize():f}{told}"

    def words(self) -> trace.Words:
        """`describe` as the note's words (shopify_app.note_words): R$ values as they are written."""
        was, now = self.value_before, self.value_after
        if self.kind == "price" and was is not None and now is not None:
            return "line_value", {"sku": self.sku, "was": brl(was), "now": brl(now)}
        note: trace.Words | str = f", {self.note}" if self.note else ""
        if self.note in NOTE_WORDS:
            note = (NOTE_WORDS[self.note], {})
        before, after = f"{self.before.normalize():f}", f"{self.after.normalize():f}"
        return "line_quantity", {"sku": self.sku, "before": before, "after": after, "told": note}

    def payload(self) -> dict[str, str | None]:
        """As the message's request_payload keeps it (JSON: numbers as text)."""
        return {k: v if v is None or isinstance(v, str) else str(v) for k, v in self.__dict__.items()}


def brl(value: Decimal) -> str:
    """R$ 1.234,56: money as a Brazilian merchant reads it."""
    return "R$ " + f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def unit_key(edit_id: str | int) -> str:
    return f"edit:{edit_id}"


def on_webhook(event: Any) -> str | Ignored:
    edit = event.payload.get("order_edit") or {}
    order_id, edit_id = edit.get("order_id"), edit.get("id")
    if not order_id or not edit_id:
        raise ValueError("orders/edited payload has no order_edit.order_id / order_edit.id")
    with session_scope() as session:
        shop_id = shop_id_for(session, event.shop_domain)
    if shop_id is None:
        log.warning("order_edits: edit for unknown shop %s ignored", event.shop_domain)
        return not_installed(event.shop_domain)
    return apply_edit(shop_id, order_id, str(edit_id))


def on_refund(event: Any) -> str | Ignored:
    """refunds/create: a refund that takes items back (restocked, or simply removed) lowers their
    current quantity in Shopify exactly as an order edit does, and Shopify sends no orders/edited for
    it: the ERP order is changed the same way (unit "edit:refund-<refund id>"). A refund of
    shipping lowers the shipping line's current price (currentDiscountedPriceSet, "after applying
    refunds"), so the freight: sent to the ERP like an edit, flagged once the order is picked. A
    refund of money only (a goodwill amount) changes no ERP line: it ends skipped, the order flagged for
    the amount to be recorded in the ERP (jobs.order_edits.goodwill)."""
    order_id, refund_id = event.payload.get("order_id"), event.payload.get("id")
    if not order_id or not refund_id:
        raise ValueError("refunds/create payload has no order_id / id")
    with session_scope() as session:
        shop_id = shop_id_for(session, event.shop_domain)
    if shop_id is None:
        log.warning("order_edits: refund for unknown shop %s ignored", event.shop_domain)
        return not_installed(event.shop_domain)
    return apply_edit(shop_id, order_id, f"refund-{refund_id}")


def replay(message_id: int) -> str:
    from jobs.order_edits import address

    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, key, order_id = message.shop_id, message.unit_key, message.shopify_id
    if key.startswith(f"{address.PREFIX}:"):  # a delivery address changed (orders/updated)
        return address.replay(message_id)
    if not order_id:
        raise LookupError(f"message {message_id} names no order")
    return apply_edit(shop_id, order_id, key.split(":", 1)[1])


def apply_edit(shop_id: int, order_id: str | int, edit_id: str) -> str:
    """Apply the order's current lines to its ERP order; returns done | skipped | failed | ...

    Raises:
        Transient: Shopify, the ERP or Redis unreachable, or the order locked (RQ retries).
    """
    try:
        return _apply_edit(shop_id, order_id, edit_id)
    except RedisError as exc:
        raise redis_down(exc) from exc


def _apply_edit(shop_id: int, order_id: str | int, edit_id: str) -> str:
    gid = order_map.order_gid(order_id)

    def begin(session: Session) -> Message:
        return trace.begin(
            session,
            shop_id,
            FLOW,
            unit_key(edit_id),
            SHOPIFY_TO_ERP,
            shopify_id=gid,
            search=[order_map.numeric_id(gid)],
            job_id=current_job_id(),
        )

    # begun before it waits for the order's other work: an edit its retries ran out on behind the
    # lock is replayed by the orders catch-up (jobs.order_waits), never lost
    with order_waits.begun_then_locked(shop_id, gid, begin) as (session, message, lock):
        link = find_link(session, shop_id, gid)
        if link is not None and link.shopify_order_name:
            message.search_text = trace.search_text(message.search_text.split(), [link.shopify_order_name])
        if link is None or link.nro_pedvenda is None:
            why, words = not_in_erp(session, shop_id, gid)
            trace.skip(session, message, why, words=words)
            return "skipped"
        if link.erp_status == "C":
            held.settle_cancelled(session, link, but=message.id)
            trace.skip(session, message, f"ERP order {link.nro_pedvenda} is cancelled: nothing to edit",
                       words=("edit_erp_cancelled", {"nro": link.nro_pedvenda}))  # fmt: skip
            return "skipped"
        if link.cancelled_at is not None:  # cancelled in Shopify, not (yet) in the ERP
            held.settle_cancelled(session, link, but=message.id)
            trace.skip(session, message, f"the order is cancelled in Shopify: its cancellation, not this "
                       f"edit, goes to ERP order {link.nro_pedvenda}",
                       words=("edit_cancelled_in_shopify",
                              {"name": link.shopify_order_name or "", "nro": link.nro_pedvenda}))  # fmt: skip
            return "skipped"
        other_erp = order_generation.refusal(session, link, "this edit")
        if other_erp is not None:  # its number is another order in the ERP used now
            return trace.fail(session, message, other_erp).value
        session.commit()  # the message row exists before any outside call
        return run_classified(
            session, message, lambda: _apply(session, shop_id, link, message, edit_id, lock)
        )


def _apply(
    session: Session, shop_id: int, link: OrderLink, message: Message, edit_id: str, lock: Lock
) -> str:
    nro = link.nro_pedvenda
    assert nro is not None
    shop_domain = link_shop_domain(session, shop_id)
    client = order_clients.admin_client(shop_domain)
    read = read_order_for_erp(client, link.shopify_order_id)
    if read is None:
        raise Rejected(f"Shopify has no order {link.shopify_order_id}", system="shopify", code="NOT_FOUND")
    if read.order.cancelled_at:  # webhooks are not ordered: the cancellation may have run already
        name = read.order.name
        held.settle_cancelled(session, link, but=message.id)
        trace.skip(session, message, f"order {name} is cancelled in Shopify: its cancellation, not this "
                   f"edit, goes to ERP order {nro}",
                   words=("edit_cancelled_in_shopify", {"name": name, "nro": nro}))  # fmt: skip
        return "skipped"
    erp = order_clients.erp_client(shop_id)
    try:
        current = erp.get_order(nro)
    except ErpRejected as exc:  # the order gone (404), the login refused: said on the order (`not_applied`)
        _note(link, *not_applied(read.order.name, nro, is_refund(edit_id), exc))
        raise
    editable = current.situacao not in NOT_EDITABLE
    if not order_map.goods_lines(read.order):  # every item removed: not an edit the ERP order can take
        if current.situacao == "C":
            return _too_late(session, link, message, edit_id, [], "C", read.order.name)
        if not editable and nothing_served(current):  # the ERP's own picking, coming back
            explanation, words = cut_every_item(read.order.name, nro, current.situacao)
            _note(link, explanation, words)
            detail = {"nro_pedvenda": nro}
            cut = Rejected(explanation, system="consinco", code="ERP_CUT_EVERY_ITEM", detail=detail)
            return trace.fail(session, message, cut).value
        status, kept = current.situacao, refund_kept(client, edit_id, current.situacao)
        explanation, words = left_no_item(read.order.name, nro, is_refund(edit_id), status, kept=kept)
        _note(link, explanation, words)
        return trace.fail(session, message, Rejected(explanation, system="app", code="EDIT_LEFT_NO_ITEM",
                                                     detail={"nro_pedvenda": nro})).value  # fmt: skip
    # Picked: Shopify follows the picking (once it is there: picking_state waits for it).
    served = not editable and (
        current.situacao == "C" or picking_state.counts_served(session, shop_id, nro, current)
    )
    variants = variants_for(session, shop_id, read.order.lines)
    try:
        mapped = order_map.map_lines(read, variants)
    except MappingMissing as missing:  # a line the ERP cannot sell
        if editable:  # held back (jobs.order_edits.held): parked on a SKU not bound yet, else failed
            return _held(session, link, message, edit_id, read, variants, current, missing)
        return _not_erp_products(session, link, message, edit_id, read, variants, current, served, client)
    freight = order_map.freight_of(read.order)
    changes = diff(current, mapped, served=served)
    earlier = message.request_payload  # an earlier attempt's, kept by trace.begin
    lines = [{"sku": m.id_sku, "quantity": m.shopify_quantity, "erp_qty": str(m.line.qty)} for m in mapped]
    message.request_payload = {
        "nro_pedvenda": nro,
        "lines": lines,
        "changes": [c.payload() for c in changes],
        "freight": str(freight),
    }
    if not editable:
        freight_change = None if freight == current.freight else (current.freight, freight)
        # Shopify as the ERP served it; or, the picking never applied there (its edit failed: its
        # own note says so), as the ERP order was placed: an edit undone as the flag said
        undone = matches_served(current, mapped) or (not served and not changes)
        if current.situacao != "C" and freight_change is None and undone:
            clear_note(link)  # an edit undone as the flag said, or the ERP's picking edit coming back
            held.supersede(session, link, message, sent=True)
            _settle_flags(session, link, message)  # nothing is left for a person, nor held in stock
            if (money := goodwill.given_back(client, read, edit_id)) is not None:
                goodwill.flag(session, link, message, money, read.order.name)
                return "skipped"
            trace.skip(
                session,
                message,
                f"Shopify already matches ERP order {nro} as picked: nothing to change",
                words=("edit_matches_picked", {"nro": nro}),
            )
            return "skipped"
        status = _too_late(session, link, message, edit_id, changes, current.situacao, read.order.name,
                           freight_change, client=client)  # fmt: skip
        _note_goodwill(client, link, read, edit_id)  # a refund giving more than what it took back
        return status
    if not changes and freight == current.freight:
        clear_note(link)
        held.supersede(session, link, message, sent=True)
        _settle_left_empty(session, link, message)
        _settle_matched(session, link, message)
        link.total, link.erp_status = current.total, current.situacao  # an earlier answer may be lost
        lost = record_lost_answer(session, link, edit_id, earlier, lines)
        found = f" (an earlier attempt's answer was lost: {lost} line change(s) recorded)" if lost else ""
        words = (
            ("edit_lines_already_lost", {"nro": nro, "lost": lost})
            if lost
            else ("edit_lines_already", {"nro": nro})
        )
        money = None if lost else goodwill.given_back(client, read, edit_id)
        if money is not None:  # a refund of money only: the ERP's receivable is a person's to mend
            goodwill.flag(session, link, message, money, read.order.name)
        elif not lost and (forms := _forms_moved(session, shop_id, read, current)) is not None:
            return _send_forms(session, link, message, erp, nro, forms, lock, read)
        else:
            trace.skip(session, message, f"ERP order {nro} already has these lines{found}", words=words)
        if _sent_before(link, earlier, lines):  # its card forms, as the lost answer would have followed
            _follow_cards(session, shop_id, link, read, _resent_payments(session, shop_id, read, mapped))
        return "skipped"
    goods = sum((m.net for m in mapped), ZERO)
    try:  # the import's own check: the ERP order never totals other than what Shopify charges
        order_map.check_total(read, goods, freight)
    except Rejected as differs:
        return _total_differs(
            session, link, message, edit_id, read, changes, current.freight, freight, differs
        )
    # The ERP order's payments follow its new total, as the import makes them (its own rule).
    shop, on_delivery, codes = _payment_inputs(session, shop_id, read)
    total = goods + freight
    confirmation = shop_settings.get(shop, "payment_confirmation") if shop else "paid"
    if total > current.total and not order_map.is_ready(read.order, confirmation, on_delivery):
        return _wait_for_payment(session, link, message, read, total, current.total)
    try:
        payments = order_map.map_payments(read.order, total, codes, on_delivery)
    except MappingMissing as unmapped:  # parks on its De:Para line, the order flagged meanwhile
        _held_on_payment(session, link, message, edit_id, read, changes, current.freight, freight, unmapped)
        raise
    message.request_payload = {
        **message.request_payload,
        "payments": order_map.payment_records(payments),
    }
    sent = said(f"Shopify order edit {edit_id}", ("line_edit_sent", {"edit": edit_id}))
    response: dict[str, Any] = {"nro_pedvenda": nro}
    ensure_held(lock, order_map.numeric_id(link.shopify_order_id))  # or another job may be writing it
    moved = None if freight == current.freight else (current.freight, freight)  # a late refusal names it
    try:
        updated = erp.edit_order(nro, [m.line for m in mapped], freight=freight, payments=payments or None)
    except ErpRejected as exc:
        taken = holds_edit(erp, nro, mapped, freight) if exc.maybe_taken else None
        if taken is None:
            if exc.codigo in TOO_LATE_CODES:
                status = next((s for s, (code, _) in TOO_LATE.items() if code == exc.codigo), "S")
                return _too_late(session, link, message, edit_id, changes, status, read.order.name, moved,
                                 client=client)  # fmt: skip
            refusal = exc
            if exc.status == 409:  # another wording of "too late": the order's status, read again, says
                try:  # the ERP down for that read: Transient, retried; gone, or the login refused: said so
                    status = erp.get_order(nro).situacao or "S"
                except ErpRejected as reread:
                    refusal = reread
                else:
                    if status in NOT_EDITABLE:
                        return _too_late(session, link, message, edit_id, changes, status, read.order.name,
                                         moved, client=client)  # fmt: skip
            # final: a person acts
            _note(link, *not_applied(read.order.name, nro, is_refund(edit_id), refusal))
            if refusal is exc:
                raise
            raise refusal from exc
        updated, response["answer_lost"] = taken, True
        sent = said(f"Shopify order edit {edit_id} (the ERP took it; its answer was lost)",
                    ("line_edit_lost", {"edit": edit_id}))  # fmt: skip
        log.warning("order_edits: ERP order %s refused the resend of edit %s (%s) but holds it: an earlier "
                    "attempt's answer was lost", nro, edit_id, exc.mensagem)  # fmt: skip
    if not still_held(lock):  # lost during the PUT: a later edit's job may have sent newer lines before
        # this one's landed, built from an older read; the retry reads both sides again and sends the
        # latest (or finds the ERP holds them already), as the import rechecks its lines (jobs.orders)
        raise lock_lost(order_map.numeric_id(link.shopify_order_id), during=True)
    record_changes(session, link, edit_id, changes, applied=True, **sent)
    link.total, link.erp_status = updated.total, updated.situacao
    clear_note(link)
    held.supersede(session, link, message, sent=True)
    _settle_left_empty(session, link, message)
    _settle_matched(session, link, message)
    trace.succeed(
        session,
        message,
        response={**response, "total": str(updated.total), "situacao": updated.situacao},
        erp_id=str(nro),
        search=[nro],
    )
    log.info("order_edits: edit %s applied to ERP order %s (%s changes)", edit_id, nro, len(changes))
    _note_goodwill(client, link, read, edit_id)  # a refund giving more than what it took back
    _follow_cards(session, shop_id, link, read, payments)
    return "done"


def _note_goodwill(client: Any, link: OrderLink, read: ErpOrderRead, edit_id: str) -> None:
    """A refund whose items (or freight) the ERP order took, or was flagged for, that gave back more
    than their value: the rest is noted for the ERP's receivable (jobs.order_edits.goodwill)."""
    money = goodwill.given_back(client, read, edit_id) if is_refund(edit_id) else None
    if money is not None:
        goodwill.note(link, money, read.order.name)


def _forms_moved(session: Session, shop_id: int, read: Any, current: ErpOrder) -> list[Any] | None:
    """The ERP order's payment forms made again from the money Shopify holds now, when they differ
    from those it has; None when they agree (or cannot be made: a gateway not mapped, shown when an
    edit sends lines). A refund since the last edit (the money owed back after an edit lowered the
    order, given back to one gateway) left the lines as they were: the forms the edit split by
    gateway in turn then booked the card at what it no longer holds, the Pix at money given back."""
    _shop, on_delivery, codes = _payment_inputs(session, shop_id, read)
    try:
        forms = list(order_map.map_payments(read.order, current.total, codes, on_delivery))
    except MappingMissing:
        return None
    have = sorted((p.nro_forma_pagto, p.amount) for p in current.payments)
    want = sorted((p.nro_forma_pagto, p.amount) for p in forms)
    return forms if forms and have and want != have else None


def _send_forms(
    session: Session, link: OrderLink, message: Message, erp: Any, nro: int, forms: list[Any], lock: Lock,
    read: Any,
) -> str:  # fmt: skip
    """PUT the ERP order's payment forms alone (its lines and freight already Shopify's); done.
    The ERP refusing for its picking begun: the forms stay as they are (its total is right), said."""
    message.request_payload = {
        **message.request_payload,
        "payments": order_map.payment_records(forms),
    }
    ensure_held(lock, order_map.numeric_id(link.shopify_order_id))
    try:
        erp.edit_order(nro, payments=forms)
    except ErpRejected as exc:
        if exc.codigo not in TOO_LATE_CODES:
            raise
        log.info("order_edits: ERP order %s refused its payment forms: %s", nro, exc)
        text = f"ERP order {nro} already has these lines; its picking began, its payment forms stay unchanged"
        trace.skip(session, message, text, words=("edit_forms_too_late", {"nro": nro}))
        return "skipped"
    trace.succeed(session, message, response={"nro_pedvenda": nro, "payments_only": True}, erp_id=str(nro))
    _follow_cards(session, link.shop_id, link, read, forms)
    return "done"


def _follow_cards(session: Session, shop_id: int, link: OrderLink, read: Any, payments: list[Any]) -> None:
    """A card payment the edit's forms brought (the rest paid by card): its data, as the import's
    (jobs.card_payments.follow: only the forms its card message does not name yet)."""
    if not payments or link.nro_pedvenda is None:
        return
    shop = session.get(Shop, shop_id)
    settings = (shop.settings or {}) if shop else {}
    card = card_payments.follow(session, shop_id, read.order, link.nro_pedvenda, payments, settings)
    if card is not None:
        session.commit()  # its message is in the ledger before its job is enqueued
        card_payments.enqueue(shop_id, order_map.numeric_id(link.shopify_order_id), *card)


def _sent_before(link: OrderLink, earlier: dict[str, Any] | None, lines: list[Any]) -> bool:
    """Whether this edit's earlier attempt sent these very lines with payment forms to the ERP order
    (its answer lost: the ERP holds them now, `record_lost_answer`)."""
    return bool(
        earlier
        and earlier.get("nro_pedvenda") == link.nro_pedvenda
        and earlier.get("lines") == lines
        and earlier.get("payments")
    )  # (its card forms are sent again whoever put the lines: _follow_cards sends each once)


def _resent_payments(
    session: Session, shop_id: int, read: Any, mapped: list[order_map.MappedLine]
) -> list[Any]:
    """The payment forms an earlier attempt sent with these lines, made again as it made them (the
    order's total, its payments' De:Para); none when the De:Para cannot map them now (a line removed)."""
    _shop, on_delivery, codes = _payment_inputs(session, shop_id, read)
    total = sum((m.net for m in mapped), ZERO) + order_map.freight_of(read.order)
    try:
        return list(order_map.map_payments(read.order, total, codes, on_delivery))
    except MappingMissing:
        return []


def _payment_inputs(
    session: Session, shop_id: int, read: Any
) -> tuple[Shop | None, frozenset[str], dict[str, int]]:
    """What the order's payment forms are made from, as the import makes them: the shop, its
    pay-on-delivery gateways and the De:Para codes of the gateways the order names, but the forms
    the import posted for the gateways it posted (`_posted_codes`)."""
    shop = session.get(Shop, shop_id)
    on_delivery = order_map.gateway_keys(shop_settings.get(shop, "pay_on_delivery_gateways") if shop else [])
    codes = payment_codes(session, shop_id, order_map.payment_names(read.order, on_delivery))
    return shop, on_delivery, {**codes, **_posted_codes(session, shop_id, read.order)}


def _posted_codes(session: Session, shop_id: int, order: Any) -> dict[str, int]:
    """The ERP payment forms the import posted, by the gateway of the transaction each was posted
    for (`order_posted`: its kept input). An edit re-sends the order's payments: made from the
    De:Para as it is now, a line changed since (a new Pix bank from today on) moved an old order's
    receivable to another form with no word, one changed to a code the ERP lacks failed every edit
    of orders imported right, and one deleted parked them. Money the edit adds under a gateway the
    import did not post is mapped by the De:Para as it is."""
    request = session.scalar(
        select(Message.request_payload).where(
            Message.shop_id == shop_id,
            Message.flow == ORDERS_FLOW,
            Message.unit_key == order_unit_key(order.id),
        )
    )
    posted = order_posted.stored(request)
    if not posted:
        return {}
    gateways = {order_map.numeric_id(t.id): t.gateway for t in order.transactions if t.gateway}
    codes: dict[str, int] = {}
    for payment in posted.get("payments") or []:
        gateway = gateways.get(str(payment.get("channel_payment_id")))
        if gateway and isinstance(payment.get("nro_forma_pagto"), int):
            codes[gateway] = payment["nro_forma_pagto"]
    return codes


def holds_edit(erp: Any, nro: int, mapped: list[order_map.MappedLine], freight: Decimal) -> ErpOrder | None:
    """The ERP order read back, when it holds the lines and freight an edit sent; else None (the
    order unreadable too: the refusal is then handled as it came). Asked when the ERP refused the
    transport's resend of the PUT after an attempt whose answer was lost (ErpRejected.maybe_taken):
    that attempt may have been taken (and the order gone on to picking since, which is why the
    resend is refused), so the refusal says nothing of it. A PUT replaces the lines whole, so
    holding them means the edit is applied, once, whatever the resend answered.

    Raises:
        Transient: the ERP unreachable for the read (RQ retries; the retry reads it first).
    """
    try:
        after = erp.get_order(nro)
    except ErpRejected:
        return None
    if after.situacao == "C" or diff(after, mapped) or after.freight != freight:
        return None  # cancelled since (the refusal, or the status read again, says so) or not taken
    return after


def _not_erp_products(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    read: ErpOrderRead,
    variants: dict[str, order_map.VariantInfo],
    current: ErpOrder,
    served: bool,
    client: Any,
) -> str:
    """An edit the ERP no longer takes that put on the order a line the ERP cannot sell (a product
    made in Shopify, a custom item, an ERP SKU not bound yet): too late like any other, so flagged
    naming that line, not parked waiting for a binding that would resume nothing."""
    changes, moved = _changes_beside_unsold(message, link, read, variants, current, served)
    status, name = current.situacao or "S", read.order.name
    return _too_late(session, link, message, edit_id, changes, status, name, moved, client=client)


def _changes_beside_unsold(
    message: Message,
    link: OrderLink,
    read: ErpOrderRead,
    variants: dict[str, order_map.VariantInfo],
    current: ErpOrder,
    served: bool,
) -> tuple[list[LineChange], tuple[Decimal, Decimal] | None]:
    """The changes of an order with lines the ERP cannot sell (each named as such) and its freight
    change (ERP's, Shopify's; None when equal), kept on the message's request_payload. The other
    lines' changes are counted by quantity alone: their value is Shopify's split of the order's
    discounts over lines the ERP does not have, which says nothing of a price changed."""
    missing = order_map.missing_variants(read.order, variants)
    unknown = {line.id for line in missing}
    known = replace(read.order, lines=[line for line in read.order.lines if line.id not in unknown])
    try:
        mapped = order_map.map_lines(replace(read, order=known, current_subtotal=None), variants)
    except Rejected:  # no line the ERP sells is left
        mapped = []
    changes = [c for c in diff(current, mapped, served=served) if c.kind != "price"]
    copies = order_map.copied_lines(missing, variants)
    changes += merged([not_erp_product(line, copy=line in copies) for line in missing])
    freight = order_map.freight_of(read.order)
    message.request_payload = {
        "nro_pedvenda": link.nro_pedvenda,
        "changes": [c.payload() for c in changes],
        "freight": str(freight),
    }
    return changes, None if freight == current.freight else (current.freight, freight)


def _held(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    read: ErpOrderRead,
    variants: dict[str, order_map.VariantInfo],
    current: ErpOrder,
    missing: MappingMissing,
) -> str:
    """The ERP order still takes edits, but one of Shopify's lines it cannot sell: nothing is
    applied (jobs.order_edits.held). The link is flagged naming the changes held back; the edit
    parks on the SKU when each such line is an ERP idSku not bound yet (the catalog sync binds it
    and the edit resumes), else fails for a person (a product made in Shopify, a custom item: no
    binding will come; another edit replacing or removing the line carries the change). The
    order's earlier held edits are superseded by this one, read later."""
    nro = link.nro_pedvenda
    assert nro is not None
    changes, moved = _changes_beside_unsold(message, link, read, variants, current, served=False)
    bindable = all(c.note != NOT_ERP for c in changes)
    explanation, words = held.note(read.order.name, nro, _changed(is_refund(edit_id), bool(changes)),
                                   summarise(changes, moved), bindable=bindable)  # fmt: skip
    held.supersede(session, link, message, sent=False)
    _note(link, explanation, words)
    record_changes(session, link, edit_id, changes, applied=False, reason=explanation)
    log.warning("order_edits: edit %s of %s held: %s", edit_id, read.order.name, explanation)
    if bindable:
        parked = MappingMissing(order_map.VARIANT, missing.code, explanation, **_mapping_detail(missing))
        return trace.fail(session, message, parked).value
    refusal = Rejected(explanation, system="app", code=held.NOT_ERP_PRODUCT, detail={"nro_pedvenda": nro})
    return trace.fail(session, message, refusal).value


def _held_on_payment(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    read: ErpOrderRead,
    changes: list[LineChange],
    erp_freight: Decimal,
    freight: Decimal,
    unmapped: MappingMissing,
) -> None:
    """The ERP order still takes the edit, but a payment method of the order has no ERP payment form
    (De:Para) to send with its new total (an order a person linked by hand: its import never mapped
    them): nothing is applied, the edit parks on that mapping (the caller) and resumes once it is
    saved. Meanwhile the ERP order keeps its earlier lines and would pick and invoice them, so the
    link is flagged naming the changes held back and the payment methods, as `_held` does for a SKU
    not bound; the changes are recorded not applied (an edit applied later records them applied and
    clears the note). The order's earlier held edits are superseded by this one, read later."""
    nro = link.nro_pedvenda
    assert nro is not None
    moved = None if freight == erp_freight else (erp_freight, freight)
    gateways = [str(g) for g in (unmapped.detail or {}).get("gateways") or [unmapped.code]]
    explanation, words = held.payment_note(read.order.name, nro, _changed(is_refund(edit_id), bool(changes)),
                                           summarise(changes, moved), gateways)  # fmt: skip
    held.supersede(session, link, message, sent=False)
    _note(link, explanation, words)
    record_changes(session, link, edit_id, changes, applied=False, reason=explanation)
    log.warning("order_edits: edit %s of %s held: %s", edit_id, read.order.name, explanation)


def _total_differs(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    read: ErpOrderRead,
    changes: list[LineChange],
    erp_freight: Decimal,
    freight: Decimal,
    differs: Rejected,
) -> str:
    """The ERP order would total other than what Shopify charges once it has Shopify's lines (the
    import's check, order_map.check_total: a tax added on top of the prices, a fee or duty, a
    discount no line carries): sent, the ERP would invoice and charge another amount than the
    customer's. Nothing is applied: the link is flagged naming the changes and both totals, the
    changes recorded not applied, and the message fails (rejected, with the import's code) for a
    person: held (jobs.order_edits.held) until a later change of the order, its cancellation or the
    ERP's picking closes it. The order's earlier held edits are superseded by this one, read later."""
    nro = link.nro_pedvenda
    assert nro is not None
    detail = differs.detail or {}
    moved = None if freight == erp_freight else (erp_freight, freight)
    tax = Decimal(detail["tax"]) if differs.code == order_map.TAXES_ADDED else None
    explanation, words = total_differs(
        read.order.name, nro, _changed(is_refund(edit_id), bool(changes)), summarise(changes, moved),
        (Decimal(detail["erp_total"]), Decimal(detail["shopify_total"])), tax,
    )  # fmt: skip
    held.supersede(session, link, message, sent=False)
    _note(link, explanation, words)
    record_changes(session, link, edit_id, changes, applied=False, **said(explanation, words))
    log.warning("order_edits: edit %s of %s not sent: %s", edit_id, read.order.name, explanation)
    refusal = Rejected(explanation, system="app", code=differs.code, detail={**detail, "nro_pedvenda": nro},
                       words=words)  # fmt: skip
    return trace.fail(session, message, refusal).value


def total_differs(
    name: str,
    nro: int,
    changed: tuple[str, str],
    summary: tuple[str, trace.Words | dict[str, object]],
    totals: tuple[Decimal, Decimal],
    tax: Decimal | None,
) -> tuple[str, trace.Words]:
    """The note of a change not sent because the ERP order would then total `totals[0]` while
    Shopify charges `totals[1]` (`tax`: the tax the store adds on top of the prices, else another
    difference), and its words."""
    erp_total, charged = brl(totals[0]), brl(totals[1])
    params: dict[str, Any] = {"name": name, "changed": (changed[1], {}), "summary": summary[1], "nro": nro,
                              "erp_total": erp_total, "charged": charged}  # fmt: skip
    head = (
        f"Order {name} was {changed[0]} in Shopify ({summary[0]}), but with Shopify's lines ERP order {nro} "
        f"would total {erp_total} while Shopify charges {charged}"
    )
    tail = (
        f"so the change was NOT applied: ERP order {nro} keeps its earlier lines, and would be picked and "
        "invoiced so. Settle the difference by hand in the ERP order (then mark this change handled), or "
        "undo the change in Shopify if it can be (a refund cannot)."
    )
    if tax is not None:
        params["tax"] = brl(tax)
        return (
            f"{head}: the store adds {brl(tax)} of tax on top of the prices (taxes included: no), which no "
            f"ERP line carries (the ERP computes the taxes on the NF-e), {tail}"
        ), ("edit_total_taxes_added", params)
    differs = f"{head} (a fee, a duty or a discount the ERP lines cannot carry), {tail}"
    return differs, ("edit_total_differs", params)


def _wait_for_payment(
    session: Session, link: OrderLink, message: Message, read: ErpOrderRead, total: Decimal, was: Decimal
) -> str:
    """The edit raises the ERP order's total (`was` -> `total`) and Shopify has not been paid for it
    (order_map.is_ready, the import's own check): sent, the ERP would book the new total as paid by
    the forms that took the earlier one, and pick and invoice what no money is behind. Held
    (jobs.order_edits.held): the message waits for the payment as an unpaid order's does (pending,
    error_detail "waiting"), the link is noted naming what is unpaid, and the order's payment or the
    orders catch-up replays it."""
    nro = link.nro_pedvenda
    assert nro is not None
    unpaid = order_map.unpaid_balance(read.order) or total - was
    explanation, words = held.unpaid_note(read.order.name, nro, brl(unpaid), brl(total))
    held.supersede(session, link, message, sent=False)
    _note(link, explanation, words)
    message.error_text = f"Waiting for payment: {explanation}"
    message.error_detail = {
        "waiting": held.PAYMENT,
        "financial_status": read.order.financial_status,
        "unpaid": str(unpaid),
        "total": str(total),
    }
    message.updated_at = utcnow()
    log.info("order_edits: edit of %s waits for its payment: %s", read.order.name, explanation)
    return "waiting"


def _mapping_detail(missing: MappingMissing) -> dict[str, Any]:
    """What the import's MappingMissing keeps beside its mapping (the lines it names)."""
    return {k: v for k, v in (missing.detail or {}).items() if k != "mapping"}


def not_erp_product(line: ShopifyLine, *, copy: bool = False) -> LineChange:
    """A line with no ERP SKU bound, added: an ERP idSku (P{seq}E{qtd}) the catalog sync has not
    bound, or a product made in Shopify, a copy made there of the app's product (`copy`: its SKU
    bound to another variant) or a custom item (no SKU: named by its name), which no ERP product is
    behind. A copy is named by its name: its SKU is the ERP product's, which the order may have too."""
    note = NOT_BOUND if line.sku and order_map.parse_sku(line.sku) and not copy else NOT_ERP
    sku = (line.name if copy else line.sku or line.name)[:60]
    return LineChange("added", sku, Decimal(0), Decimal(line.current_quantity), note=note)


def merged(changes: list[LineChange]) -> list[LineChange]:
    """The changes with one per SKU (as recorded: `change_key`), in order, those naming the same one
    summed. An edit can put a product the ERP cannot sell on two lines (the same variant added twice,
    orderEditAddVariant's allowDuplicates; two variants sharing a SKU): one change of their total,
    as the ERP's lines are counted per product (`diff`), never two rows with one key."""
    by_sku: dict[str, LineChange] = {}
    for change in changes:
        was = by_sku.get(change.sku)
        by_sku[change.sku] = change if was is None else _summed(was, change)
    return list(by_sku.values())


def _summed(one: LineChange, other: LineChange) -> LineChange:
    """Two changes of one SKU as one: quantities summed, and line values when both have them."""
    before, after = one.before + other.before, one.after + other.after
    kind = "added" if before == 0 else "removed" if after == 0 else "qty" if before != after else one.kind
    was, now = _plus(one.value_before, other.value_before), _plus(one.value_after, other.value_after)
    return LineChange(kind, one.sku, before, after, was, now, one.note or other.note)


def _plus(one: Decimal | None, other: Decimal | None) -> Decimal | None:
    return None if one is None or other is None else one + other


def link_shop_domain(session: Session, shop_id: int) -> str:
    shop = session.get(Shop, shop_id)
    assert shop is not None
    return shop.domain


def diff(current: ErpOrder, mapped: list[order_map.MappedLine], *, served: bool = False) -> list[LineChange]:
    """Additions, removals, quantity changes and, at the same quantity, value changes (a discount
    or a price set in the edit: the ERP total must follow Shopify's) between the ERP's lines and
    Shopify's current ones.

    `served`: against what the ERP separated (`picked`), the baseline of an order already picked:
    the ERP -> Shopify side applied the picking to Shopify (jobs.order_edits.to_shopify), so a cut
    is the ERP's own change, not the merchant's. A value that differs by a cent there is rounding
    (each side prorates a cut line's discount); a weighed line's is what Shopify shows of its
    weighing (`weighed_shown`), give or take a cent a unit."""
    before: dict[tuple[int, Decimal], tuple[str, Decimal]] = {}
    value_before: dict[tuple[int, Decimal], Decimal | None] = {}
    weighed: set[tuple[int, Decimal]] = set()
    for line in current.lines:
        if line.is_substitute and not served:
            continue
        key = (line.seq_produto, Decimal(line.qtd_embalagem))
        sku = line.id_sku or f"P{line.seq_produto}E{line.qtd_embalagem.normalize():f}"
        old = before.get(key, (sku, Decimal(0)))[1]
        if served:
            qty, value = picked(line)
            before[key] = (sku, old + qty)
            was = value_before.get(key, ZERO)
            if line.weighed:
                weighed.add(key)
                shown = weighed_shown(line)
                value_before[key] = None if was is None or shown is None else was + shown
            else:
                value_before[key] = None if was is None else was + value
            continue
        before[key] = (sku, old + line.qty_ordered)
        value = _add(value_before.get(key, ZERO), line.qty_ordered, line.unit_price, line.discount)
        value_before[key] = value
    after: dict[tuple[int, Decimal], tuple[str, Decimal]] = {}
    value_after: dict[tuple[int, Decimal], Decimal | None] = {}
    for m in mapped:  # a variant can sit on two lines (a weight adjustment's split): their sum
        key = (m.line.seq_produto, Decimal(m.line.qtd_embalagem or 1))
        after[key] = (m.id_sku, after.get(key, ("", Decimal(0)))[1] + m.line.qty)
        was = value_after.get(key, ZERO)
        if served:  # as matches_served counts it
            value_after[key] = None if was is None else was + m.net
        else:
            value_after[key] = _add(was, m.line.qty, m.line.unit_price, m.line.discount)
    rounding = CENT if served else ZERO
    changes: list[LineChange] = []
    for key in list(before) + [k for k in after if k not in before]:
        sku, old = before.get(key, (after.get(key, ("", Decimal(0)))[0], Decimal(0)))
        new = after.get(key, (sku, Decimal(0)))[1]
        if old == new:
            was, now = value_before.get(key), value_after.get(key)
            # a weighed line's adjustment rounded up a cent a unit when Shopify could not split it
            allowed = CENT * max(new, 1) if key in weighed else rounding
            if old and was is not None and now is not None and abs(was - now) > allowed:
                changes.append(LineChange("price", sku, old, new, cents(was), cents(now)))
            continue
        kind = "added" if old == 0 else "removed" if new == 0 else "qty"
        changes.append(LineChange(kind, sku, old, new))
    return changes


def picked(line: ErpLine) -> tuple[Decimal, Decimal]:
    """A line as the ERP separated it and Shopify shows it once the picking is applied there: its
    quantity (qty_served, qty_ordered before separation) and value (total_served, else the served
    share of the line's value). A weighed line keeps its ordered units in Shopify (a weight is a
    discount there) unless cut to zero; a weighed substitute goes in as its kilograms rounded up, and
    so does a part of a unit served (1,5 boxes: 2 in Shopify, the half off by a discount)."""
    qty = line.qty_served if line.qty_served is not None else line.qty_ordered
    value = line.total_served
    if value is None:
        share = qty / line.qty_ordered if line.qty_ordered else Decimal(0)
        value = qty * line.unit_price - line.discount * share
    if line.weighed and line.qty_served:
        qty = line.qty_ordered or line.qty_served.to_integral_value(ROUND_CEILING)
    return qty.to_integral_value(ROUND_CEILING), value


def nothing_served(current: ErpOrder) -> bool:
    """The ERP separated the order and cut every line to zero (no substitute either)."""
    return bool(current.lines) and all(line.qty_served == 0 for line in current.lines)


def _add(
    total: Decimal | None, qty: Decimal, unit_price: Decimal | None, discount: Decimal
) -> Decimal | None:
    """A line's money as the ERP totals it (quantity x unit price - discount, to the cent) added to
    `total`; None when a price is not given (the ERP's own table price: nothing to compare)."""
    if total is None or unit_price is None:
        return None
    return total + (qty * unit_price - discount).quantize(CENT)


def matches_served(current: ErpOrder, mapped: list[order_map.MappedLine]) -> bool:
    """Shopify's lines equal what the ERP separated, in quantities and in money: an echo of an
    ERP edit. Quantities as Shopify shows the picking (`picked`): a weighed line by its ordered
    units (0 when cut), so the meat removed or raised in Shopify after separation is not an echo;
    its money as Shopify shows the weighing (`weighed_shown`), within a cent a unit (an adjustment
    Shopify could not split is rounded up per unit); a weighed substitute's is not compared (its
    price is Shopify's). A discount or a price changed in Shopify after separation keeps the
    quantities but not the money: not an echo, flagged for a person. Each line's value may differ
    by a cent of rounding (Shopify and the ERP each prorate a cut line's discount). A unit
    substitute may show less than the ERP's charge (Shopify's lower price, as the picking adds it,
    with no discount), never more."""
    served: dict[tuple[int, Decimal], Decimal] = {}
    served_value: dict[tuple[int, Decimal], Decimal] = {}
    weighed: set[tuple[int, Decimal]] = set()
    uncompared: set[tuple[int, Decimal]] = set()
    substitutes: set[tuple[int, Decimal]] = set()  # a unit substitute: Shopify's price when lower
    for line in current.lines:
        key = (line.seq_produto, Decimal(line.qtd_embalagem))
        qty, value = picked(line)
        served[key] = served.get(key, Decimal(0)) + qty
        if line.is_substitute and not line.weighed:
            substitutes.add(key)
        if line.weighed:
            weighed.add(key)
            shown = weighed_shown(line)
            if shown is None:
                uncompared.add(key)
            else:
                value = shown
        served_value[key] = served_value.get(key, ZERO) + value
    wanted: dict[tuple[int, Decimal], Decimal] = {}
    wanted_value: dict[tuple[int, Decimal], Decimal] = {}
    discounted: set[tuple[int, Decimal]] = set()  # a line of it carries a discount in Shopify
    for m in mapped:
        key = (m.line.seq_produto, Decimal(m.line.qtd_embalagem or 1))
        wanted[key] = wanted.get(key, Decimal(0)) + m.line.qty
        wanted_value[key] = wanted_value.get(key, ZERO) + m.net
        if m.line.discount > 0:
            discounted.add(key)
    keys = set(served) | set(wanted)
    if not all(served.get(k, Decimal(0)) == wanted.get(k, Decimal(0)) for k in keys):
        return False
    priced = keys - weighed

    def off(k: tuple[int, Decimal]) -> Decimal:
        # A unit substitute goes in at Shopify's price when it is below the ERP's charge, with no
        # discount (jobs.order_edits.to_shopify): lower in Shopify is the picking's own echo, but not
        # with a discount on it (the app's own takes it down to the ERP's charge, not below: a
        # person's courtesy discount after picking, which the ERP must hear of).
        gap = wanted_value.get(k, ZERO) - served_value.get(k, ZERO)
        return max(gap, ZERO) if k in substitutes and k not in discounted else abs(gap)

    money = sum((off(k) for k in priced), ZERO)
    if money > CENT * max(len(priced), 1):
        return False
    return all(
        abs(served_value.get(k, ZERO) - wanted_value.get(k, ZERO)) <= CENT * max(wanted.get(k, ZERO), 1)
        for k in weighed - uncompared
    )


def weighed_shown(line: ErpLine) -> Decimal | None:
    """What Shopify shows of a weighed ERP line once its picking is applied there
    (jobs.order_edits.to_shopify): the lower of its ordered value and its weighed one (picked lighter,
    a weight adjustment takes the difference off; heavier, the customer is not charged above what
    was authorised). None for a substitute (Shopify's price for its units) or a line the ERP gives
    no price (not compared)."""
    if line.is_substitute or line.unit_price is None:
        return None
    _qty, weighed = picked(line)
    return min((line.qty_ordered * line.unit_price - line.discount).quantize(CENT), weighed)


def _too_late(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    changes: list[LineChange],
    situacao: str,
    name: str,
    freight: tuple[Decimal, Decimal] | None = None,
    *,
    client: Any = None,
) -> str:
    """The ERP no longer takes the edit. Cancelled there (its C event not applied yet): skipped,
    nothing for a person to pick or undo, and the ERP's cancellation reaches Shopify by its event.
    Separated or invoiced: flagged for a person. `freight`: the ERP's and Shopify's, when they differ.
    `client` (Shopify's) reads an invoiced order's refund: whether its items came back (`refund_kept`)."""
    if situacao == "C":
        held.settle_cancelled(session, link, but=message.id)
        trace.skip(session, message, f"ERP order {link.nro_pedvenda} is cancelled in the ERP: nothing to "
                   "edit (its cancellation reaches Shopify with the ERP's events)",
                   words=("edit_erp_cancelled_events", {"nro": link.nro_pedvenda}))  # fmt: skip
        return "skipped"
    kept = client is not None and refund_kept(client, edit_id, situacao)
    return _flag(session, link, message, edit_id, changes, situacao, name, freight, kept=kept)


def _flag(
    session: Session,
    link: OrderLink,
    message: Message,
    edit_id: str,
    changes: list[LineChange],
    situacao: str,
    name: str,
    freight: tuple[Decimal, Decimal] | None = None,
    *,
    kept: bool = False,
) -> str:
    code, state = TOO_LATE.get(situacao, ("PEDIDO_EM_SEPARACAO", f"is in state {situacao}"))
    summary, summed = summarise(changes, freight)
    # This flag names every line against what the ERP served, so the changes of the flags it closes
    # too: a refund's among them cannot be undone in Shopify (advised so, a person undoing the edit
    # was told again to undo the refunded line's, for ever).
    refunded_too = not is_refund(edit_id) and _refund_flagged(session, link, message)
    refund = is_refund(edit_id) or refunded_too
    changed, changed_key = (
        ("edited and refunded", "changed_edited_refunded")
        if refunded_too
        else _changed(refund, bool(changes))
    )
    lines = changes or not freight
    advice = what_to_do(refund, situacao, kept=kept) if lines else freight_to_do(refund, situacao)
    advice_key = _todo_key(refund, situacao, freight=not lines, kept=kept and bool(lines))
    if changes and freight:
        advice += " The freight must match as well."
    explanation = (
        f"Order {name} was {changed} in Shopify ({summary}), but ERP order {link.nro_pedvenda} {state}, so "
        f"the change was NOT applied in the ERP. {advice}"
    )
    state_words = (STATE_WORDS.get(situacao, "state_other"), {"situacao": situacao})
    advised = [(advice_key, {}), *([("freight_too", {})] if changes and freight else [])]
    words = (
        "edit_not_applied",
        {
            "name": name,
            "changed": (changed_key, {}),
            "summary": summed,
            "nro": link.nro_pedvenda,
            "state": state_words,
            "advice": order_notes.joined(advised, "none"),
        },
    )
    twin = flagged_already(session, link, message, explanation)
    if twin is not None:
        trace.skip(session, message, f"the same change is flagged already, by {twin.unit_key} (message "
                   f"#{twin.id}): nothing new to tell",
                   words=("edit_flagged_already", {"id": twin.id}))  # fmt: skip
        return "skipped"
    _note(link, explanation, words)
    held.supersede(session, link, message, sent=False)  # this flag names their changes too
    _supersede_flags(session, link, message)
    record_changes(session, link, edit_id, changes, applied=False, reason=explanation)
    log.warning(
        "order_edits: edit %s of %s flagged: ERP order %s %s", edit_id, name, link.nro_pedvenda, state
    )
    return trace.fail(
        session,
        message,
        Rejected(explanation, system="consinco", code=code,
                 detail={"nro_pedvenda": link.nro_pedvenda, **({"refunded": True} if refund else {})}),
    ).value  # fmt: skip


def _refund_flagged(session: Session, link: OrderLink, message: Message) -> bool:
    """Whether an open flag of the order (which this one closes) names a refund's change: a refund's
    own, or one naming a refund's in turn (`refunded` in its detail)."""
    return any(
        flag.unit_key.startswith(unit_key("refund-")) or (flag.error_detail or {}).get("refunded")
        for flag in _open_flags(session, link, message)
    )


def summarise(changes: list[LineChange], freight: tuple[Decimal, Decimal] | None) -> tuple[str, Any]:
    """The changes (and the freight's, ERP's -> Shopify's) as a note names them, with their words."""
    told, parts = [c.describe() for c in changes], [c.words() for c in changes]
    if freight:
        told.append(f"freight {brl(freight[0])} -> {brl(freight[1])}")
        parts.append(("freight_changed", {"was": brl(freight[0]), "now": brl(freight[1])}))
    summed = order_notes.joined(parts, "semicolon") if parts else ("no_line_change", {})
    return "; ".join(told) or "no line change", summed


def _changed(refund: bool, lines: bool) -> tuple[str, str]:
    """How the order changed in Shopify (an edit; a refund, with `lines` taken back or not), and its
    words' key."""
    if not refund:
        return "edited", "changed_edited"
    if lines:
        return "refunded (items taken back)", "changed_refunded_items"
    return "refunded", "changed_refunded"


def _open_flags(session: Session, link: OrderLink, message: Message) -> list[Message]:
    """The order's flags still open but `message` (edits or refunds the ERP no longer took)."""
    return [
        m for m in _failed_edits(session, link, message) if (m.error_detail or {}).get("code") in FLAG_CODES
    ]


def _supersede_flags(session: Session, link: OrderLink, message: Message) -> None:
    """The order's earlier flags (edits or refunds the ERP no longer took) are closed: this flag
    names every line as Shopify holds it now against what the ERP served, theirs included. Each
    left open named its own running total ("3 -> 2", then "3 -> 1"), and a person working the
    queue one message at a time issued return invoices for 1 + 2 units when 2 were refunded."""
    for flag in _open_flags(session, link, message):
        trace.skip(session, flag, f"superseded by message #{message.id}, which names the order's lines as "
                   "Shopify holds them now against what the ERP served, this one's change included",
                   words=("edit_flag_superseded", {"id": message.id}))  # fmt: skip


def _settle_flags(session: Session, link: OrderLink, message: Message) -> None:
    """Shopify matches the ERP order as picked again (the edit undone as its flag said, or the ERP's
    picking reaching Shopify): the order's open flags are closed with its note, nothing left for a
    person. Left failed, each still held its edit's added units out of stock (jobs.stock_pending)."""
    for flag in _open_flags(session, link, message):
        trace.skip(session, flag, f"settled: Shopify matches ERP order {link.nro_pedvenda} as picked again "
                   f"(message #{message.id})",
                   words=("edit_flag_settled", {"nro": link.nro_pedvenda, "id": message.id}))  # fmt: skip


EMPTY_CODES = ("EDIT_LEFT_NO_ITEM", "ERP_CUT_EVERY_ITEM")  # an order left with no item (failed)


def _failed_edits(session: Session, link: OrderLink, message: Message | None) -> list[Message]:
    """The order's edits and refunds still failed (any reason: a flag, the ERP's refusal, one left
    with no item), but `message`; an address change's are its own flow's matter."""
    query = select(Message).where(
        Message.shop_id == link.shop_id,
        Message.flow == FLOW,
        Message.direction == SHOPIFY_TO_ERP,
        Message.shopify_id == link.shopify_order_id,
        Message.status == MessageStatus.FAILED.value,
        Message.unit_key.like(unit_key("%")),
    )
    if message is not None:
        query = query.where(Message.id != message.id)
    return list(session.scalars(query).all())


def _settle_matched(session: Session, link: OrderLink, message: Message) -> None:
    """The ERP order holds Shopify's lines as they are now (`message` applied them, or found them
    there: an edit undone, a later one carrying it): an earlier edit the ERP refused, or flagged, is
    settled, not left failed. Left open, each still held its added units out of Shopify's stock
    (jobs.stock_pending counts an open edit's units as sold and not yet in the ERP), and sat in the
    failed queue with its note cleared."""
    nro = link.nro_pedvenda
    for failed in _failed_edits(session, link, message):
        trace.skip(session, failed, f"settled: ERP order {nro} holds the order's lines as Shopify has them "
                   f"now (message #{message.id})",
                   words=("edit_matched_settled", {"nro": nro, "id": message.id}))  # fmt: skip


def _settle_left_empty(session: Session, link: OrderLink, message: Message) -> None:
    """A later change of the order applied (`message`): its earlier failures for an order left with
    no item are closed with the note they wrote (cleared with it), not left in the failed queue
    for a person to find the task done already."""
    earlier = session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id,
            Message.flow == FLOW,
            Message.shopify_id == link.shopify_order_id,
            Message.status == MessageStatus.FAILED.value,
            Message.error_detail["code"].as_string().in_(EMPTY_CODES),
            Message.id < message.id,
        )
    ).all()
    nro = link.nro_pedvenda
    for failed in earlier:
        said = f"settled: a later change (message #{message.id}) reached ERP order {nro} with items"
        trace.skip(session, failed, said, words=("edit_empty_settled", {"nro": nro, "id": message.id}))


def flagged_already(session: Session, link: OrderLink, message: Message, explanation: str) -> Message | None:
    """Another change of the order's failed with this very explanation and its note still stands:
    this webhook tells nothing new (the echo of the ERP's picking edit, which reached Shopify after
    a merchant's change that waited for it, shows the same lines as that change's retry). One
    failed message and one set of ledger rows per change; once the note is cleared (the edit undone,
    then made again) the change is flagged anew."""
    if " ".join((order_notes.note_of(link, FLOW) or "").split()) != " ".join(f"{NOTE}{explanation}".split()):
        return None
    return session.scalars(
        select(Message)
        .where(
            Message.shop_id == link.shop_id,
            Message.flow == FLOW,
            Message.direction == SHOPIFY_TO_ERP,
            Message.shopify_id == link.shopify_order_id,
            Message.status == MessageStatus.FAILED.value,
            Message.error_text == explanation,
            Message.id != message.id,
        )
        .order_by(Message.id)
        .limit(1)
    ).first()


def is_refund(edit_id: str) -> bool:
    """Whether the unit is a refund's (refunds/create: "refund-<id>"), not an order edit's."""
    return edit_id.startswith("refund-")


def refund_kept(client: Any, edit_id: str, situacao: str | None) -> bool:
    """Whether the change is an invoiced order's refund whose items stayed with the customer (none
    restocked nor returned in Shopify: RefundMoney.kept). Read only then: its words differ.

    Raises:
        Transient: Shopify unreachable (RQ retries).
    """
    if situacao != "F" or not is_refund(edit_id):
        return False
    refund = refund_money(client, edit_id.removeprefix(goodwill.PREFIX))
    return refund is not None and refund.kept


def _todo_key(refund: bool, situacao: str, *, freight: bool, kept: bool = False) -> str:
    """The words of `what_to_do` (or, `freight`, of `freight_to_do`) for the same case."""
    where = "invoiced" if situacao == "F" else "" if freight else "picking"
    told = ("todo", "freight" if freight else "", where, "refund" if refund else "edit", "kept" * kept)
    return "_".join(w for w in told if w)


def what_to_do(refund: bool, situacao: str, *, kept: bool = False) -> str:
    """What a person does once the ERP no longer takes a change. Separated (S): the picking is
    changed to match Shopify; an edit may be undone in Shopify instead, a refund cannot be reversed.
    Invoiced (F): the NF-e stands, so items taken back need a return invoice (nota de devolução)
    in the ERP, settled with the customer; there is no picking left to change. An invoiced order's
    refund whose items were neither restocked nor returned (`kept`): the goods likely stayed with the
    customer, so no return invoice unless they did come back; the money goes against its receivable."""
    if situacao == "F" and refund and kept:
        return KEPT_ADVICE
    if situacao == "F" and refund:
        return (
            "A refund cannot be reversed: a person must issue a return invoice (nota de devolução) in "
            "the ERP for the refunded items and settle their return with the customer."
        )
    if situacao == "F":
        return (
            "A person must either undo the edit in Shopify or settle the difference in the ERP (a "
            "return invoice, nota de devolução, for items taken off; a new order for items added) and "
            "with the customer."
        )
    if refund:
        return (
            "A refund cannot be reversed: a person must change the order in the ERP (picking) so it "
            "delivers only what is still paid for, so both sides charge and deliver the same."
        )
    return (
        "A person must either change the order in the ERP (picking) or undo the edit in Shopify, so "
        "both sides charge and deliver the same."
    )


def freight_to_do(refund: bool, situacao: str) -> str:
    """What a person does once the ERP no longer takes a change of the freight alone (a shipping
    line removed, or its price refunded). Invoiced (F): the NF-e stands with the freight it charged."""
    if situacao == "F" and refund:
        return (
            "A refund cannot be reversed: the NF-e stands, so a person must settle the freight difference "
            "in the ERP's receivables."
        )
    if situacao == "F":
        return (
            "A person must either undo the change in Shopify or settle the freight difference in the ERP's "
            "receivables and with the customer (the NF-e stands)."
        )
    if refund:
        return (
            "A refund cannot be reversed: a person must change the ERP order's freight to Shopify's before "
            "it is invoiced, so both sides charge the same."
        )
    return (
        "A person must either change the ERP order's freight or undo the change in Shopify, so both sides "
        "charge the same."
    )


def cut_every_item(name: str, nro: int, situacao: str | None) -> tuple[str, trace.Words]:
    """The note when the ERP cut every item at picking and Shopify, changed to match (the ERP ->
    Shopify picking edit), sends the edit back: no merchant edit to undo (undoing it would sell what
    the store does not have), a live order with nothing to deliver. The sale is off: cancel it.
    With its words."""
    nfe = " and, in the ERP, cancel its NF-e (within the legal deadline)" if situacao == "F" else ""
    words = ("edit_every_item_cut", {"nro": nro, "name": name, "nfe": ("and_cancel_nfe", {}) if nfe else ""})
    return (
        f"ERP order {nro} was picked with every item cut (nothing was separated), and order {name} was "
        "changed in Shopify to match: nothing is left to deliver. Cancel the order in Shopify, refunding "
        f"what the customer paid (the ERP order is cancelled with it){nfe}."
    ), words


def not_applied(name: str, nro: int, refund: bool, refusal: ErpRejected) -> tuple[str, trace.Words]:
    """The note of a change the ERP did not take, and that a retry alone does not change, saying
    why. The ERP refused the integration's login (ErpAuthError: the message fails flagged AUTH,
    retried once the ERP connection is saved again): `login_refused`. The ERP has no such order
    (404: deleted there, or the connection's address points at another ERP, which answers 404 for
    any order): `erp_order_not_found`, never "the ERP refused the edit". Else the ERP refused it for
    a reason of its own: `refused`, in its words."""
    if isinstance(refusal, ErpAuthError):
        return login_refused(name, nro, refund, refusal.mensagem)
    if refusal.status == 404:
        return erp_order_not_found(name, nro, refund, refusal.mensagem)
    return refused(name, nro, refund, refusal.mensagem)


def login_refused(name: str, nro: int, refund: bool, why: str) -> tuple[str, trace.Words]:
    """The note of a change not applied because the ERP refused the app's login (`not_applied`).
    With its words."""
    why = why.strip().rstrip(".") + "."
    if refund:
        words = ("edit_refund_login_refused", {"name": name, "nro": nro, "why": why})
        return (
            f"The ERP refused the app's login, so the change for the refund of order {name} was NOT applied "
            f"in ERP order {nro}: {why} Fix the ERP user and password under Setup (saving them retries this "
            "change), or change the ERP order by hand (a refund cannot be reversed)."
        ), words
    words = ("edit_login_refused", {"name": name, "nro": nro, "why": why})
    return (
        f"The ERP refused the app's login, so the edit of order {name} was NOT applied in ERP order {nro}: "
        f"{why} Fix the ERP user and password under Setup (saving them retries this edit), or undo the edit "
        "in Shopify."
    ), words


def erp_order_not_found(name: str, nro: int, refund: bool, why: str) -> tuple[str, trace.Words]:
    """The note of a change not applied because the ERP has no such order (`not_applied`). With
    its words."""
    why = why.strip().rstrip(".") + "."
    if refund:
        words = ("edit_refund_erp_order_not_found", {"name": name, "nro": nro, "why": why})
        return (
            f"The ERP answered it has no order {nro}, so the change for the refund of order {name} was NOT "
            f"applied in the ERP: {why} If it was deleted in the ERP, there is nothing left to change: mark "
            "this change handled. If the ERP should have it, check the ERP connection's address under "
            "Setup, then Retry this change."
        ), words
    words = ("edit_erp_order_not_found", {"name": name, "nro": nro, "why": why})
    return (
        f"The ERP answered it has no order {nro}, so the edit of order {name} was NOT applied in the ERP: "
        f"{why} If it was deleted in the ERP, there is nothing left to change: mark this edit handled. If "
        "the ERP should have it, check the ERP connection's address under Setup, then Retry this edit."
    ), words


def refused(name: str, nro: int, refund: bool, why: str) -> tuple[str, trace.Words]:
    """The note of a change the ERP refused for a reason of its own (not "too late"): a retry gets
    the same answer, so a person fixes the cause or, for an edit, undoes it. With its words (the
    ERP's `why` as it said it)."""
    why = why.strip().rstrip(".") + "."
    words = ("edit_refund_refused" if refund else "edit_refused", {"name": name, "nro": nro, "why": why})
    if refund:
        return (
            f"The ERP refused to change ERP order {nro} for the refund of order {name}: {why} The change was "
            "NOT applied in the ERP; fix the cause and Retry, or change the ERP order by hand (a refund "
            "cannot be reversed)."
        ), words
    return (
        f"The ERP refused the edit of order {name} (ERP order {nro}): {why} The edit was NOT applied in the "
        "ERP; fix the cause and Retry, or undo the edit in Shopify."
    ), words


KEPT_ADVICE = (
    "A refund cannot be reversed. Its items were neither restocked nor returned in Shopify: if the "
    "customer kept them (spoiled, damaged), no goods come back and no return invoice is due; a person "
    "must record the amount refunded against the ERP order's receivable. If they did come back, issue a "
    "return invoice (nota de devolução) in the ERP for them."
)


def left_no_item(
    name: str, nro: int, refund: bool, situacao: str | None, *, kept: bool = False
) -> tuple[str, trace.Words]:
    """The note of a change that leaves the Shopify order no item while the ERP order has its items
    (an ERP order cannot be emptied). Not invoiced: the sale is off, so the order is cancelled in
    Shopify (the ERP order with it); an edit may be undone instead. Invoiced: its NF-e stands, so
    the items need a return invoice (nota de devolução), or for an edit the NF-e cancelled. With
    its words. `kept`: an invoiced order's refund whose items stayed with the customer (`refund_kept`)."""
    invoiced = situacao == "F"
    key = f"{'refund_all' if refund else 'edit_no_item'}_{'invoiced' if invoiced else 'open'}"
    kept = kept and refund and invoiced
    return _no_item_text(name, nro, refund, invoiced, kept), (f"{key}_kept" if kept else key,
                                                                {"name": name, "nro": nro})  # fmt: skip


def _no_item_text(name: str, nro: int, refund: bool, invoiced: bool, kept: bool) -> str:
    if refund:
        what = f"Order {name} had every item refunded in Shopify, but ERP order {nro}"
        if kept:
            return (
                f"{what} is already invoiced (faturado): its NF-e cannot change, so nothing was changed in "
                f"the ERP. {KEPT_ADVICE}"
            )
        if invoiced:
            return (
                f"{what} is already invoiced (faturado): its NF-e cannot change, so nothing was "
                "changed in the ERP. A refund cannot be reversed: a person must issue a return invoice "
                "(nota de devolução) in the ERP for its items and settle their return with the customer."
            )
        return (
            f"{what} still has its items, so nothing was changed in the ERP. A refund cannot be "
            "reversed: cancel the order in Shopify (the ERP order is cancelled with it) so the ERP does "
            "not pick and invoice what was refunded."
        )
    what = f"Order {name} was edited in Shopify to leave no item, but ERP order {nro}"
    if invoiced:
        return (
            f"{what} is already invoiced (faturado), so nothing was changed in the ERP. If the sale is "
            "off, cancel the order in Shopify and, in the ERP, cancel its NF-e (within the legal "
            "deadline) or issue a return invoice (nota de devolução); otherwise undo the edit."
        )
    return (
        f"{what} still has its items, so nothing was changed in the ERP. If the sale is off, cancel the "
        "order in Shopify (the ERP order is cancelled with it); otherwise undo the edit."
    )


def not_in_erp(session: Session, shop_id: int, gid: str) -> tuple[str, trace.Words]:
    """Why a change of an order with no ERP number is skipped, and its words for the pages (which
    name the import's message, not its English reason). Its import, when it goes, maps
    Shopify's lines as they are then (and an order whose ERP answer was lost has its lines checked
    again once its number is learned: jobs.orders._recheck_lines), so the change is not lost. An
    order whose import was skipped (a test order, one placed before the install, one cancelled
    before it reached the ERP: jobs.orders.not_for_erp) is not waiting for anything: it says so."""
    imported = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id, Message.flow == ORDERS_FLOW, Message.unit_key == order_unit_key(gid)
        )
    ).one_or_none()
    if imported is not None and imported.status == MessageStatus.SKIPPED.value:
        sent = not (imported.error_detail or {}).get("not_for_erp")
        never = "not in the ERP" if sent else "never sent to the ERP"
        words = ("edit_import_skipped" if sent else "edit_never_sent", {"id": imported.id})
        return (
            f"order {never}, so nothing to change there (its import was skipped: {imported.error_text})",
            words,
        )
    why = "order not in the ERP yet: its import, when it goes, sends Shopify's lines as they are then"
    return why, ("edit_not_in_erp_yet", {})


def _note(link: OrderLink, explanation: str, words: trace.Words) -> None:
    """Flag the order link for a person: this flow's note, beside any other flow's
    (`ledger.order_notes`): a cancellation's (an NF-e to cancel, goods that may have left) stays,
    and an invoice's capture warning written after does not hide this one. `words`: the note in the
    merchant's words."""
    order_notes.put(link, FLOW, f"{NOTE}{explanation}", words=words)
    link.updated_at = utcnow()


def clear_note(link: OrderLink) -> None:
    """Clear this flow's note on the order link: Shopify and the ERP agree again (or the order is
    cancelled in both). Another flow's note, or the ERP's picking edit that failed, is not this
    one's to clear."""
    order_notes.clear(link, FLOW, starting=NOTE)


def settle_cancelled(session: Session, link: OrderLink) -> None:
    """The order is cancelled (in Shopify or in the ERP): an edit flagged earlier no longer matters
    (this flow's note goes), one held back no longer goes to the ERP (its message ends skipped), and
    a goodwill amount noted for the ERP's receivable goes with the sale (its cancellation settles
    the money: jobs.order_edits.goodwill). An edit left failed (flagged, refused by the ERP, left
    with no item) is settled too: what it asked of a person no longer applies."""
    clear_note(link)
    order_notes.clear(link, FLOW, topic=goodwill.NOTE_TOPIC)
    held.settle_cancelled(session, link)
    nro = link.nro_pedvenda
    for failed in _failed_edits(session, link, None):  # its task (undo, cancel, fix the picking) is moot
        trace.skip(session, failed, f"settled: the order is cancelled (ERP order {nro})",
                   words=("edit_cancelled_settled", {"nro": nro}))  # fmt: skip


def record_lost_answer(
    session: Session, link: OrderLink, edit_id: str, earlier: dict[str, Any] | None, lines: list[Any]
) -> int:
    """The ERP already has Shopify's lines. When this edit's earlier attempt sent it exactly these
    lines, the ERP took that PUT and its answer was lost (a timeout): the line changes it sent are
    recorded as applied, as that answer would have (those already recorded applied are left).
    Returns how many were recorded."""
    if not earlier or earlier.get("nro_pedvenda") != link.nro_pedvenda or earlier.get("lines") != lines:
        return 0
    if _applied_by_another(session, link, edit_id, lines):
        return 0
    recorded = set(
        session.scalars(
            select(OrderLineChange.change_key).where(
                OrderLineChange.order_link_id == link.id, OrderLineChange.applied.is_(True)
            )
        )
    )
    sent = [
        LineChange(c["kind"], c["sku"], Decimal(c["before"]), Decimal(c["after"]))
        for c in earlier.get("changes") or []
    ]
    changes = [c for c in sent if change_key(edit_id, c.sku) not in recorded]
    reason = f"Shopify order edit {edit_id} (the ERP took it; its answer was lost)"
    record_changes(
        session, link, edit_id, changes, applied=True, **said(reason, ("line_edit_lost", {"edit": edit_id}))
    )
    return len(changes)


def _applied_by_another(session: Session, link: OrderLink, edit_id: str, lines: list[Any]) -> bool:
    """Whether another edit of the order put these very lines in the ERP and had its answer (done,
    sending them): then the ERP holding them says nothing of this edit's earlier attempt, which may
    have been refused (a 503) and taken nothing; its changes are that edit's, recorded by it."""
    others = session.scalars(
        select(Message.request_payload).where(
            Message.shop_id == link.shop_id,
            Message.flow == FLOW,
            Message.direction == SHOPIFY_TO_ERP,
            Message.shopify_id == link.shopify_order_id,
            Message.unit_key != unit_key(edit_id),
            Message.status == MessageStatus.DONE.value,
        )
    )
    return any(
        isinstance(payload, dict)
        and payload.get("nro_pedvenda") == link.nro_pedvenda
        and payload.get("lines") == lines
        and payload.get("changes")
        for payload in others
    )


def change_key(edit_id: str, sku: str) -> str:
    return f"edit:{edit_id}:{sku}"[:120]


def record_changes(
    session: Session,
    link: OrderLink,
    edit_id: str,
    changes: list[LineChange],
    *,
    applied: bool,
    reason: str,
    words: Said | None = None,
) -> None:
    """One OrderLineChange per changed line; a replay of the same edit changes nothing (UNIQUE key).
    Changes naming one SKU are one row (`merged`): PostgreSQL refuses an INSERT ... ON CONFLICT DO
    UPDATE that touches a key twice. `words`: the reason in the merchant's words (ledger.words.said)."""
    changes = merged(changes)
    if not changes:
        return
    reason_words = stored_for(reason, words)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {
            "order_link_id": link.id,
            "change_key": change_key(edit_id, change.sku),
            "direction": SHOPIFY_TO_ERP,
            "kind": change.kind,
            "sku": change.sku,
            "qty_before": change.before,
            "qty_after": change.after,
            "reason": reason,
            "reason_words": reason_words,
            "applied": applied,
            "created_at": utcnow(),
        }
        for change in changes
    ]
    stmt = dialect.insert(OrderLineChange).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["order_link_id", "change_key"],
        set_={
            "applied": stmt.excluded.applied,
            "reason": stmt.excluded.reason,
            "reason_words": stmt.excluded.reason_words,
        },
    )
    session.execute(stmt)

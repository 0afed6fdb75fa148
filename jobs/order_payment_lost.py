"""An order already in the ERP that Shopify now says will not be paid (flow `orders`; its note
"orders (payment): ..." on the order link, a topic of the flow's own: ledger.order_notes).

Why: with payment_confirmation "authorized" a card order goes to the ERP on its authorisation and is
captured at invoicing (jobs.invoice_capture). A person may void that authorisation in Shopify admin
afterwards (the customer gave up, a fraud review), it may lapse before the picking (an order
scheduled for next week), or everything paid may be refunded: Shopify says VOIDED, EXPIRED or
REFUNDED (order_map.WILL_NOT_BE_PAID) and sends orders/updated, but the ERP order stays open, and the
ERP would separate, invoice and deliver goods nobody pays for. Nothing else tells the e-commerce
team in time: the import settles every later delivery of a sent order as "already", and the
invoice's capture finds nothing to take only once the goods are on their way. So the order link gets
a note saying why it will not be paid and what to do (cancel it, in the ERP or in Shopify, or collect
the payment another way), and its shopify_status says what Shopify says.

Cheap: jobs.orders.on_webhook reads, in the one SELECT it makes for every delivery of a sent order,
the link's state here (`PaymentState`: whether it holds this note, whether its ERP order is done
with). `wanted` decides from that and the orders/updated's own financial_status and cancelled_at
whether to look at all: an ordinary update (tags, a fulfillment, a capture) costs nothing more. A
look takes the order's lock and, unless the ERP order is done with, reads the order's payment status
from Shopify (OrderPaymentStatus, one point: webhooks are not ordered, so an older delivery's status
is not taken):
- will not be paid, not cancelled, its ERP order still open: the link's shopify_status is Shopify's
  and the note is put (replacing this topic's earlier one);
- paid again (a new authorisation, a payment: Shopify says so), or cancelled (the cancellation
  flow cancels the ERP order and says what it could not): the status is refreshed and the note
  cleared;
- the ERP order done with (invoiced: the invoice's own note names what was not charged and why,
  jobs.invoice_capture; cancelled in the ERP or in Shopify): the note is cleared, no Shopify read.
A partly paid order (PARTIALLY_PAID, PARTIALLY_REFUNDED: a gift card beside a card authorisation)
keeps its status when the authorisation is voided or lapses: an orders/updated saying so is looked at
too, and the look reads the order's transactions (OrderForErp) for what is neither paid nor covered
by an open authorisation, less what a manual method collects at the door (`_short`): such an amount
is noted as the loss (`payment_lost_partly`). Those orders are few; their every update costs the read.
The note goes by the order's own state: a later orders/updated (the invoice's fulfillment, the
cancellation, a new payment) clears it.

Its message (flow `orders`, unit "payment:<order's numeric id>", beside the import's "order:<id>"):
nothing is sent anywhere, but a person who dealt with the loss outside the app (cancelled the ERP
order, asked the customer to pay again) closes the note as every other order note is closed: from
its message, with Mark as handled (`ledger.handled`: operators and above, a note, audited; the
note's slot is the message's topic, ledger.order_notes.TOPICS). So the note comes with the message
failed (PAYMENT_LOST, in the note's words), which a Retry looks at again (`replay`), and the message
is closed (skipped, saying why) when the note goes by the order's state. Closed as handled, it holds
while the payment stays lost: no note again, no Shopify read (`PaymentState.handled`, read with the
link). A payment found again ends it (the message begun again and closed as settled: the person's
closing is in its audit record), so a later loss is told again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jobs import order_clients, order_map
from jobs import order_note_messages as note_messages
from jobs.order_lookup import find_link
from jobs.orders import FLOW, order_lock
from ledger import handled, order_notes, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import OrderLink, Shop
from shopify_app.admin_api.order_import_ops import read_order_for_erp, read_payment_status

log = logging.getLogger(__name__)

TOPIC = "payment"  # its note: "orders (payment): ..."
PREFIX = "payment"  # its message's unit key: "payment:<order's numeric id>" (order_notes.TOPICS)
# Statuses under which part of the order may be paid by an authorisation (a gift card beside a card):
# its void or lapse leaves the status as it was, so only the order's transactions tell (`_short`).
PARTIAL = frozenset({"PARTIALLY_PAID", "PARTIALLY_REFUNDED"})
REASONS = {
    "VOIDED": ("its card authorisation was voided in Shopify", "payment_lost_voided"),
    "EXPIRED": ("its card authorisation expired uncaptured", "payment_lost_expired"),
    "REFUNDED": ("everything paid for it was refunded in Shopify", "payment_lost_refunded"),
}


@dataclass(frozen=True)
class PaymentState:
    """What the order link says here, read with the link (jobs.orders._shop_and_sent)."""

    noted: bool  # it holds this topic's note
    done_with: bool  # its ERP order is invoiced or cancelled, or the order is cancelled
    handled: bool = False  # its message was closed as handled by a person (the loss dealt with)

    @classmethod
    def of(cls, link: OrderLink) -> PaymentState:
        return cls.read(link.needs_attention, link.nfe_key, link.erp_status, link.cancelled_at)

    @classmethod
    def read(
        cls,
        notes: str | None,
        nfe_key: str | None,
        erp_status: str | None,
        cancelled_at: Any,
        handled: bool | None = False,
    ) -> PaymentState:
        """From the link's columns (needs_attention, nfe_key, erp_status, cancelled_at) and whether its
        message is closed as handled."""
        noted = any(n.slot == (FLOW, None, 0, TOPIC) for n in order_notes.parse(notes))
        return cls(noted, note_messages.done_with(nfe_key, erp_status, cancelled_at), bool(handled))


def will_not_be_paid(status: str | None, cancelled_at: Any) -> bool:
    """Shopify's financial status is one nothing will pay as it stands, and the order is not cancelled
    (a cancellation is told by the cancellations flow)."""
    return (status or "").upper() in order_map.WILL_NOT_BE_PAID and not cancelled_at


def unpaid(payload: dict[str, Any]) -> bool:
    """The orders/updated's own body says the order will not be paid (not cancelled)."""
    return will_not_be_paid(payload.get("financial_status"), payload.get("cancelled_at"))


def partly_paid(payload: dict[str, Any]) -> bool:
    """The orders/updated's own body says the order is partly paid (not cancelled): an authorisation
    beside what was paid may be gone, which only its transactions tell."""
    return (payload.get("financial_status") or "").upper() in PARTIAL and not payload.get("cancelled_at")


def unit_key(order_id: str | int) -> str:
    return f"{PREFIX}:{order_map.numeric_id(order_id)}"


def wanted(payload: dict[str, Any], state: PaymentState | None) -> bool:
    """Whether an orders/updated of an order in the ERP is worth a look: its payload says it will not
    be paid and the link holds no note yet (its ERP order still open), or the link holds one and the
    payload says otherwise, or its ERP order is done with. A loss a person closed as handled is
    looked at once the payload says it is paid again (its ERP order still open). Anything else costs
    nothing."""
    if state is None:
        return False
    if state.noted:
        return state.done_with or not unpaid(payload)
    if state.handled:
        return not state.done_with and not unpaid(payload)
    return (unpaid(payload) or partly_paid(payload)) and not state.done_with


def on_updated(shop_id: int, order_id: str | int, payload: dict[str, Any], state: PaymentState | None) -> str:
    """An orders/updated of an order in the ERP (`state`: its link's, read with it): `look` when
    `wanted`. Returns flagged | cleared | already | skipped."""
    if not wanted(payload, state):
        return "already"
    return look(shop_id, order_id)


def look(shop_id: int, order_id: str | int) -> str:
    """Put, or clear, the note as the order stands now (module docstring).

    Raises:
        Transient: Shopify or Redis unreachable, or the order locked (RQ retries the delivery).
    """
    return note_messages.looked(_look, shop_id, order_id)


def replay(message_id: int) -> str:
    """Retry of the payment's message (jobs.orders.replay hands it here): look again."""
    return note_messages.replayed(_look, message_id)


def _look(shop_id: int, num: str) -> str:
    gid = order_map.order_gid(num)
    with order_lock(shop_id, gid, kept=True), session_scope() as session:  # no message yet: kept open
        link = find_link(session, shop_id, gid)
        if link is None or link.nro_pedvenda is None:
            return "skipped"  # not in the ERP: the import decides (it skips an order that will not be paid)
        message = note_messages.find(session, shop_id, unit_key(num))
        if PaymentState.of(link).done_with:
            nro = link.nro_pedvenda
            done = f"ERP order {nro} is invoiced or cancelled: nothing left to stop"
            note_messages.settle(session, message, ("payment_lost_done_with", {"nro": nro}), done)
            return "cleared" if order_notes.clear(link, FLOW, topic=TOPIC) else "already"
        shop = session.get(Shop, shop_id)
        assert shop is not None
        now = read_payment_status(order_clients.admin_client(shop.domain), gid)
        if now is None:
            return "skipped"  # deleted in Shopify: nothing to say of its payment
        link.shopify_status = now.financial_status or link.shopify_status
        short = _short(shop.domain, gid, now)
        if not will_not_be_paid(now.financial_status, now.cancelled_at) and not short:
            paid = (now.financial_status or "").upper()
            back = f"Shopify shows the payment as {paid} now: the payment is no longer lost"
            note_messages.settle(session, message, ("payment_back", {"status": paid}), back, closed_too=True)
            return "cleared" if order_notes.clear(link, FLOW, topic=TOPIC) else "already"
        if message is not None and handled.info(message) is not None:
            return "handled"  # a person dealt with this loss outside the app: not told again
        status = (now.financial_status or "").upper()
        why, why_key = REASONS.get(status, (f"Shopify says {status}", "payment_lost_status"))
        if short:
            why, why_key = (f"{short} of its total is neither paid nor covered by an open card authorisation "
                            f"in Shopify (one was voided or lapsed; Shopify says {status})",
                            "payment_lost_partly")  # fmt: skip
        name, nro = link.shopify_order_name or gid, link.nro_pedvenda
        text = (
            f"Order {name} will not be paid as it stands: {why}. ERP order {nro} is still open, so the ERP "
            "would separate, invoice and deliver it unpaid: cancel it in the ERP (or cancel the order in "
            "Shopify), or collect the payment another way; a new payment or authorisation in Shopify "
            "clears this."
        )
        params = {"status": status, "amount": order_notes.money(short)} if short else {"status": status}
        reason = (why_key, params if why_key in ("payment_lost_status", "payment_lost_partly") else {})
        words = ("payment_lost_in_erp", {"name": name, "nro": nro, "why": reason})
        order_notes.put(link, FLOW, text, topic=TOPIC, words=words)
        # its message, failed with the note's words: what Mark as handled closes (ledger.handled)
        message = note_messages.begin(session, shop_id, unit_key(num), gid, num, name, nro)
        trace.fail(session, message, Rejected(text, system="app", code="PAYMENT_LOST",
                                              detail={"financial_status": status}, words=words))  # fmt: skip
        log.warning("orders: %s in ERP order %s will not be paid (Shopify says %s): noted for a person",
                    name, nro, status, extra={"shop_id": shop_id, "flow": FLOW, "order": num})  # fmt: skip
        return "flagged"


def _short(domain: str, gid: str, now: Any) -> Decimal:
    """What a partly paid order (PARTIAL) is short of its total with what was paid and the open
    authorisations (order_map.unpaid_balance), less what waits to be collected at the door (a manual
    method's pending sale), when an authorisation of it took nothing in the end (voided, lapsed); 0
    for any other status, a balance an edit added with no authorisation gone (the edit flow waits for
    its payment), or an order Shopify no longer has."""
    if (now.financial_status or "").upper() not in PARTIAL or now.cancelled_at:
        return Decimal(0)
    read = read_order_for_erp(order_clients.admin_client(domain), gid)
    if read is None:
        return Decimal(0)
    order = read.order
    if not any(order_map.took_nothing(t, order.transactions) for t in order.transactions):
        # a balance an edit added (the edit flow waits for it), not a payment lost
        return Decimal(0)
    at_door = sum(
        (t.amount.amount for t in order.transactions
         if t.kind == "SALE" and t.manual and (t.status or "").upper() == "PENDING" and t.amount),
        Decimal(0),
    )  # fmt: skip
    return max(Decimal(0), order_map.unpaid_balance(order) - at_door)

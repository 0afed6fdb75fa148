"""Order edits held back from the ERP while its order is still editable (jobs.order_edits.to_erp).

An edit that puts on the order a line the ERP cannot sell is not applied at all: the ERP order keeps
its earlier lines, so the edit's other changes (a quantity raised) wait with it, and the ERP would
pick and invoice the old quantities. Two cases, by whether a binding can still come:

- an ERP idSku (P{seq}E{qtd}) the catalog sync has not bound yet: the edit parks on that SKU
  (MappingMissing "variant") and resumes once it is bound (the orders catch-up);
- a product made in Shopify (a bag, gift wrap: no ERP idSku) or a custom item (no SKU): no binding
  will ever come, so nothing would resume a park. The edit fails (NOT_ERP_PRODUCT) for a person,
  who replaces or removes the line by another order edit, which carries the change to the ERP.

An edit whose lines would leave the ERP order totalling other than what Shopify charges (the
import's check, jobs.order_map.check_total: a tax added on top of the prices, a fee, a duty) is not
applied either: sent, the ERP would invoice and charge another amount than the customer's. It fails
for a person (TAXES_ADDED / TOTALS_MISMATCH, the import's codes: `TOTAL_DIFFERS`), who settles the
difference by hand in the ERP order and marks it handled, or undoes the change in Shopify.

Held any of these ways, the order link is flagged (the edit flow's note, `to_erp.NOTE`) while the
edit is held, so the Orders page shows the order needs attention. A held edit never stays open for ever:

- a later change of the order supersedes it (each reads the order's current lines, so the later
  one carries this one's changes): applied, or skipped as the ERP already has them, it closes the
  held ones (`supersede`, sent); held or flagged itself, it takes their place (one open message
  per order, the latest);
- the order cancelled, in Shopify or in the ERP: nothing of it goes to the ERP (`settle_cancelled`);
- the ERP starts picking (its S or F event read by jobs.order_events): the held edit is replayed
  (`to_replay`) and ends flagged as too late like any change made after picking.

An edit that raises the total of an order not paid for it (a Pix order of R$ 97,16 edited to
R$ 213,05: Shopify shows the rest owed) is held too, as the import holds an unpaid order
(jobs.order_map.is_ready): sent, the ERP would book the whole new total as paid by the forms that
took part of it, and pick and invoice goods no money is behind. Its message waits for the payment
(pending, error_detail {"waiting": "payment", ...}, as the import's) and the link is noted
(`unpaid_note`); the order's payment (orders/paid, orders/updated: `waiting_payment`) or the orders
catch-up, which re-reads what waits for its payment, replays it.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from jobs.order_map import TAXES_ADDED, TOTALS_MISMATCH
from ledger import flows, queues, trace
from ledger.db import read_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLink

log = logging.getLogger(__name__)

FLOW = "order_edits"
# Shopify's financial_status (a webhook's REST body) once an order may be paid enough to send
PAID = frozenset({"paid", "authorized", "partially_refunded"})
NOT_ERP_PRODUCT = "EDIT_NOT_ERP_PRODUCT"  # the failure's code: a line the ERP can never sell
# the failures' codes of an edit the ERP order would total other than Shopify's charge (the import's)
TOTAL_DIFFERS = (TAXES_ADDED, TOTALS_MISMATCH)
PAYMENT = "payment"  # error_detail "waiting" of an edit held for its payment (as an order waiting for it)
WAITING = Message.error_detail["waiting"].as_string()


def held(session: Session, link: OrderLink, *, but: int | None = None) -> list[Message]:
    """The order's edits held back (parked, failed as NOT_ERP_PRODUCT or for a total the ERP order
    would not match, TOTAL_DIFFERS, or waiting for the payment of the total they raise), oldest
    first; `but`: leave out that message (the one running). An edit of an order is unit "edit:<id>"
    (a refund's "edit:refund-<id>"), never a delivery address's."""
    code = Message.error_detail["code"].as_string()
    stmt = select(Message).where(
        Message.shop_id == link.shop_id,
        Message.flow == FLOW,
        Message.direction == SHOPIFY_TO_ERP,
        Message.shopify_id == link.shopify_order_id,
        Message.unit_key.like("edit:%"),
        or_(
            Message.status == MessageStatus.PARKED.value,
            and_(Message.status == MessageStatus.FAILED.value, code.in_((NOT_ERP_PRODUCT, *TOTAL_DIFFERS))),
            and_(Message.status == MessageStatus.PENDING.value, WAITING == PAYMENT),
        ),
    )
    if but is not None:
        stmt = stmt.where(Message.id != but)
    return list(session.scalars(stmt.order_by(Message.id)))


def close(
    session: Session, link: OrderLink, reason: str, words: trace.Words, *, but: int | None = None
) -> int:
    """Close the order's held edits as skipped with `reason` (and its `words`); how many."""
    found = held(session, link, but=but)
    for message in found:
        trace.skip(session, message, reason, words=words)
    return len(found)


def supersede(session: Session, link: OrderLink, message: Message, *, sent: bool) -> int:
    """`message`, a change of the order read after the held ones, takes their place. `sent`: the ERP
    order has the order's current lines now (applied, or found already there): nothing of theirs is
    left to send. Else it is held or flagged itself, naming their changes with its own."""
    if sent:
        nro = link.nro_pedvenda
        reason = (
            f"superseded by message #{message.id}: ERP order {nro} has the order's current lines now, so "
            "nothing of this change is left to send"
        )
        words: trace.Words = ("edit_superseded_sent", {"id": message.id, "nro": nro})
        return close(session, link, reason, words, but=message.id)
    reason = f"superseded by message #{message.id}, a later change of the order, which names this change too"
    return close(session, link, reason, ("edit_superseded_held", {"id": message.id}), but=message.id)


def settle_cancelled(session: Session, link: OrderLink, *, but: int | None = None) -> int:
    """The order is cancelled (in Shopify or in the ERP): its held edits no longer go to the ERP."""
    reason = "the order is cancelled: this change held back no longer goes to the ERP"
    return close(session, link, reason, ("edit_held_cancelled", {}), but=but)


def to_replay(session: Session, link: OrderLink) -> list[tuple[int, int]]:
    """(message id, attempts) of the order's held edits: the ERP started picking it (its event
    read), so each is replayed and ends flagged as too late instead of waiting for an edit the ERP
    no longer takes."""
    return [(message.id, message.attempts) for message in held(session, link)]


def waiting_payment(session: Session, shop_id: int, gid: str) -> list[tuple[int, int]]:
    """(message id, attempts) of the order's edits waiting for its payment: the order may be paid now
    (orders/paid, orders/updated), so each is replayed and goes if it is (it waits again if not)."""
    stmt = select(Message.id, Message.attempts).where(
        Message.shop_id == shop_id,
        Message.flow == FLOW,
        Message.direction == SHOPIFY_TO_ERP,
        Message.shopify_id == gid,
        Message.unit_key.like("edit:%"),
        Message.status == MessageStatus.PENDING.value,
        WAITING == PAYMENT,
    )
    return [(row.id, row.attempts) for row in session.execute(stmt.order_by(Message.id))]


def on_paid(shop_id: int, gid: str, payload: dict[str, Any]) -> int:
    """An orders/paid or orders/updated of an order in the ERP whose body says it may be paid now:
    the replay of each of its edits waiting for the payment is enqueued (`waiting_payment`); how
    many. Free for an order not paid (one look at its body). Redis down: left to the orders
    catch-up, which re-reads what waits for its payment."""
    if str(payload.get("financial_status") or "").lower() not in PAID:
        return 0
    with read_scope() as session:
        found = waiting_payment(session, shop_id, gid)
    try:
        enqueue_replays(shop_id, found, "its order may be paid now")
    except RedisError as exc:
        log.warning("order_edits: held edits of %s left to the catch-up, Redis unreachable (%s)", gid,
                    type(exc).__name__)  # fmt: skip
    return len(found)


def enqueue_replays(shop_id: int, found: list[tuple[int, int]], why: str) -> None:
    """Enqueue the replay of each held edit in `found` ((message id, attempts): `to_replay`,
    `waiting_payment`), one job per message and attempt; `why` ends its description."""
    flow = flows.get(FLOW)
    for message_id, attempts in found:
        queues.enqueue(
            flow.replay_job,
            message_id,
            queue=flow.queue,
            job_id=queues.job_key("replay", shop_id, message_id, attempts),
            replace_ended=True,
            description=f"replay {FLOW} message {message_id}: {why}",
        )


def unpaid_note(name: str, nro: int, unpaid: str, total: str) -> tuple[str, trace.Words]:
    """The note of an edit held for its payment (`unpaid`, `total`: R$ as written) and its words."""
    return (
        f"Order {name} was edited in Shopify: the edit raises the total by {unpaid} (to {total}), not yet "
        f"paid in Shopify, so the change was NOT applied yet: ERP order {nro} keeps its earlier lines until "
        "it is paid, and the change goes then."
    ), ("edit_held_unpaid", {"name": name, "nro": nro, "unpaid": unpaid, "total": total})


def note(
    name: str,
    nro: int,
    changed: tuple[str, str],
    summary: tuple[str, trace.Words | dict[str, object]],
    *,
    bindable: bool,
) -> tuple[str, trace.Words]:
    """The held edit's note and its words. `changed`: how the order changed (English, words key);
    `summary`: its changes (English, words). `bindable`: every line the ERP cannot take is an ERP
    SKU not bound yet (the edit parks and goes once bound); else a line no binding will ever come
    for (made in Shopify, a custom item) holds it until another edit replaces or removes it."""
    params = {"name": name, "changed": (changed[1], {}), "summary": summary[1], "nro": nro}
    head = f"Order {name} was {changed[0]} in Shopify ({summary[0]}), but "
    another = "by another order edit in Shopify: that edit carries this change to the ERP."
    if bindable:
        return (
            f"{head}the ERP product of a line is not bound to Shopify yet, so the change was NOT applied "
            f"yet: ERP order {nro} keeps its earlier lines until the catalog sync binds it, and this change "
            "goes then. If the ERP has no such product active for e-commerce, replace or remove the line "
            f"{another}"
        ), ("edit_held_not_bound", params)
    return (
        f"{head}a line of it is not an ERP product (made in Shopify, or a custom item) and the ERP cannot "
        f"sell it, so the change was NOT applied: ERP order {nro} keeps its earlier lines, and would be "
        f"picked and invoiced so. Replace or remove that line {another}"
    ), ("edit_held_not_erp", params)


def payment_note(
    name: str,
    nro: int,
    changed: tuple[str, str],
    summary: tuple[str, trace.Words | dict[str, object]],
    gateways: list[str],
) -> tuple[str, trace.Words]:
    """The note of an edit held back because a payment method of the order (`gateways`, as Shopify
    names them) has no ERP payment form to send with the new total, and its words: the edit parks on
    that De:Para line and goes once it is saved."""
    methods = ", ".join(repr(g) for g in gateways)
    params = {
        "name": name,
        "changed": (changed[1], {}),
        "summary": summary[1],
        "nro": nro,
        "methods": methods,
    }
    head = f"Order {name} was {changed[0]} in Shopify ({summary[0]}), but "
    held_back = (
        f"so the change was NOT applied yet: ERP order {nro} keeps its earlier lines, and would be picked "
        "and invoiced so."
    )
    if len(gateways) == 1:
        return (
            f"{head}its payment method {methods} has no ERP payment form (De:Para), {held_back} Map it under "
            "De:Para > payment methods and this change goes then."
        ), ("edit_held_payment", params)
    return (
        f"{head}its payment methods {methods} have no ERP payment form (De:Para), {held_back} Map each under "
        "De:Para > payment methods and this change goes once they all are."
    ), ("edit_held_payments", params)

"""A refund that gave money back with nothing taken back (flow `order_edits`, Shopify -> ERP).

refunds/create runs the order's edit (jobs.order_edits.to_erp): a refund that takes items or
shipping back changes the ERP order like an edit. One that gives money only (a goodwill amount: a
bruised fruit, a late delivery; or more than the items' value typed over the calculated refund)
changes no ERP line nor the freight: the ERP order keeps its total, its NF-e invoices the goods in
full, and its receivable counts the payment Shopify no longer holds. Nothing the app can send
fixes that (an NF-e lists goods at their price; what to book is the store's finance's call), so the
order is flagged for a person (NOTE_TOPIC, a note of its own beside the flow's), naming the amount,
the refunds and the ERP order's total: record it in the ERP, a discount on the order before it is
invoiced, else against its receivable. The refund's message ends skipped saying so.

What counts is the money given back beyond the items and shipping the refund took back
(refund_money.RefundMoney.beyond: a tip or a gift card refunded is no ERP money), and no more than
the order is now paid short of its total in Shopify: a refund handing back what the customer paid
over the total (the balance an edit that removed items left owed to them) leaves the ERP, which got
the edit, matching, and says nothing. A refund that takes items back and gives more than their
value (the merchant typing over the calculated amount) changes the ERP order for the items (or is
flagged for them, too late) and notes the rest the same way. Another goodwill refund while the
note is open adds to it (the note names every refund still to record, once each: a replay adds
nothing); a person who recorded them closes the note on the order (shopify_app.api_order_notes).

A goodwill refund made before the order reached the ERP (it waited on a mapping, a risk review, the
ERP down) changed no ERP order either: its refunds/create was skipped "not in the ERP yet", and the
import books the order's total as paid. The import flags it the same way (`before_import`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import order_map
from ledger import order_notes, trace
from ledger.models import Message, MessageStatus, OrderLink
from shopify_app.admin_api.order_import_ops import ErpOrderRead
from shopify_app.admin_api.refund_money import refund_money

FLOW = "order_edits"
NOTE_TOPIC = "money refunded"  # its note: "order_edits (money refunded): Order #1001 had ..."
KEY = "edit_refund_money"
PREFIX = "refund-"  # a refund's edit id (jobs.order_edits.to_erp.is_refund)


@dataclass(frozen=True)
class Goodwill:
    refund_id: str
    amount: Decimal  # given back with nothing taken back, as far as the order is now paid short


def given_back(client: Any, read: ErpOrderRead, edit_id: str) -> Goodwill | None:
    """The refund's money given back with nothing taken back (None: none, or not a refund's edit)."""
    if not edit_id.startswith(PREFIX) or read.current_total is None:
        return None
    refund_id = edit_id.removeprefix(PREFIX)
    refund = refund_money(client, refund_id)
    if refund is None or refund.beyond <= 0:
        return None
    short = read.current_total.amount - order_map.money_kept(read.order)
    amount = min(refund.beyond, short)
    return Goodwill(refund_id, amount) if amount > 0 else None


def flag(session: Any, link: OrderLink, message: Message, goodwill: Goodwill, name: str) -> None:
    """Flag the order for the amount to be recorded in the ERP (`note`), and end the refund's message
    skipped saying so: it changed no ERP line."""
    note(link, goodwill, name)
    nro = link.nro_pedvenda
    refund, amount = goodwill.refund_id, order_notes.money(goodwill.amount)
    trace.skip(
        session,
        message,
        f"refund {refund} gave back {goodwill.amount} with nothing taken back: nothing to change in ERP "
        f"order {nro}; the order is flagged for the amount to be recorded there",
        words=("edit_refund_money_skipped", {"refund": refund, "amount": amount, "nro": nro}),
    )


def note(link: OrderLink, goodwill: Goodwill, name: str) -> None:
    """Flag the order for the amount to be recorded in the ERP, added to a note still open for
    earlier refunds (once each): also for a refund whose items the ERP order took, or was flagged
    for, that gave back more than their value."""
    refunds, total = _open(link)
    if goodwill.refund_id not in refunds:
        refunds, total = [*refunds, goodwill.refund_id], total + goodwill.amount
    nro, erp_total = link.nro_pedvenda, None if link.total is None else order_map.cents(link.total)
    listed = ", ".join(refunds)
    plural = "refunds" if len(refunds) > 1 else "refund"
    text = (
        f"Order {name} had {total} given back in Shopify beyond any item or freight taken back ({plural} "
        f"{listed}): "
        f"ERP order {nro} still totals {erp_total} and counts the payment in full. Record what was given "
        "back in the ERP: a discount on the order before it is invoiced, else against its receivable."
    )
    ids = order_notes.joined(refunds, "comma")
    words = (KEY, {
        "name": name,
        "amount": order_notes.money(total),
        "refunds": ("refund_ids" if len(refunds) > 1 else "refund_id", {"ids": ids}),
        "nro": nro,
        "erp_total": order_notes.money(erp_total if erp_total is not None else "?"),
    })  # fmt: skip
    order_notes.put(link, FLOW, text, topic=NOTE_TOPIC, words=words)


def _open(link: OrderLink) -> tuple[list[str], Decimal]:
    """The refunds and the amount the open note names (none: [], 0)."""
    parts = order_notes.words_of_note(link, FLOW, topic=NOTE_TOPIC) or []
    for key, params in parts:
        if key == KEY:
            part = params.get("refunds")  # ("refund_id" | "refund_ids", {"ids": joined})
            said = part[1] if isinstance(part, tuple) and len(part) == 2 else None
            listed = said.get("ids") if isinstance(said, dict) else None
            amount = (params.get("amount") or {}).get(order_notes.MONEY) or "0"
            return [str(r) for r in (listed or {}).get("parts") or []], Decimal(str(amount))
    return [], Decimal("0")


def given_before_import(order: order_map.Order) -> Decimal:
    """Pure: the money the order's refunds gave back beyond what its current total took off (a
    goodwill refund made before the import: the ERP order counts its total paid); 0: none."""
    return max(
        Decimal(0),
        order_map.cents(
            order_map.unpaid_balance(order) - order_map.unpaid_balance(order, counting_refunds=False)
        ),
    )


def before_import(
    session: Session, shop_id: int, link: OrderLink, order: order_map.Order, name: str, short: Decimal
) -> None:
    """Flag the order just imported (`note`) for `short`, the money given back before the import
    (`given_before_import`). The refunds named are those whose refunds/create was skipped for the
    order not being in the ERP yet, else the refund transactions Shopify shows."""
    skipped = session.scalars(
        select(Message.unit_key)
        .where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.shopify_id == link.shopify_order_id,
            Message.unit_key.like(f"edit:{PREFIX}%"),  # jobs.order_edits.to_erp.unit_key of a refund's
            Message.status == MessageStatus.SKIPPED.value,
        )
        .order_by(Message.id)
    ).all()
    refunds = [key.removeprefix(f"edit:{PREFIX}") for key in skipped] or [
        t.id.rsplit("/", 1)[-1] for t in order.transactions if t.kind == "REFUND" and t.status == "SUCCESS"
    ]
    for at, refund in enumerate(refunds or ["?"]):
        note(link, Goodwill(refund, short if at == 0 else Decimal(0)), name)

"""Kinds of orders that are not e-commerce sales for the ERP, or that cannot wait for payment as
the others do. Pure: the order as read (OrderForErp) and the app's install time, no I/O.

- not_for_erp: why an order is never sent (a test order, a sale at a POS register, an order
  selling no goods, an order of the store's time before the app), or None.
- terms_waiting: what an unpaid order with payment terms (B2B, a draft order's NET / FULFILLMENT
  terms) says while it waits: Shopify takes no payment at checkout, so "waiting for payment" alone
  would read as stuck for no reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.models import as_utc
from shopify_app.admin_api.order_import_ops import ErpOrderRead, PaymentTerms
from shopify_app.admin_api.order_results import Order

# Why the order is not sent, in the words the message shows (trace.skip).
TERMS_DUE: dict[str, str] = {
    "FULFILLMENT": "due once the order is fulfilled",
    "RECEIPT": "due on receipt of its invoice",
    "FIXED": "due on a fixed date",
}


def not_for_erp(read: ErpOrderRead, installed_first: datetime | None) -> str | None:
    """Why an order is never sent to the ERP, or None.

    - A test order (a payment provider in test mode, the Bogus gateway): no money changed hands.
    - A sale at a Shopify POS register (sourceName "pos", its retail location): paid and handed
      over at the counter, its NFC-e issued by the register. Posted as an e-commerce PedidoVenda,
      the ERP would reserve, pick and invoice it again (a second fiscal document, the stock taken
      twice).
    - An order that never had a goods line (it sells only gift cards, or only a tip): nothing to
      pick or invoice; the goods a gift card pays for are invoiced on the order that spends it.
      (One whose goods were all removed or refunded since is not this: it fails as NO_LINES.)
    - An order of the store's time before the app was first installed, by the earlier of its
      createdAt and processedAt (an order history imported through the API is created now but
      processed on its own date): the store handled it without the app (picked, invoiced, maybe
      fulfilled), so an orders/updated for it or the reconciliation finding it with no link must
      not make it a new ERP sale. The merchant enters it in the ERP by hand if it still needs to be.
    """
    order = read.order
    if read.test:
        return "a Shopify test order (test: true, a payment provider in test mode): not sent to the ERP"
    if read.at_register:
        where = f" of {read.retail_location}" if read.retail_location else ""
        return (
            f"sold at the register{where} (Shopify POS, source {read.source_name or 'pos'}): paid and handed "
            "over there, its NFC-e was issued there, so it is not sent to the ERP as an e-commerce order "
            "(that would invoice it and take its stock a second time); enter it in the ERP by hand if it "
            "still needs to be"
        )
    if not ever_sold_goods(order):
        return (
            "this order sells no goods (only gift cards or a tip): the ERP has nothing to pick or invoice, "
            "so it is not sent (the goods a gift card pays for are invoiced on the order that spends it)"
        )
    return _before_install(read, installed_first)


def not_for_erp_words(read: ErpOrderRead, installed_first: datetime | None) -> tuple[str, dict[str, Any]]:
    """`not_for_erp`'s reason as words for the pages (shopify_app.skip_words), for an order it
    gave one: which rule, and its register or the install's time (UTC)."""
    if read.test:
        return "order_test", {}
    if read.at_register:
        return "order_at_register", {"location": read.retail_location or "POS"}
    if not ever_sold_goods(read.order):
        return "order_no_goods", {}
    first = as_utc(installed_first) if installed_first else None
    return "order_before_install", {"installed": f"{first:%Y-%m-%d %H:%M}" if first else ""}


def before_install(read: ErpOrderRead, installed_first: datetime | None) -> bool:
    """Whether the order is of the store's time before the app (`not_for_erp`'s last rule), whatever
    else it is: its sale lowered Shopify's levels long before the app first saw it."""
    return _before_install(read, installed_first) is not None


def ever_sold_goods(order: Order) -> bool:
    """Whether any line of the order is goods (not a gift card sold, not the tip), whatever its
    current quantity: an order whose goods were all removed since still did."""
    tips = {line.id for line in order.tip_lines()}
    return any(not line.gift_card and line.id not in tips for line in order.lines)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _before_install(read: ErpOrderRead, installed_first: datetime | None) -> str | None:
    created = read.order.created_at
    if installed_first is None or not (created or read.processed_at):
        return None
    named = (("placed", created), ("processed", read.processed_at))
    dates = {name: _utc(text) for name, text in named if text}
    which, when = min(dates.items(), key=lambda item: item[1])
    first = as_utc(installed_first).replace(microsecond=0)  # Shopify's times are whole seconds
    if when >= first:
        return None
    imported = ""
    if which == "processed" and "placed" in dates:
        imported = f" (created in Shopify {dates['placed']:%Y-%m-%d %H:%M} UTC: imported from elsewhere)"
    return (
        f"{which} {when:%Y-%m-%d %H:%M} UTC{imported}, before the app was installed on this store "
        f"({first.astimezone(UTC):%Y-%m-%d %H:%M} UTC): the store handled it without the app, so it is "
        "not sent to the ERP; enter it there by hand if it still needs to be"
    )


def terms_waiting(terms: PaymentTerms) -> str:
    """What an unpaid order with payment terms adds to its waiting text: the terms, that Shopify
    took no payment at checkout, and what the merchant can do (the app sends an order once paid)."""
    if terms.type == "NET" and terms.due_in_days is not None:
        due = f"due {terms.due_in_days} days after it was issued"
    else:
        due = TERMS_DUE.get(terms.type, "due later")
    deadlock = (
        "; it cannot be paid first, as the ERP fulfils it only once it has it"
        if terms.type == "FULFILLMENT"
        else ""
    )
    return (
        f"; the order has payment terms ({terms.type}: {due}), so no payment was taken at "
        f"checkout{deadlock}. "
        "To send it now, mark it as paid in Shopify (the ERP books it under the payment form mapped for "
        "the manual gateway) or enter it in the ERP by hand; otherwise it goes once it is paid"
    )

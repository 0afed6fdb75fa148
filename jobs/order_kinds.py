"""Kinds of orders that are not e-commerce sales for the ERP, or that cannot wait for payment as
the others do. Pure: the order as read (OrderForErp) and the app's installations
(ledger.install_periods), no I/O.

- not_for_erp: why an order is never sent (a test order, a sale at a POS register, an order
  selling no goods, an order of the store's time without the app), or None.
- refuse_ship_and_carry: a POS sale that hands part over at the counter and ships the rest is
  refused for a person (the app sends no part of an order).
- refuse_handled_in_shopify: an order whose goods Shopify shows fulfilled before it reached the ERP
  (the store handled it in Shopify) is refused for a person: posted, it would be a second ERP sale.
- terms_waiting: what an unpaid order with payment terms (B2B, a draft order's NET / FULFILLMENT
  terms) says while it waits: Shopify takes no payment at checkout, so "waiting for payment" alone
  would read as stuck for no reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobs.nfe import INVOICE_TAGS
from ledger.errors import Rejected
from ledger.install_periods import Gap, Installs
from shopify_app.admin_api.order_import_ops import ErpOrderRead, PaymentTerms
from shopify_app.admin_api.order_results import Order, OrderLine

# Why the order is not sent, in the words the message shows (trace.skip).
TERMS_DUE: dict[str, str] = {
    "FULFILLMENT": "due once the order is fulfilled",
    "RECEIPT": "due on receipt of its invoice",
    "FIXED": "due on a fixed date",
}


def not_for_erp(read: ErpOrderRead, installs: Installs | None) -> str | None:
    """Why an order is never sent to the ERP, or None.

    - A test order (a payment provider in test mode, the Bogus gateway): no money changed hands.
    - A sale at a Shopify POS register (sourceName "pos", its retail location) with nothing left to
      ship or deliver (ErpOrderRead.at_register): paid and handed over at the counter, its NFC-e
      issued by the register. Posted as an e-commerce PedidoVenda, the ERP would reserve, pick and
      invoice it again (a second fiscal document, the stock taken twice). A POS sale shipped to the
      customer (POS "Ship to customer": a live fulfillment order to ship or deliver) is not one:
      nobody handed it over, so the ERP picks, invoices (NF-e) and ships it as any e-commerce order.
    - An order that never had a goods line (it sells only gift cards, or only a tip): nothing to
      pick or invoice; the goods a gift card pays for are invoiced on the order that spends it.
      (One whose goods were all removed or refunded since is not this: it fails as NO_LINES.)
    - An order of the store's time without the app, by the earlier of its createdAt and processedAt
      (an order history imported through the API is created now but processed on its own date):
      placed before the app was first installed, or between an uninstall and the install after it.
      The store handled it without the app (picked, invoiced, maybe fulfilled), so an orders/updated
      for it or the reconciliation finding it with no link must not make it a new ERP sale. The
      merchant enters it in the ERP by hand if it still needs to be. An order of an earlier
      installation is the app's, also after shop/redact erased its link and the store installed the
      app again: one waiting for its payment then goes once paid (one sent then is posted again,
      and the ERP, idempotent on the order's channel id, answers the order it holds).
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
    return _without_app(read, installs)


def refuse_ship_and_carry(read: ErpOrderRead) -> None:
    """A POS sale that handed part of its goods over at the counter (a RETAIL fulfillment order: its
    NFC-e issued there) and ships the rest to the customer (POS "ship and carry out" in one order).

    Neither whole nor in part does it go to the ERP by itself. Whole, the ERP would pick, invoice and
    ship again what the customer took (a second fiscal document, the stock taken twice), and the
    picking's cut of those items would come back as an edit removing them from the Shopify order.
    In part (the shipped lines only), the ERP order would not match the Shopify order's total and
    payments, which the import, the invoice's capture, the edits and the reconciliation all
    compare. So a person enters the items to ship in the ERP (the Shopify order lists them as
    unfulfilled), then marks the message as handled.

    Raises:
        Rejected (POS_SHIP_AND_CARRY): naming the register.
    """
    if not (read.sold_at_pos and read.left_to_deliver and read.handed_over_at_register):
        return
    where = read.retail_location or "POS"
    name = read.order.name
    raise Rejected(
        f"order {name} was sold at the register of {where} (Shopify POS): part of it was handed over at the "
        "counter (its NFC-e issued there) and the rest is to be shipped to the customer; the app sends no "
        "part of an order to the ERP, and the whole would invoice and take the stock of what was handed "
        "over a second time",
        system="app",
        code="POS_SHIP_AND_CARRY",
        detail={
            "handed_over": [f.id for f in read.handed_over_at_register],
            "to_deliver": [f.id for f in read.left_to_deliver],
        },
        words=("pos_ship_and_carry", {"order": name, "location": where}),
    )


def refuse_handled_in_shopify(read: ErpOrderRead) -> None:
    """An order never sent to the ERP that the store handled in Shopify: some of its goods fulfilled
    there. Its webhooks were missed, or it waited (for its payment, a mapping) while the store
    fulfilled it by hand, maybe typing it into the ERP too. Posted now, the ERP would pick and invoice
    goods that already left (a second sale, a second NF-e).

    Not a silent skip: refused for a person, who checks the ERP has the sale (typed by hand: link it
    on the Orders page, or mark the message handled); or, fulfilled by mistake, cancels its
    fulfillments in Shopify and clicks Retry. Goods are the lines `ever_sold_goods` counts: a gift
    card Shopify fulfils at checkout (the order then shows PARTIALLY_FULFILLED) and the tip are not,
    so such an order still goes. Comes after the replay of a POST that may be in the ERP and after
    `not_for_erp` (jobs.orders._prepare): a register sale or a gift-card-only order, fulfilled by
    nature, is skipped for good with its own reason, not refused.

    Not refused, though fulfilled:
    - an order closed (archived) with nothing fulfilled: Shopify lets staff archive any order (an
      unpaid boleto one, say), and the customer who pays it later still waits for the goods;
    - an order bearing the app's invoice tag (jobs.nfe.INVOICE_TAGS: "NF-e emitida"): the app sent it
      and fulfilled it at the ERP's invoice, in an installation whose links shop/redact erased since.
      Posted again, the ERP, idempotent on the order's channel id, answers the order it holds and the
      link learns its number again (`not_for_erp`'s docstring).

    Raises:
        Rejected (HANDLED_IN_SHOPIFY): naming the order.
    """
    fulfilled = fulfilled_goods(read.order)
    if not fulfilled or invoiced_by_erp(read.order):
        return
    name = read.order.name
    raise Rejected(
        f"order {name} was fulfilled in Shopify before it reached the ERP (the store handled it there): it "
        "is not sent, as the ERP would pick and invoice it a second time; if the ERP lacks this sale, enter "
        "it there by hand",
        system="app",
        code="HANDLED_IN_SHOPIFY",
        detail={"fulfilled_lines": [line.id for line in fulfilled]},
        words=("order_fulfilled_in_shopify", {"order": name}),
    )


def invoiced_by_erp(order: Order) -> bool:
    """The order bears the tag the app adds when it applies the ERP's NF-e / NFC-e of it (Shopify
    compares tags without case)."""
    tags = {tag.strip().casefold() for tag in order.tags}
    return any(tag.casefold() in tags for tag in INVOICE_TAGS)


def fulfilled_goods(order: Order) -> list[OrderLine]:
    """The goods lines (not a gift card, not the tip) with units Shopify shows fulfilled: current
    quantity less unfulfilled quantity (a line whose unfulfilled quantity was not read: none), when
    they show the store handled the order: a line that ships fulfilled, or every goods line
    fulfilled in full. A line that needs no shipping (a bag fee, a service) fulfilled alone proves
    nothing: Shopify apps and Flow fulfil such lines at checkout while the groceries still wait for
    the ERP's picking; that order goes. (A tip line needs no shipping either: one not recognised as
    the tip is ruled out so too.)"""
    tips = {line.id for line in order.tip_lines()}
    goods = [
        line
        for line in order.lines
        if not line.gift_card and line.id not in tips and line.current_quantity > 0
    ]
    fulfilled = [
        line
        for line in goods
        if line.unfulfilled_quantity is not None and line.current_quantity > line.unfulfilled_quantity
    ]
    if any(line.requires_shipping for line in fulfilled):
        return fulfilled
    if (
        fulfilled
        and len(fulfilled) == len(goods)
        and all(line.unfulfilled_quantity == 0 for line in fulfilled)
    ):
        return fulfilled  # nothing ships, and all of it was handed over: handled as a whole
    return []


def not_for_erp_words(read: ErpOrderRead, installs: Installs | None) -> tuple[str, dict[str, Any]]:
    """`not_for_erp`'s reason as words for the pages (shopify_app.skip_words), for an order it
    gave one: which rule, and its register or the install's (and uninstall's) time (UTC)."""
    if read.test:
        return "order_test", {}
    if read.at_register:
        return "order_at_register", {"location": read.retail_location or "POS"}
    if not ever_sold_goods(read.order):
        return "order_no_goods", {}
    gap = _gap(read, installs)
    if gap is not None and gap.since is not None:
        return "order_while_uninstalled", {"uninstalled": _minute(gap.since), "installed": _minute(gap.until)}
    return "order_before_install", {"installed": _minute(gap.until if gap else None)}


def without_app(read: ErpOrderRead, installs: Installs | None) -> bool:
    """Whether the order is of the store's time without the app (`not_for_erp`'s last rule),
    whatever else it is: its sale lowered Shopify's levels long before the app first saw it."""
    return _gap(read, installs) is not None


def placed_at(read: ErpOrderRead) -> datetime | None:
    """When the order was made, for the install rule: the earlier of its createdAt and processedAt."""
    dates = [_utc(text) for text in (read.order.created_at, read.processed_at) if text]
    return min(dates) if dates else None


def ever_sold_goods(order: Order) -> bool:
    """Whether any line of the order is goods (not a gift card sold, not the tip), whatever its
    current quantity: an order whose goods were all removed since still did."""
    tips = {line.id for line in order.tip_lines()}
    return any(not line.gift_card and line.id not in tips for line in order.lines)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _minute(when: datetime | None) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M}" if when else ""


def _gap(read: ErpOrderRead, installs: Installs | None) -> Gap | None:
    """The stretch without the app the order was made in, or None."""
    when = placed_at(read)
    return installs.gap_at(when) if installs is not None and when is not None else None


def _without_app(read: ErpOrderRead, installs: Installs | None) -> str | None:
    gap = _gap(read, installs)
    if gap is None:
        return None
    named = (("placed", read.order.created_at), ("processed", read.processed_at))
    dates = {name: _utc(text) for name, text in named if text}
    which, when = min(dates.items(), key=lambda item: item[1])
    imported = ""
    if which == "processed" and "placed" in dates:
        imported = f" (created in Shopify {dates['placed']:%Y-%m-%d %H:%M} UTC: imported from elsewhere)"
    if gap.since is None:
        without = f"before the app was installed on this store ({_minute(gap.until)} UTC)"
    else:
        again = f", installed again {_minute(gap.until)} UTC" if gap.until else ""
        since = _minute(gap.since)
        without = f"while the app was not installed on this store (uninstalled {since} UTC{again})"
    return (
        f"{which} {when:%Y-%m-%d %H:%M} UTC{imported}, {without}: the store handled it without the app, so "
        "it is not sent to the ERP; enter it there by hand if it still needs to be"
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

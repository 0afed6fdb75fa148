"""Every transaction and fulfillment of an order's settlement, not only the first 50 OrderSettlement
reads of each.

Why: Order.transactions and Order.fulfillments are plain lists (a `first`, no pageInfo, no cursor),
and OrderSettlement reads 50 of each.
- Transactions: an order with many declined Pix or card tries plus one capture per NF-e passes 50,
  and the money past them (the authorisation that went through, its captures, a refund) was
  missed: the order read as unpaid, its captures as never made.
- Fulfillments: shipments made and cancelled again and again pass 50, and the one that shipped
  was missed: a cancellation did not cancel it first, a tracking update did not find it.
A list that comes back full is read again with Shopify's largest `first`
(documents/OrderSettlementTransactions.graphql, OrderSettlementFulfillments.graphql); the usual
order pays no second query. When even that comes back full, the list cannot be known whole, and the
settlement is refused for a person (ORDER_TRANSACTIONS_NOT_READ, ORDER_FULFILLMENTS_NOT_READ)
rather than made on part of it: nothing is captured, refunded, cancelled or fulfilled on it.

    from shopify_app.admin_api.settlement_lists import every_listed
    raw = every_listed(executor, order_id, raw)  # raw: OrderSettlement's order; None: gone
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.errors import Rejected
from shopify_app.admin_api.pagination import QueryRunner

SETTLEMENT_FIRST = 50  # what OrderSettlement.graphql reads of each list (keep them equal)
LIST_MAX = 250  # Shopify's largest `first`


def every_listed(runner: QueryRunner, order_id: str, raw: dict[str, Any]) -> dict[str, Any] | None:
    """`raw` (OrderSettlement's order) with every transaction and fulfillment, each list whose
    first read came back full read again; None when the order is gone on the second read. Raises
    Rejected (ORDER_TRANSACTIONS_NOT_READ, ORDER_FULFILLMENTS_NOT_READ) when Shopify's largest
    page of a list is full too."""
    lists: tuple[tuple[str, str, Callable[[int], Rejected]], ...] = (
        ("transactions", "OrderSettlementTransactions", _transactions_refused),
        ("fulfillments", "OrderSettlementFulfillments", _fulfillments_refused),
    )
    for name, operation, refused in lists:
        if len(raw.get(name) or []) < SETTLEMENT_FIRST:
            continue
        again = runner.query(operation, {"id": order_id, "first": LIST_MAX}).get("order")
        if not again:
            return None
        found = again.get(name) or []
        if len(found) >= LIST_MAX:
            raise refused(len(found))
        raw = {**raw, name: found}
    return raw


def _transactions_refused(read: int) -> Rejected:
    return Rejected(
        f"Shopify lists an order's transactions {LIST_MAX} at most and gave {read}: what was paid, "
        "captured and refunded cannot be counted on part of them, so nothing was captured, refunded "
        "or cancelled on it",
        system="shopify",
        code="ORDER_TRANSACTIONS_NOT_READ",
        detail={"transactions_read": read},
    )


def _fulfillments_refused(read: int) -> Rejected:
    return Rejected(
        f"Shopify lists an order's fulfillments {LIST_MAX} at most and gave {read}: the one that shipped "
        "may be past them, so nothing was cancelled, fulfilled or given tracking on part of them",
        system="shopify",
        code="ORDER_FULFILLMENTS_NOT_READ",
        detail={"fulfillments_read": read},
    )

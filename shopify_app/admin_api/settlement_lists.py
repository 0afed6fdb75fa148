"""Every transaction of an order's settlement, not only the first 50 OrderSettlement reads.

Why: Order.transactions is a plain list (a `first`, no pageInfo, no cursor), and OrderSettlement
reads 50. An order with many declined Pix or card tries plus one capture per NF-e passes 50, and
the money past them (the authorisation that went through, its captures, a refund) was missed:
the order read as unpaid, its captures as never made. With 50 back the list is read again with
Shopify's largest `first` (documents/OrderSettlementTransactions.graphql); the usual order pays
no second query. When even that comes back full, what was kept cannot be told, and the
settlement is refused for a person (ORDER_TRANSACTIONS_NOT_READ) rather than made on part of
them: nothing is captured, refunded or cancelled on a partial count.

    from shopify_app.admin_api.settlement_lists import every_transaction
    raw = every_transaction(executor, order_id, raw)  # raw: OrderSettlement's order; None: gone
"""

from __future__ import annotations

from typing import Any

from ledger.errors import Rejected
from shopify_app.admin_api.pagination import QueryRunner

SETTLEMENT_FIRST = 50  # what OrderSettlement.graphql reads of the list (keep them equal)
LIST_MAX = 250  # Shopify's largest `first`


def every_transaction(runner: QueryRunner, order_id: str, raw: dict[str, Any]) -> dict[str, Any] | None:
    """`raw` (OrderSettlement's order) with every transaction when its first read came back full;
    None when the order is gone on the second read. Raises Rejected(ORDER_TRANSACTIONS_NOT_READ)
    when Shopify's largest page is full too."""
    if len(raw.get("transactions") or []) < SETTLEMENT_FIRST:
        return raw
    again = runner.query("OrderSettlementTransactions", {"id": order_id, "first": LIST_MAX}).get("order")
    if not again:
        return None
    found = again.get("transactions") or []
    if len(found) >= LIST_MAX:
        raise Rejected(
            f"Shopify lists an order's transactions {LIST_MAX} at most and gave {LIST_MAX}: what was paid, "
            "captured and refunded cannot be counted on part of them, so nothing was captured, refunded "
            "or cancelled on it",
            system="shopify",
            code="ORDER_TRANSACTIONS_NOT_READ",
            detail={"transactions_read": len(found)},
        )
    return {**raw, "transactions": found}

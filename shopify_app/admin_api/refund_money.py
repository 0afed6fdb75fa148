"""One refund's money (RefundMoney.graphql): what it gave back, and what of that paid for the items
and shipping it took back. The rest it gave back with nothing taken back: a goodwill amount, or the
difference a person typed over the calculated refund (Shopify's order adjustment)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.results import nodes, parse_money_bag

ZERO = Decimal("0")
REFUND_GID = "gid://shopify/Refund/"


class HasExecutor(Protocol):
    executor: Executor


@dataclass(frozen=True)
class RefundMoney:
    id: str
    total: Decimal  # given back
    items: Decimal  # of it, the items' value taken back
    shipping: Decimal  # of it, the shipping's taken back
    note: str | None

    @property
    def beyond(self) -> Decimal:
        """What the refund gave back beyond the items and shipping it took back (never below 0)."""
        return max(ZERO, self.total - self.items - self.shipping)


def refund_gid(refund_id: str | int) -> str:
    text = str(refund_id)
    return text if text.startswith(REFUND_GID) else f"{REFUND_GID}{text}"


def _amount(bag: dict[str, Any] | None) -> Decimal:
    money = parse_money_bag(bag)
    return money.amount if money else ZERO


def refund_money(client: HasExecutor, refund_id: str | int) -> RefundMoney | None:
    """The refund's money; None when Shopify has no such refund."""
    raw = client.executor.query("RefundMoney", {"id": refund_gid(refund_id)}).get("refund")
    if not raw:
        return None
    items = sum((_amount(n.get("subtotalSet")) for n in nodes(raw.get("refundLineItems"))), ZERO)
    shipping = sum((_amount(n.get("subtotalAmountSet")) for n in nodes(raw.get("refundShippingLines"))), ZERO)
    return RefundMoney(raw.get("id") or refund_gid(refund_id), _amount(raw.get("totalRefundedSet")), items,
                       shipping, raw.get("note") or None)  # fmt: skip

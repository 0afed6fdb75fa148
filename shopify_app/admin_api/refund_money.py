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
    restocks: tuple[str, ...] = ()  # each item's restockType (RefundLineItemRestockType)
    returned: bool = False  # made by a return (Shopify's returns: the goods came back)

    @property
    def kept(self) -> bool:
        """Whether it took items back in Shopify's books only: none restocked (NO_RESTOCK) nor
        returned, so the goods stayed with the customer (spoiled, damaged, never delivered)."""
        return bool(self.restocks) and not self.returned and all(t == "NO_RESTOCK" for t in self.restocks)

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
    lines = nodes(raw.get("refundLineItems"))
    items = sum((_amount(n.get("subtotalSet")) for n in lines), ZERO)
    shipping = sum((_amount(n.get("subtotalAmountSet")) for n in nodes(raw.get("refundShippingLines"))), ZERO)
    restocks = tuple(str(n.get("restockType") or "") for n in lines)
    return RefundMoney(raw.get("id") or refund_gid(refund_id), _amount(raw.get("totalRefundedSet")), items,
                       shipping, raw.get("note") or None, restocks, bool(raw.get("return")))  # fmt: skip

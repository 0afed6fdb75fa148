"""Which of an order's lines are its tip (pure).

Shopify lists a tip as a line with no product variant that ships nothing, and a custom item an
order edit adds (orderEditAddCustomItem) has the same shape; only the order's tip total
(totalTipReceivedSet) tells them apart. Taking tip-shaped lines first-come while they fit in the
total took a cheaper custom item listed before the tip as the tip, and the order then parked
asking to remove the "Tip". So the tip is the set of tip-shaped lines whose values add up
EXACTLY to the total: of several such sets, the one with the fewest lines not titled as a tip,
then the fewest lines, then the latest lines. No exact set: no line is the tip (none guessed);
every tip-shaped line is then goods without a SKU and parks the order naming it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopify_app.admin_api.order_results import OrderLine

TIP_TITLE = re.compile(r"\b(tip|tips|gorjeta|gorjetas)\b", re.IGNORECASE)
MAX_CANDIDATES = 16  # 2**16 sets at most; an order with more tip-shaped lines parks them all


def line_value(line: OrderLine) -> Decimal:
    price = line.discounted_unit_price or line.original_unit_price
    return price.amount * line.current_quantity if price else Decimal(0)


def candidates(lines: list[OrderLine]) -> list[OrderLine]:
    """The current tip-shaped lines with a value: the tip or custom items."""
    return [line for line in lines if line.current_quantity > 0 and line.tip_shaped and line_value(line) > 0]


def tip_lines(lines: list[OrderLine], tip_total: Decimal) -> list[OrderLine]:
    """The lines that make up `tip_total` exactly, in order ([]: no tip, or no exact set)."""
    found = candidates(lines)
    if tip_total <= 0 or not found or len(found) > MAX_CANDIDATES:
        return []
    values = [line_value(line) for line in found]
    untitled = [not TIP_TITLE.search(line.name or "") for line in found]
    best: tuple[int, int, list[int]] | None = None
    for size in range(1, len(found) + 1):
        for chosen in combinations(range(len(found)), size):
            if sum((values[i] for i in chosen), Decimal(0)) != tip_total:
                continue
            # Fewest untitled lines, then fewest lines, then the latest lines (negated to compare).
            key = (sum(untitled[i] for i in chosen), size, sorted(-i for i in chosen))
            if best is None or key < best:
                best = key
    if best is None:
        return []
    return [found[-i] for i in sorted(best[2], reverse=True)]

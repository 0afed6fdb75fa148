"""Every shipping line of an order, not only the first 5 Order and OrderForErp carry.

Why: the freight the ERP gets is the sum of the order's shipping lines, and order edits add lines
(a second delivery, a freight charged afterwards): past the fifth they were left out and the ERP's
freight was short of what the customer pays. Shipping lines are a connection, so the rest is read
by cursor (OrderShippingLines, OrderForErpShippingLines: each its read's own line fields), and only
for an order whose first page says there is more: the usual order pays no second query.

    from shopify_app.admin_api.order_shipping_lines import with_every_shipping_line
    order = with_every_shipping_line(executor, "OrderForErpShippingLines", order_id, raw, order)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from shopify_app.admin_api.order_results import Order, parse_shipping_line
from shopify_app.admin_api.pagination import QueryRunner, paginate

SHIPPING_LINES_PER_PAGE = 25


def with_every_shipping_line(
    runner: QueryRunner, operation: str, order_id: str, raw: dict[str, Any], order: Order
) -> Order:
    """`order` (parsed from `raw`, its first read) with the shipping lines past that read's first
    page, read with `operation` from its end cursor."""
    info = (raw.get("shippingLines") or {}).get("pageInfo") or {}
    if not (info.get("hasNextPage") and info.get("endCursor")):
        return order
    more = paginate(
        runner,
        operation,
        ("order", "shippingLines"),
        {"id": order_id},
        first=SHIPPING_LINES_PER_PAGE,
        after=info["endCursor"],
    )
    lines = order.shipping_lines + [parse_shipping_line(line) for line in more]
    return dataclasses.replace(order, shipping_lines=lines)

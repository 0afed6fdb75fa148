"""Every line of an open order edit, not only the first 250 orderEditBegin carries.

Why: a change is staged on the calculated line of the order's line; on an order of more than
250 lines (a supermarket basket can be) the lines past the first page were missing, so a change
of one of them could not be placed, or only by guessing. The rest is read by the calculated
order's id (CalculatedOrder is a Node: documents/CalculatedOrderLineItems.graphql) before any
change is staged. When Shopify gives no such node, the edit is refused for a person
(EDIT_LINES_NOT_READ) before a single change: an order edit is never made on part of the lines.

    from shopify_app.admin_api.order_edit_lines import begun_edit
    edit = begun_edit(executor, payload)  # payload: orderEditBegin's
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger.errors import Rejected
from shopify_app.admin_api.errors import UnexpectedResponse
from shopify_app.admin_api.order_results import OrderEdit, parse_calculated_line, parse_order_edit
from shopify_app.admin_api.pagination import QueryRunner, paginate

LINES_PER_PAGE = 250
NOT_READ = "EDIT_LINES_NOT_READ"


def begun_edit(runner: QueryRunner, payload: dict[str, Any]) -> OrderEdit:
    """The open edit of orderEditBegin's `payload` with every calculated line (pages after the
    first read by the calculated order's id). Raises Rejected(EDIT_LINES_NOT_READ) when Shopify
    does not give the rest: nothing is staged, the open edit is left uncommitted."""
    edit = parse_order_edit(payload)
    info = ((payload.get("calculatedOrder") or {}).get("lineItems") or {}).get("pageInfo") or {}
    if not info.get("hasNextPage"):
        return edit
    if not info.get("endCursor"):
        raise _refused(edit, "Shopify gave no cursor to the lines after them")
    try:
        more = list(
            paginate(
                runner,
                "CalculatedOrderLineItems",
                ("node", "lineItems"),
                {"id": edit.calculated_order_id},
                first=LINES_PER_PAGE,
                after=info["endCursor"],
            )
        )
    except UnexpectedResponse as exc:  # no node (or not a calculated order) in Shopify's answer
        raise _refused(edit, str(exc)) from exc
    return dataclasses.replace(edit, lines=edit.lines + [parse_calculated_line(line) for line in more])


def _refused(edit: OrderEdit, why: str) -> Rejected:
    return Rejected(
        f"the order edit lists only the first {len(edit.lines)} lines of the order and the rest could "
        f"not be read ({why}): no change was made, so none lands on a wrong or missing line",
        system="shopify",
        code=NOT_READ,
        detail={"lines_read": len(edit.lines)},
    )

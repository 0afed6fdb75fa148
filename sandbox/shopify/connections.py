"""Relay connections (`edges`, `nodes`, `pageInfo`) over ordered lists of documents.

Cursors are opaque base64 of the object's numeric id (or its position for id-less rows), so a
client can page with `after:` exactly as on Shopify. A list sorted by a value that changes (orders
by UPDATED_AT: the app tags and edits them) gets cursors of the sort value and id (`ordered_by`), as
Shopify's keep the position read: an order updated between two pages moves to the end and comes
again; looked up by id in the list as sorted now, every order between its old and new place was
skipped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from sandbox.shopify.gids import num_of


def encode_cursor(key: int) -> str:
    return base64.b64encode(f"cursor:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        return None


def _sorted_cursor(position: Any) -> str:
    return base64.b64encode(("sorted:" + json.dumps(position)).encode()).decode()


def _sorted_position(cursor: str | None) -> list[Any] | None:
    """The (sort value, id) a `_sorted_cursor` names, as a list (JSON's tuple); None: not one."""
    if not cursor:
        return None
    try:
        text = base64.b64decode(cursor).decode()
    except ValueError:
        return None
    if not text.startswith("sorted:"):
        return None
    try:
        position = json.loads(text.removeprefix("sorted:"))
    except ValueError:
        return None
    return position if isinstance(position, list) else None


def doc_key(item: Any) -> int:
    return num_of(item.get("id", "")) or 0 if isinstance(item, dict) else 0


def connection(
    items: list[Any],
    args: dict[str, Any],
    key: Callable[[Any], int] | None = None,
    has_previous: bool | None = None,
    ordered_by: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Slice `items` (already filtered and ordered) by first/last/after/before. `ordered_by`: the
    sort key `items` are in (JSON-able values), cursors then naming a position in that order."""
    if ordered_by is not None:
        return _by_position(items, args, ordered_by)
    if key is None:
        keyed = [(doc_key(i) or n + 1, i) for n, i in enumerate(items)]
    else:
        keyed = [(key(i), i) for i in items]
    if args.get("reverse"):
        keyed.reverse()
    after, before = decode_cursor(args.get("after")), decode_cursor(args.get("before"))
    if after is not None:
        position = next((n for n, (k, _) in enumerate(keyed) if k == after), None)
        keyed = keyed[position + 1 :] if position is not None else keyed
    if before is not None:
        position = next((n for n, (k, _) in enumerate(keyed) if k == before), None)
        keyed = keyed[:position] if position is not None else keyed
    return _page([(encode_cursor(k), node) for k, node in keyed], args, after is not None, has_previous)


def _by_position(items: list[Any], args: dict[str, Any], order: Callable[[Any], Any]) -> dict[str, Any]:
    """`connection` over items sorted by `order`: a cursor is the (sort value, id) of its node, and
    `after` / `before` take the nodes past / short of that position, whatever moved since."""
    placed = [(json.loads(json.dumps([order(i), doc_key(i)])), i) for i in items]
    if args.get("reverse"):
        placed.reverse()
    ahead = (lambda a, b: a < b) if args.get("reverse") else (lambda a, b: a > b)
    after, before = _sorted_position(args.get("after")), _sorted_position(args.get("before"))
    if after is not None:
        placed = [(p, i) for p, i in placed if ahead(p, after)]
    if before is not None:
        placed = [(p, i) for p, i in placed if ahead(before, p)]
    return _page([(_sorted_cursor(p), node) for p, node in placed], args, after is not None, None)


def _page(
    nodes: list[tuple[str, Any]], args: dict[str, Any], after: bool, has_previous: bool | None
) -> dict[str, Any]:
    """The connection of `nodes` ((cursor, node), past `after` and short of `before` already) cut by
    first/last."""
    total = len(nodes)
    first, last = args.get("first"), args.get("last")
    if first is not None:
        nodes = nodes[:first]
    if last is not None:
        nodes = nodes[-last:] if last else []
    edges = [{"cursor": cursor, "node": node} for cursor, node in nodes]
    page_info = {
        "hasNextPage": first is not None and total > len(nodes),
        "hasPreviousPage": has_previous
        if has_previous is not None
        else (after or (last is not None and total > len(nodes))),
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"edges": edges, "nodes": [e["node"] for e in edges], "pageInfo": page_info}

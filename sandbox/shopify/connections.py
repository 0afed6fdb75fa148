"""Relay connections (`edges`, `nodes`, `pageInfo`) over ordered lists of documents.

Cursors are opaque base64 of the object's numeric id (or its position for id-less rows), so a
client can page with `after:` exactly as on Shopify.
"""

from __future__ import annotations

import base64
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


def doc_key(item: Any) -> int:
    return num_of(item.get("id", "")) or 0 if isinstance(item, dict) else 0


def connection(
    items: list[Any],
    args: dict[str, Any],
    key: Callable[[Any], int] | None = None,
    has_previous: bool | None = None,
) -> dict[str, Any]:
    """Slice `items` (already filtered and ordered) by first/last/after/before."""
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
    total = len(keyed)
    first, last = args.get("first"), args.get("last")
    if first is not None:
        keyed = keyed[:first]
    if last is not None:
        keyed = keyed[-last:] if last else []
    edges = [{"cursor": encode_cursor(k), "node": node} for k, node in keyed]
    page_info = {
        "hasNextPage": first is not None and total > len(keyed),
        "hasPreviousPage": has_previous
        if has_previous is not None
        else (after is not None or (last is not None and total > len(keyed))),
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"edges": edges, "nodes": [e["node"] for e in edges], "pageInfo": page_info}

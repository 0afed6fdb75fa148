"""Cursor pagination over connections, reacting to MAX_COST_EXCEEDED by halving `first`.

Why: a page's cost grows with `first` times the nested selection; a page that exceeds Shopify's
1,000-point ceiling never succeeds as is, so the helper retries the same cursor with half the
page size (down to 1) and keeps the smaller size for the rest of the walk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from shopify_app.admin_api.errors import MaxCostExceeded, UnexpectedResponse

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 250


class QueryRunner(Protocol):
    def query(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Page:
    nodes: list[dict[str, Any]]
    has_next_page: bool
    end_cursor: str | None
    first: int


def connection_at(data: dict[str, Any], path: tuple[str, ...], operation: str) -> dict[str, Any]:
    """The connection object at `path` inside `data` (e.g. ("productVariants",))."""
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            raise UnexpectedResponse(f"{operation}: answer has no {'.'.join(path)} connection")
        node = node[part]
    return node


def fetch_page(
    runner: QueryRunner,
    operation: str,
    path: tuple[str, ...],
    variables: dict[str, Any],
    *,
    first: int,
    after: str | None,
) -> Page:
    """One page, halving `first` while Shopify says the query costs too much."""
    size = max(1, min(first, MAX_PAGE_SIZE))
    while True:
        try:
            data = runner.query(operation, {**variables, "first": size, "after": after})
        except MaxCostExceeded:
            if size == 1:
                raise
            size = max(1, size // 2)
            log.info("shopify: %s exceeds the query cost ceiling, page size now %s", operation, size)
            continue
        connection = connection_at(data, path, operation)
        info = connection.get("pageInfo") or {}
        return Page(
            nodes=list(connection.get("nodes") or []),
            has_next_page=bool(info.get("hasNextPage")),
            end_cursor=info.get("endCursor"),
            first=size,
        )


def paginate(
    runner: QueryRunner,
    operation: str,
    path: tuple[str, ...],
    variables: dict[str, Any] | None = None,
    *,
    first: int = MAX_PAGE_SIZE,
    after: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every node of the connection, page after page (a generator: stop reading to stop fetching).

    Raises:
        UnexpectedResponse: a page says there is a next one at a cursor already read: read on, it
            would loop for ever, spending the rate limit and handing the same nodes back again."""
    size = first
    seen = {after} if after else set()
    while True:
        page = fetch_page(runner, operation, path, variables or {}, first=size, after=after)
        size = page.first
        yield from page.nodes
        if not page.has_next_page or not page.end_cursor:
            return
        if page.end_cursor in seen:
            raise UnexpectedResponse(
                f"{operation}: Shopify gave the cursor {page.end_cursor!r} again with a next page "
                f"({len(page.nodes)} nodes on it): not read on, it would repeat for ever"
            )
        seen.add(page.end_cursor)
        after = page.end_cursor

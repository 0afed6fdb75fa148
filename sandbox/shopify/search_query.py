"""Shopify's search syntax for `query:` arguments: `sku:ABC barcode:'789 1' status:active
updated_at:>'2026-01-01T00:00:00Z'`, `status:created OR status:running`. Terms next to each other
(or joined by `AND`) must all hold; `OR` separates alternatives (AND binds tighter, no
parentheses). Quoted values may escape quotes with a backslash. A bare word matches the title."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_TERM = re.compile(
    r"""(?:(?P<field>[A-Za-z_.]+):(?P<op>>=|<=|>|<|=)?)?(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)"""
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Term:
    field: str | None
    op: str
    value: str


def parse_groups(query: str | None) -> list[list[Term]]:
    """The query as alternatives (split on OR), each a list of terms that must all hold."""
    groups: list[list[Term]] = [[]]
    for match in _TERM.finditer(query or ""):
        value = match.group("value")
        if match.group("field") is None and value.upper() in ("AND", "OR"):
            if value.upper() == "OR":
                groups.append([])
            continue
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = _ESCAPE.sub(r"\1", value[1:-1])
        groups[-1].append(Term(match.group("field"), match.group("op") or "=", value))
    return [g for g in groups if g] or [[]]


def parse(query: str | None) -> list[Term]:
    """All terms of a query without OR (the single alternative); with OR, every term of every
    alternative (callers needing OR use `parse_groups` / `matches`)."""
    return [term for group in parse_groups(query) for term in group]


def matches(query: str | None, holds: Callable[[list[Term]], bool]) -> bool:
    """True when any alternative of the query holds (`holds` checks one AND-group)."""
    return any(holds(group) for group in parse_groups(query))


def compare(actual: Any, op: str, wanted: str) -> bool:
    """One comparison, numeric when both sides are numbers, as instants when both are ISO times
    (a fraction or an offset on either side: "2026-12-06T19:00:00Z" is "...19:00:00+00:00"; a time
    with no zone is UTC), case-insensitive text otherwise."""
    if actual is None:
        return False
    left: Any = str(actual).lower()
    right: Any = wanted.lower()
    with contextlib.suppress(ValueError):
        left, right = float(left), float(right)
    if isinstance(left, str) and _TIME.match(left) and _TIME.match(right):
        with contextlib.suppress(ValueError):
            left, right = _instant(left), _instant(right)
    if op == "=":
        return left == right
    if op == ">":
        return left > right
    if op == "<":
        return left < right
    if op == ">=":
        return left >= right
    return left <= right


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}")


def _instant(text: str) -> datetime:
    found = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)

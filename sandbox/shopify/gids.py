"""Shopify global ids: `gid://shopify/Kind/123` (InventoryLevel ids carry a query string)."""

from __future__ import annotations

import re

_GID = re.compile(r"^gid://shopify/(?P<kind>[A-Za-z]+)/(?P<num>\d+)(?:\?.*)?$")


def gid(kind: str, num: int) -> str:
    return f"gid://shopify/{kind}/{num}"


def kind_of(value: str) -> str | None:
    """The object kind named by a gid, or None when it is not a gid."""
    match = _GID.match(value or "")
    return match.group("kind") if match else None


def num_of(value: str) -> int | None:
    match = _GID.match(value or "")
    return int(match.group("num")) if match else None

"""Which shop a request is for: the `{shop}.myshopify.com` Host (or X-Forwarded-Host) header."""

from __future__ import annotations

from flask import request

from sandbox.shopify.shops import shop_name


def request_shop() -> str | None:
    """The shop named by the request's forwarded host or host, else None."""
    forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0]
    return shop_name(forwarded) or shop_name(request.headers.get("Host"))

"""Pure: which ERP an address reaches, as far as an address can tell.

Several stores of one chain share one Consinco (its companies, its order numbering): whether two
shops are on the same ERP is a comparison of their ErpConnection base URLs. The rule lives here
(ledger imports neither erp/ nor jobs/) so every caller uses the same one: erp.factory.erp_address
and same_erp (a setup move, jobs.stock_pending's shops sharing stock) and
ledger.order_link_by_hand.shops_on_same_erp (an ERP number linked by hand by another store).

- `normalised`: as the client sends it (one trailing slash), scheme and host in lower case.
- `place`: what identifies the ERP — host (and a port other than a default one) and path; the
  scheme is not (http -> https of one host is the same Consinco, its numbers the same).
  `place_key` is it as one text (ErpConnection.places: the generation of each ERP the shop was on).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = (None, 80, 443)


def normalised(base_url: str) -> str:
    """The address as the client sends it: one trailing slash, scheme and host in lower case."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/") + "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, parts.fragment))


def place(base_url: str) -> tuple[str, str]:
    """(host[:port], path) of an address: equal for two addresses of one ERP, whatever scheme and
    default port they are written with."""
    parts = urlsplit(normalised(base_url))
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # an unreadable port: the address as written is all there is to compare
        return parts.netloc, parts.path
    netloc = host if port in DEFAULT_PORTS else f"{host}:{port}"
    return netloc, parts.path


def place_key(base_url: str) -> str:
    """`place` as one text ("host[:port]/path/"), to key what is kept per ERP in JSON."""
    netloc, path = place(base_url)
    return f"{netloc}{path}"


def same(before: str, after: str) -> bool:
    """Whether two addresses reach the same ERP (see `place`)."""
    return place(before) == place(after)

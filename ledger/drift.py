"""What a reconciliation report found, where a person looks: its message's line on the Messages
list and the Flows page's last run (jobs.reconcile writes the report; shopify_app reads it here,
without importing jobs).

A report's `summary` holds its counts (jobs.reconcile.summary); the drift among them is
`FINDINGS` (orders held in the app, waiting for payment or a mapping, are no drift: their own
messages say so; an order the ERP or Shopify would not show whole is, as `orders_not_checked`: not
compared, so no page may say "nothing out of place" beside it). The findings are the non-zero ones, in
that order; the pages name them in the merchant's language (frontend catalogues "drift.<key>"),
the message's text in English as every other message's (searchable, what the CLI and logs read).
"""

from __future__ import annotations

from typing import Any

FINDINGS = (
    "orders_missing_in_ledger",
    "order_cancellations_enqueued",
    "orders_missing_in_erp",
    "orders_missing_in_shopify",
    "order_totals_differ",
    "order_status_differs",
    "orders_not_checked",
    "stock_differs",
    "skus_missing_in_shopify",
    "orphan_bindings",
    "catalog_differs_in_shopify",
    "prices_differ_in_shopify",
    "list_prices_differ_in_shopify",
    "skus_never_priced",
)


def findings(report: Any) -> dict[str, int]:
    """{finding: count} of a stored report (its message's response), non-zero ones only."""
    summary = report.get("summary") if isinstance(report, dict) else None
    if not isinstance(summary, dict):
        return {}
    counts = {key: summary.get(key) for key in FINDINGS}
    return {key: n for key, n in counts.items() if isinstance(n, int) and not isinstance(n, bool) and n > 0}


def line(found: dict[str, int]) -> str | None:
    """The findings as one line ("drift found: order totals differ 1, ..."); None: none found."""
    if not found:
        return None
    return "drift found: " + ", ".join(f"{key.replace('_', ' ')} {n}" for key, n in found.items())


def stock_fix_unit(company: int, report_id: int) -> str:
    """The stock message's unit of a person's fix of a report's differing levels at a company
    (jobs.stock_fix does it; shopify_app.api_stock_fix begins it)."""
    return f"stock:{company}:fix:{report_id}"


def stock_differ(report: Any, nro_empresa: int) -> tuple[str, list[dict[str, Any]]] | None:
    """The location and the differing rows a stored report lists for a company's stock
    (jobs.reconcile._stock: {"sku", "erp", "shopify"}, the first LISTED of them); None when it
    lists none there (no such company, a closed store, a section not checked, none differing)."""
    stock = report.get("stock") if isinstance(report, dict) else None
    places = stock.get("locations") if isinstance(stock, dict) else None
    for place in places if isinstance(places, list) else []:
        if not isinstance(place, dict) or place.get("nro_empresa") != nro_empresa:
            continue
        rows = place.get("differ")
        found = [r for r in rows if isinstance(r, dict) and r.get("sku")] if isinstance(rows, list) else []
        location = place.get("location_id")
        return (location, found) if found and isinstance(location, str) and location else None
    return None

"""`flask --app app reconcile [--shop DOMAIN] [--latest] [--json]`: the reconciliation report.

Runs jobs.reconcile for the shop (every active shop without --shop) and prints the report a
person reads: the summary counts, then each finding with the ids to look up. `--latest` prints
the last stored report without running; `--json` prints the stored JSON as it is.
Register with `register(app)` (app.py CLI_MODULES).
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask

from jobs import reconcile
from jobs.cli_shops import active_shops, named_shop
from ledger.errors import IntegrationError
from ledger.words import SUFFIX


def register(app: Flask) -> None:
    @app.cli.command("reconcile")
    @click.option("--shop", "domain", default=None, help="shop domain (default: every active shop)")
    @click.option("--latest", is_flag=True, help="print the last stored report without running")
    @click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
    def reconcile_command(domain: str | None, latest: bool, as_json: bool) -> None:
        """Compare Shopify, the ledger and the ERP; import missed orders; print the drift report."""
        # a shop not active is not reconciled (refused, saying why); its last report can be read
        shops = [named_shop(domain, active=not latest)] if domain else active_shops()
        if not shops:
            raise click.ClickException("no active shop")
        failed = []
        for shop_id, shop_domain in shops:
            try:
                report = reconcile.latest(shop_id) if latest else reconcile.run(shop_id)
            except IntegrationError as exc:  # a shop not set up (no ERP connection...): the others still run
                failed.append(shop_domain)
                partial = getattr(exc, "report", None)  # sections that could not be checked: the rest
                if partial is not None:
                    click.echo(json.dumps(partial, indent=2, default=str) if as_json else render(partial))
                    click.echo(f"{shop_domain}: {exc}", err=True)  # "reconciliation incomplete: ..."
                else:
                    click.echo(f"{shop_domain}: reconciliation could not run: {exc}", err=True)
                continue
            if report is None:
                click.echo(f"{shop_domain}: no reconciliation report yet (run without --latest)")
                continue
            if "skipped" in report:  # not run (jobs.shop_served: no ERP connection saved yet)
                failed.append(shop_domain)
                click.echo(f"{shop_domain}: reconciliation could not run: {report['skipped']}", err=True)
                continue
            click.echo(json.dumps(report, indent=2, default=str) if as_json else render(report))
            not_checked = report.get("summary", {}).get("errors") or []
            if not_checked:  # a stored report (--latest) whose sections could not be checked
                failed.append(shop_domain)
                click.echo(
                    f"{shop_domain}: reconciliation incomplete (not checked: {', '.join(not_checked)})",
                    err=True,
                )
        if failed:
            raise click.ClickException(f"could not reconcile {', '.join(failed)}")


# Under a company's differing levels: what puts them right (jobs.stock_fix).
STOCK_FIX = (
    "(a level set by hand in Shopify, a count or another app: an operator sets the listed ones to the "
    "ERP's figure from this report's page in the app, each read again first, a sale made since never "
    "given back)"
)


def render(report: dict[str, Any]) -> str:
    """Pure: the report as text (summary first, then each finding)."""
    if report.get("busy"):
        return "reconciliation already running for this shop"
    lines = [
        f"Reconciliation of {report['shop']} at {report['generated_at']} (orders since {report['since']})"
    ]
    for key, value in report.get("summary", {}).items():
        if key != "errors":
            lines.append(f"  {key.replace('_', ' ')}: {'-' if value is None else value}")
    orders = report.get("orders", {})
    for key, text, why in (  # counted, not drift: the orders section has them (an older report may not)
        ("in_flight_count", "orders in flight", "changed a moment ago or still being processed: the next "
                                                "report judges them"),
        ("placed_before_install_count", "orders placed while the app was not installed",
         "the store's own: not imported"),
    ):  # fmt: skip
        if orders.get(key) is not None:
            lines.append(f"  {text}: {orders[key]} ({why})")
    if orders.get("open_in_erp_count"):  # reconcile.OPEN_SAMPLE a report, in a daily turn
        read, count = orders["open_in_erp_read"], orders["open_in_erp_count"]
        lines.append(f"  orders open in the ERP, older than the window, compared: {read} of {count} "
                     "(the rest in the coming days' turns)")  # fmt: skip
    if dropped := orders.get("not_checked_orders_dropped"):  # past reconcile.CHECK_AGAIN_MAX
        lines.append(f"  orders not read whole, not looked up again: {dropped} (too many not "
                     "checked: the ERP connection's matter, not an order's)")  # fmt: skip
    for name in report.get("summary", {}).get("errors", []):
        lines.append(f"  {name}: could not be checked: {report[name]['error']}")
    cancels = [{"order": gid} for gid in orders.get("cancellations_enqueued") or []]
    lines += _rows("Orders cancelled in Shopify, their cancellation never received (enqueued now)", cancels)
    for title, key in (
        ("Orders in Shopify with no ledger link (import enqueued)", "missing_in_ledger"),
        ("Orders the app holds, not sent to the ERP yet (see their messages)", "held_in_app"),
        ("Orders of the ERP connected before (the connection moved since: not compared)", "of_erp_before"),
        ("Orders missing in the ERP", "missing_in_erp"),
        ("Orders missing in Shopify", "missing_in_shopify"),
        (
            "Orders Shopify does not let the app read (older than 60 days, no read_all_orders): not compared",
            "not_readable_in_shopify",
        ),
        ("Order totals that differ (Shopify vs ERP)", "totals_differ"),
        ("Order status that differs", "status_differs"),
        (
            "Orders the ERP or Shopify would not show whole (not compared today; the next report looks them "
            "up again)",
            "not_checked",
        ),
        ("ERP orders the app does not know", "unknown_in_erp"),
    ):
        lines += _rows(title, orders.get(key) or [])
    for location in report.get("stock", {}).get("locations", []):
        if location.get("note"):  # a closed store: not compared, and why
            lines.append(f"Stock at company {location['nro_empresa']}: {location['note']}")
            continue
        if location.get("error"):  # its read failed: the others compared all the same
            lines.append(f"Stock at company {location['nro_empresa']}: not compared, its stock could not be "
                         f"read: {location['error']}")  # fmt: skip
            continue
        title = (f"Stock differs at company {location['nro_empresa']} ({location['checked']} of "
                 f"{location['bound_with_stock']} SKUs checked today)")  # fmt: skip
        lines += _rows(title, location["differ"])
        if location["differ"]:
            lines.append(f"  {STOCK_FIX}")
        if location.get("unreadable_note"):  # records set aside: their SKUs not compared
            lines.append(f"Stock at company {location['nro_empresa']}: {location['unreadable_note']}")
    catalog = report.get("catalog", {})
    lines += _rows(
        "Active ERP SKUs not in Shopify", [{"sku": s} for s in catalog.get("missing_in_shopify", [])]
    )
    lines += _rows(
        "Active ERP SKUs waiting for Shopify's daily limit on new variants (sent again by themselves)",
        catalog.get("waiting_variant_quota") or [],
    )
    lines += _rows(
        "Active ERP SKUs held out of the sale: weighed products' packagings other than 1 kg (not drift)",
        catalog.get("held_not_kg") or [],
    )
    lines += _rows("Bindings out of step with the ERP", catalog.get("orphan_bindings") or [])
    for key in ("orphan_bindings_note", "skus_unread_note"):  # left out, and why
        if catalog.get(key):
            lines.append(f"Bindings not compared: {catalog[key]}")
    title = f"Catalog differs in Shopify ({catalog.get('shopify_checked', 0)} variants checked today)"
    lines += _rows(title, catalog.get("shopify_differs") or [])
    lines += _rows("Prices that differ (Shopify vs the ERP's, as the prices flow set them)",
                   catalog.get("prices_differ") or [])  # fmt: skip
    title = (f"Market price list prices that differ ({catalog.get('list_prices_checked', 0)} checked today; "
             "sent again by the next prices pass)")  # fmt: skip
    lines += _rows(title, catalog.get("list_prices_differ") or [])
    lines += _rows("SKUs with no price record in the ERP for the store (never priced, held at 0)",
                   catalog.get("never_priced") or [])  # fmt: skip
    if catalog.get("never_priced_note"):
        lines.append(f"SKUs never priced: {catalog['never_priced_note']}")
    return "\n".join(lines)


def _rows(title: str, rows: list[dict[str, Any]]) -> list[str]:
    """A finding's rows, "  - key=value, ..."; a value of several lines (an order's `attention`:
    one note a line) goes on with its lines indented under its row, not at the margin where a
    new section starts."""
    if not rows:
        return []
    return [f"{title}:"] + [
        "  - " + ", ".join(f"{k}={v}" for k, v in _english(row).items()).replace("\n", "\n    ")
        for row in rows
    ]


def _english(value: Any) -> Any:
    """A row without the words kept beside its texts (ledger.words.SUFFIX: the pages' to say)."""
    if isinstance(value, dict):
        return {k: _english(v) for k, v in value.items() if not str(k).endswith(SUFFIX)}
    return value

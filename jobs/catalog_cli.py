"""`flask --app app catalog diff|sync`: the catalog dry run and a sync with a progress bar.

`catalog diff` prints what a sync would create, change and archive (jobs.catalog_diff, nothing
written), then apart what only the full sweep retires and when it runs next, then the store's
prices and each market's price list a sync would send; `catalog sync` runs
the products then the skus flow (`--full`: the initial load, both ERP streams whole through one
bulk operation). `--shop` names the shop; without it the only
active shop is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from jobs.cli_shops import active_shops, named_shop
from ledger.errors import IntegrationError


def _shop_id(domain: str | None) -> int:
    if domain:
        return named_shop(domain)[0]
    shops = active_shops()
    if not shops:
        raise click.ClickException("no active shop")
    if len(shops) > 1:
        names = ", ".join(d for _, d in shops)
        raise click.ClickException(f"several active shops ({names}): choose one with --shop")
    return shops[0][0]


class _Bar:
    """A click progress bar created on the first report (the total is known only then)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, show_pos=True)
            self.bar.__enter__()
        self.bar.update(max(0, done - self.shown))
        self.shown = max(self.shown, done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _summary(name: str, result: dict[str, Any]) -> str:
    if result.get("busy"):
        return f"{name}: skipped, another catalog run holds the shop's catalog"
    parts = [f"{result[k]} {k}" for k in ("created", "changed", "unchanged", "waiting", "failed")]
    if result.get("adopted"):  # of `changed`: found in Shopify without the ERP id (jobs.catalog_adopt)
        parts.insert(2, f"{result['adopted']} of them taken over from Shopify")
    if result.get("quota_held"):  # Shopify's daily limit on new variants (jobs.variant_quota)
        parts.append(
            f"{result['quota_held']} held by Shopify's daily limit on new variants (sent again by itself)"
        )
    return f"{name}: " + ", ".join(parts) + (" (bulk operation)" if result.get("bulk") else "")


def _print_full_sweep(sweep: dict[str, Any]) -> None:
    """The retirements a plain sync does not make (packagings deleted in the ERP), and when."""
    counts = sweep["counts"]
    if not counts["retire"]:
        return
    if sweep["next_run_at"]:
        when = f"the full sweep at {sweep['next_run_at']} (schedule {sweep['schedule']}, UTC)"
    else:
        state = "off" if sweep["schedule"] else "no schedule"
        when = f"the full sweep ({state}: `catalog sync --full` does it now)"
    click.echo(f"{counts['retire']} retire, {counts['archive']} of them archive: not by a sync, by {when}")
    for item in sweep["retire"]:
        status = f" [{item.get('status_before') or '-'} -> {item['status']}]"
        retired = ", ".join(item["retired"])
        click.echo(f"{'retire':8} {item['seq_produto']:>8} {item['title']}{status} {retired}")


FIRST_PRICES_SHOWN = 20  # a first publish prices the whole catalog: a sample of it, --json for more


def _shown_price(price: str | None, compare_at: str | None, none: str = "-") -> str:
    """A price as a person reads it: "7.99 (from 9.49)" with its strike-through."""
    return f"{price or none}" + (f" (from {compare_at})" if compare_at else "")


def _print_prices(part: dict[str, Any]) -> None:
    """The store's prices a sync would send (jobs.price_preview): counts, then each row listed."""
    if "error" in part:
        click.echo(f"prices: not previewed: {part['error']}")
        return
    if not part:
        return
    counts = part["counts"]
    pair = f"company {part['nro_empresa']}, segment {part['nro_segmento']}"
    click.echo(f"prices ({pair}): " + ", ".join(f"{counts[k]} {k}" for k in counts))
    for verdict in ("first", "change", "kept_by_hand"):
        rows = part[verdict][:FIRST_PRICES_SHOWN] if verdict == "first" else part[verdict]
        if len(rows) < counts[verdict]:
            click.echo(f"prices {verdict}: {len(rows)} of {counts[verdict]} shown (--json lists more)")
        for row in rows:
            was = _shown_price(
                (row.get("before") or {}).get("price"), (row.get("before") or {}).get("compare_at")
            )
            now = _shown_price(row["price"], row["compare_at"], none="no price")
            until = f" until {row['promotion_until']}" if row.get("promotion_until") else ""
            sale = "" if row["for_sale"] else " [not for sale]"
            shift = f"{was} -> {now}" if verdict == "change" and "before" in row else now
            click.echo(f"{'price':8} {row['sku']:>10} {verdict}: {shift}{until}{sale}")
    if part.get("before_unread"):
        click.echo(f"prices: Shopify's prices now not read: {part['before_unread']}")


LIST_HOW = {
    "bound": "",
    "adopted": ", the market's own list taken",
    "created": ", a list made by the first sync",
}


def _print_price_lists(part: dict[str, Any]) -> None:
    """Each market's price list a sync would fill (jobs.price_list_preview), then the lists a sync
    empties (their pair no longer mapped)."""
    if "error" in part:
        click.echo(f"price lists: not previewed: {part['error']}")
        return
    for one in part.get("lists", []):
        pair = f"market {one['market_id']}, company {one['nro_empresa']}, segment {one['nro_segmento']}"
        if "error" in one:
            click.echo(f"price list ({pair}): not previewed: {one['error']}")
            continue
        counts = one["counts"]
        made = LIST_HOW.get(one["list"], "")
        click.echo(f"price list ({pair}{made}): " + ", ".join(f"{counts[k]} {k}" for k in counts))
        for verdict in ("first", "change", "kept_by_hand", "no_price"):
            rows = one[verdict][:FIRST_PRICES_SHOWN] if verdict == "first" else one[verdict]
            if len(rows) < counts[verdict]:
                shown = f"{len(rows)} of {counts[verdict]} shown"
                click.echo(f"price list {verdict}: {shown} (--json lists more)")
            for row in rows:
                click.echo(f"{'list':8} {row['sku']:>10} {verdict}: {_list_row(row)}")
        if one.get("before_unread"):
            click.echo(f"price list: the market's prices now not read: {one['before_unread']}")
    for gone in part.get("retiring", []):
        click.echo(
            f"price list {gone['price_list_id']} (market {gone['market_id']}, company {gone['nro_empresa']}, "
            f"segment {gone['nro_segmento']}): no longer mapped, its {gone['fixed_prices']} fixed price(s) "
            "removed by the next sync (the market shows the base prices)"
        )


def _list_row(row: dict[str, Any]) -> str:
    """A list row as a person reads it: the market's fixed price now (when read) -> the ERP's."""
    if row["price"] is None:
        return "no price in the ERP" + (", its fixed price removed" if row.get("removes_fixed") else "")
    now = _shown_price(row["price"], row["compare_at"])
    until = f" until {row['promotion_until']}" if row.get("promotion_until") else ""
    if "before" not in row:
        return now + until
    before = row["before"]
    was = "base price" if before is None else _shown_price(before["price"], before["compare_at"])
    return f"{was} -> {now}{until}"


def register(app: Flask) -> None:
    @app.cli.group("catalog")
    def catalog() -> None:
        """Catalog (products and SKUs, ERP -> Shopify)."""

    @catalog.command("diff")
    @click.option("--shop", "domain", help="shop domain (default: the only active shop)")
    @click.option("--drift", is_flag=True, help="also read Shopify and list bound products that drifted")
    @click.option("--json", "as_json", is_flag=True, help="print the whole result as JSON")
    def diff_command(domain: str | None, drift: bool, as_json: bool) -> None:
        """Print what a sync would create, change and archive, without writing; then the packagings
        only the daily full sweep (or `sync --full`) retires, and when it runs next; then the
        store's prices the prices flow would send (first ones, changes from what Shopify shows), and
        each market's price list (its further company and segment)."""
        from jobs.catalog_diff import compute

        try:
            result = compute(_shop_id(domain), drift=drift)
        except IntegrationError as exc:  # no ERP connection, the ERP or Shopify down: said in one line
            raise click.ClickException(f"catalog diff: {exc.message}") from exc
        if as_json:
            click.echo(json.dumps(result, indent=2, ensure_ascii=False))
            return
        counts = result["counts"]
        verdicts = ("create", "adopt", "conflict", "change", "archive", "unchanged", "waiting")
        click.echo(", ".join(f"{counts[k]} {k}" for k in verdicts if k in counts))
        for verdict in ("create", "adopt", "conflict", "change", "archive", "waiting"):
            for item in result.get(verdict, []):
                what = item.get("title") or item.get("reason", "")
                if verdict == "adopt":  # the Shopify product taken over (jobs.catalog_adopt)
                    what += f" <- {item['existing_title']} ({item['shopify_id']})"
                elif verdict == "conflict":
                    what += f" (Shopify products {', '.join(item['existing'])}: a person decides)"
                status = (
                    f" [{item.get('status_before') or '-'} -> {item['status']}]" if "status" in item else ""
                )
                click.echo(f"{verdict:8} {item['seq_produto']:>8} {what}{status}")
        for item in result.get("drift", []):
            click.echo(f"{'drift':8} {item['seq_produto']:>8} {item['problem']}")
        for item in result.get("unreadable", []):
            click.echo(f"{'unread':8} {item['record']} {item['problem']}")
        _print_full_sweep(result["full_sweep"])
        if "held" in result:
            held = result["held"]
            click.echo(f"{'held':8} {held['count']} packaging(s) missing, not retired: {held['why']}")
        _print_prices(result.get("prices") or {})
        _print_price_lists(result.get("price_lists") or {})

    @catalog.command("sync")
    @click.option("--shop", "domain", help="shop domain (default: the only active shop)")
    @click.option(
        "--full",
        is_flag=True,
        help="read everything from the ERP and push it in one bulk operation (the daily full sweep: "
        "packagings gone from the ERP are retired too)",
    )
    def sync_command(domain: str | None, full: bool) -> None:
        """Run the products and skus flows now, with a progress bar."""
        from jobs import catalog_flow
        from jobs.locks import LockBusy

        shop_id = _shop_id(domain)
        runs: list[tuple[str, Callable[[_Bar], Any]]]
        if full:
            runs = [("full sweep", lambda bar: catalog_flow.initial_load(shop_id, progress=bar))]
        else:
            runs = [
                (flow, lambda bar, flow=flow: catalog_flow.run_flow(shop_id, flow, progress=bar))
                for flow in catalog_flow.FLOWS
            ]
        for name, call in runs:
            bar = _Bar(name)
            try:
                result = call(bar)
            except LockBusy as exc:  # another worker holds the catalog
                raise click.ClickException(
                    f"{name}: the catalog is being synced now (by the scheduler's worker or another "
                    "terminal); run it again once that run ends"
                ) from exc
            except IntegrationError as exc:  # no ERP connection, the ERP or Shopify down: said in one line
                raise click.ClickException(f"{name}: {exc.message}") from exc
            finally:
                bar.close()
            click.echo(_summary(name, result.as_dict()))

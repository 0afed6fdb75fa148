"""Demo step 3: the catalog, ERP -> Shopify: initial load, a burst of ERP changes, the sync, the check.

The flows run in this process (as `catalog sync` would) so the initial load can draw a progress
bar; the webhooks they cause (bulk_operations/finish) go through the app and the worker like any
other. Each flow is looked up by name and skipped with a clear line when it is not there yet, so
the demo grows with the flows instead of breaking on the missing ones.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from erp.client import ErpClient
from jobs.demo_compare import SHOWN, CatalogReport, compare
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.models import Shop
from ledger.shop_settings import effective
from settings import get_settings

log = logging.getLogger(__name__)

SYNC_FLOWS = ("products", "skus", "prices", "stock")


@dataclass
class CatalogOutcome:
    """What step 3 did (the tests assert on it)."""

    loaded: dict[str, Any] = field(default_factory=dict)
    changes: Counter[str] = field(default_factory=Counter)
    synced: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    report: CatalogReport | None = None


def flow_module(name: str) -> Any | None:
    """jobs.<name> when the flow exists (and imports), else None: the demo says it skipped it."""
    try:
        return importlib.import_module(f"jobs.{name}")
    except ImportError as exc:
        log.info("demo: flow %s not available: %s", name, exc)
        return None


def _summary(result: Any) -> Any:
    """A flow's result as something short to print."""
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    elif hasattr(result, "__dataclass_fields__"):
        result = {k: getattr(result, k) for k in result.__dataclass_fields__}
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if v not in (0, None, False, [], {})}
    return result


def initial_load(shop_id: int, echo: Callable[[str], None], show_bar: bool = True) -> dict[str, Any]:
    """The first publish of the whole catalog (one bulk operation), with a progress bar."""
    catalog_flow = flow_module("catalog_flow")
    if catalog_flow is None or not hasattr(catalog_flow, "initial_load"):
        echo("  (flow not available yet: products/SKUs initial load)")
        return {}
    bar: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not show_bar or total <= 0:
            return
        if not bar:
            bar.append(
                click.progressbar(length=total, label="  products -> Shopify", show_pos=True, width=32)
            )
            bar[0].__enter__()
        bar[0].update(done - bar[0].pos)

    started = time.monotonic()
    try:
        result = catalog_flow.initial_load(shop_id, progress=progress)
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
    summary = _summary(result)
    echo(f"  initial load: {summary} in {time.monotonic() - started:.1f} s")
    return summary if isinstance(summary, dict) else {"result": summary}


def run_flows(
    shop_id: int,
    names: tuple[str, ...],
    echo: Callable[[str], None],
    skipped: list[str],
    failed: dict[str, str],
) -> dict[str, Any]:
    """One pass of each flow, in order, timed; a missing flow is skipped and named, a failing one
    is shown with its error and the demo goes on."""
    results: dict[str, Any] = {}
    for name in names:
        module = flow_module(name)
        if module is None or not hasattr(module, "run"):
            echo(f"  {name:<9} (flow not available yet)")
            if name not in skipped:
                skipped.append(name)
            continue
        echo(f"  {name:<9} running ...")
        started = time.monotonic()
        try:
            results[name] = _summary(module.run(shop_id))
        except Exception as exc:  # the demo goes on to show the rest; the traceback is in the log
            log.exception("demo: flow %s failed", name)
            failed[name] = f"{type(exc).__name__}: {exc}"
            echo(f"  {name:<9} FAILED: {failed[name]} (traceback in the log)")
            continue
        echo(f"  {name:<9} {results[name]}  ({time.monotonic() - started:.1f} s)")
    return results


def erp_burst(erp_handle: Any, changes: int) -> Counter[str]:
    """`changes` random ERP changes of a supermarket's day (prices, promotions, stock, a product
    leaving the e-commerce), made by the Consinco sandbox's simulator; counted by kind."""
    made = erp_handle.erp.simulator.step(changes)
    return Counter(change.kind for change in made)


KIND_NAMES = {
    "preco": "price changes",
    "promocao_inicio": "promotions started",
    "promocao_fim": "promotions ended",
    "estoque": "stock movements",
    "desativacao": "products leaving the e-commerce",
}


def check(erp_handle: Any, shopify_handle: Any, shop: str, shop_id: int, setup: Any) -> CatalogReport:
    """Read both sides now and compare (see jobs.demo_compare)."""
    from sandbox.shopify.state_dump import dump

    with session_scope() as session:
        row = session.get(Shop, shop_id)
        inactive = str(effective(row)["inactive_sku_status"]) if row is not None else "DRAFT"
    client = ErpClient(erp_handle.url, "ecommerce", "consinco")
    try:
        return compare(
            client,
            dump(shopify_handle.sandbox, shop),
            shop_id,
            (setup.nro_empresa, setup.nro_segmento),
            {nro: name for nro, (_gid, name) in setup.locations.items()},
            erp_today(get_settings().erp_timezone),
            inactive,
        )
    finally:
        client.close()


def print_report(report: CatalogReport, echo: Callable[[str], None]) -> None:
    echo(f"  {'':<14}{'ERP':>10}{'Shopify':>10}")
    for label, attr in (
        ("products", "products"),
        ("variants", "variants"),
        ("prices", "prices"),
        ("stock levels", "levels"),
    ):
        echo(f"  {label:<14}{getattr(report.erp, attr):>10}{getattr(report.shopify, attr):>10}")
    echo(
        f"  ({report.promotions} variants on promotion with compare-at price, "
        f"{report.draft} products not active)"
    )
    if report.total_differences == 0:
        echo("  Shopify vs ERP: 0 differences")
        return
    echo(f"  Shopify vs ERP: {report.total_differences} differences")
    for kind, items in report.differences.items():
        for item in items[:SHOWN]:
            echo(f"    {kind}: {item}")
        if len(items) > SHOWN:
            echo(f"    {kind}: ... and {len(items) - SHOWN} more")


def run_catalog(
    stack: Any, shop_id: int, setup: Any, echo: Callable[[str], None], burst: int
) -> CatalogOutcome:
    """Load, change, sync, check."""
    outcome = CatalogOutcome()
    outcome.loaded = initial_load(shop_id, echo)
    outcome.loaded.update(run_flows(shop_id, ("prices", "stock"), echo, outcome.skipped, outcome.failed))
    if burst > 0:
        outcome.changes = erp_burst(stack.erp, burst)
        made = ", ".join(f"{n} {KIND_NAMES.get(k, k)}" for k, n in sorted(outcome.changes.items()))
        echo(f"  ERP burst: {sum(outcome.changes.values())} changes ({made})")
        echo("  syncing the changes:")
        outcome.synced = run_flows(shop_id, SYNC_FLOWS, echo, outcome.skipped, outcome.failed)
    outcome.report = check(stack.erp, stack.shopify, stack.options.shop, shop_id, setup)
    print_report(outcome.report, echo)
    return outcome

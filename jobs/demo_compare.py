"""The demo's catalog check: Shopify (the sandbox's own state) against the ERP (read now).

Why the demo computes this itself: "0 differences" must be measured from both systems, not from
the ledger that recorded what was sent. Shopify's side is the sandbox's state dump (what a
merchant sees in the admin); the ERP's side is read through the ERP client and turned into what
Shopify should show with the flows' pure mapping rules (catalog_map, price_map, stock_map), so a
rule and its result are judged apart: a flow that skipped, lost or mis-sent anything shows here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from erp.client import ErpClient
from jobs.catalog_map import cache_product, cache_sku, map_product
from jobs.price_map import PriceState, money, target_price, unit_factor
from jobs.stock_map import SkuUnit, level_target, sellable_base
from ledger import bindings
from ledger.db import session_scope

SHOWN = 5  # differences listed per kind


@dataclass
class Side:
    """Counts on one side."""

    products: int = 0
    variants: int = 0
    prices: int = 0
    levels: int = 0


@dataclass
class CatalogReport:
    """Both sides' counts and every difference found, by kind."""

    erp: Side = field(default_factory=Side)
    shopify: Side = field(default_factory=Side)
    differences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    promotions: int = 0
    draft: int = 0

    @property
    def total_differences(self) -> int:
        return sum(len(v) for v in self.differences.values())


def compare(
    erp: ErpClient,
    state: dict[str, Any],
    shop_id: int,
    store: tuple[int, int],
    locations: dict[int, str],
    today: date,
    inactive_status: str = "DRAFT",
) -> CatalogReport:
    """Compare products (status, variants), prices at the store's company+segment and stock per
    company at its mapped location (`locations`: nro_empresa -> location name)."""
    report = CatalogReport()
    products = {p.seq_produto: cache_product(p) for p in erp.products()}
    skus_by_product: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sku in erp.skus():
        skus_by_product[sku.seq_produto].append(cache_sku(sku))
    shopify_products = {
        int(p["metafields"]["consinco.seq_produto"]): p
        for p in state["products"]
        if "consinco.seq_produto" in p["metafields"]
    }
    variants = {v["sku"]: v for p in state["products"] for v in p["variants"]}
    items = list(erp.price_items(None, *store))
    off_sale = {item.id_sku for item in items if not PriceState.from_item(item).sale_active}
    active = _compare_products(report, products, skus_by_product, shopify_products, inactive_status, off_sale)
    with session_scope() as session:
        data = {
            k: dict(b.data or {})
            for k, b in bindings.get_many(session, shop_id, "variant", list(variants)).items()
        }
    sale = _compare_prices(report, items, variants, data, today)
    # Not for sale: an inactive packaging or product (catalog rule), sale status 'I' (price rule), or
    # no price record at the store's (company, segment): never priced, held at 0 (jobs.stock_map.for_sale).
    sale = {sku: sale.get(sku, False) and active.get(sku, True) for sku in set(sale) | set(active)}
    for company, location in sorted(locations.items()):
        _compare_stock(report, erp, company, location, variants, data, sale)
    return report


def _compare_products(
    report: CatalogReport,
    products: dict[int, dict[str, Any]],
    skus: dict[int, list[dict[str, Any]]],
    shopify: dict[int, dict[str, Any]],
    inactive_status: str,
    off_sale: set[str],
) -> dict[str, bool]:
    """Counts and differences of products and variants; returns SKU -> active per the ERP
    (`off_sale`: statusVenda 'I' at the store, which makes a SKU inactive as jobs.catalog_map says)."""
    diffs = report.differences
    active: dict[str, bool] = {}
    for seq, product in products.items():
        if not skus.get(seq):
            continue  # a product without packaging has nothing to sell
        mapped = map_product(product, skus[seq], inactive_status, off_sale)
        active.update({s["id_sku"]: bool(s["active"]) for s in mapped.skus})
        report.erp.products += 1
        report.erp.variants += len(mapped.skus)
        report.draft += mapped.status != "ACTIVE"
        found = shopify.get(seq)
        if found is None:
            diffs["products"].append(f"product {seq} missing in Shopify")
            continue
        if found["status"] != mapped.status:
            diffs["products"].append(f"product {seq}: Shopify {found['status']}, ERP says {mapped.status}")
        wanted = {s["id_sku"] for s in mapped.skus}
        have = {v["sku"] for v in found["variants"]}
        for sku in sorted(wanted - have):
            diffs["variants"].append(f"{sku} missing in Shopify")
        for sku in sorted(have - wanted):
            diffs["variants"].append(f"{sku} in Shopify but not in the ERP")
    report.shopify.products = len(shopify)
    report.shopify.variants = sum(len(p["variants"]) for p in shopify.values())
    for seq in sorted(set(shopify) - {s for s in products if skus.get(s)}):
        diffs["products"].append(f"product {seq} in Shopify but not in the ERP")
    return active


def _compare_prices(
    report: CatalogReport,
    items: list[Any],
    variants: dict[str, dict[str, Any]],
    data: dict[str, dict[str, Any]],
    today: date,
) -> dict[str, bool]:
    """Prices at the store's (company, segment); returns SKU -> for sale (the stock rule needs it)."""
    sale: dict[str, bool] = {}
    for item in items:
        state = PriceState.from_item(item)
        sale[item.id_sku] = state.sale_active
        variant = variants.get(item.id_sku)
        if variant is None:
            continue  # reported as a missing variant already (or the SKU is not published)
        report.erp.prices += 1
        target = target_price(state, today, unit_factor(data.get(item.id_sku)))
        if target.price is None:  # no price in the ERP: none sent, off sale (the stock rule's `sale`)
            continue
        report.promotions += target.compare_at is not None
        shown = (_money(variant["price"]), _money(variant["compareAtPrice"]))
        wanted = (money(target.price), money(target.compare_at))
        if shown[0] is not None:
            report.shopify.prices += 1
        if shown != wanted:
            report.differences["prices"].append(
                f"{item.id_sku}: Shopify {shown[0]} (compare-at {shown[1]}), "
                f"ERP {wanted[0]} (compare-at {wanted[1]})"
            )
    return sale


def _compare_stock(
    report: CatalogReport,
    erp: ErpClient,
    company: int,
    location: str,
    variants: dict[str, dict[str, Any]],
    data: dict[str, dict[str, Any]],
    sale: dict[str, bool],
) -> None:
    for stock in erp.stock(None, company):
        base = sellable_base(stock)
        for sku_stock in stock.skus:
            variant = variants.get(sku_stock.id_sku)
            unit = SkuUnit.from_binding(sku_stock.id_sku, data.get(sku_stock.id_sku))
            if variant is None or unit is None:
                continue
            # No price for the store's company/segment: not for sale (jobs.stock), held at 0.
            target = level_target(base, Decimal(0), unit, for_sale=sale.get(sku_stock.id_sku, False))
            if target.quantity is None:
                continue  # no stock control: sold without limit, the level is not the integration's
            report.erp.levels += 1
            level = (variant["inventory"].get(location) or {}).get("available")
            if level is not None:
                report.shopify.levels += 1
            if level != target.quantity:
                report.differences["stock"].append(
                    f"{sku_stock.id_sku} at {location}: Shopify {level}, ERP {target.quantity}"
                )


def _money(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):  # MoneyV2 shape
        value = value.get("amount")
    return money(Decimal(str(value)))

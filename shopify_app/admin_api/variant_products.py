"""The product status, price and compare-at price of up to 250 variants in one `nodes(ids:)` call
(the reconciliation's catalog check; the prices flow's look at a refused first price settled by
hand), with the variant's SKU and barcode and the other product fields the ERP owns (title,
vendor, product type, description: scalars, which cost no points).

Why its own module: like stock_ops' levels read, a lean read for a daily sample of the catalog
(2 points a variant), kept out of the shared catalog operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.results import owned_fields

MAX_VARIANTS_PER_CALL = 250


@dataclass(frozen=True)
class VariantProduct:
    """One variant Shopify knows, with its product's id and status (ACTIVE, DRAFT, ARCHIVED) and
    its price and compare-at price (decimal strings; "" when Shopify gave none: no compare-at), its
    SKU and barcode ("" for none) and its product's results.OWNED_PRODUCT_FIELDS (`owned`)."""

    variant_id: str
    product_id: str
    status: str
    price: str = ""
    compare_at: str = ""
    sku: str = ""
    barcode: str = ""
    owned: dict[str, str] = field(default_factory=dict)


def variant_products(client: AdminClient, variant_ids: Sequence[str]) -> dict[str, VariantProduct]:
    """{variant id: its product} for the variants Shopify still has (a deleted one is absent)."""
    if not 0 < len(variant_ids) <= MAX_VARIANTS_PER_CALL:
        raise ValueError(f"variant_products takes 1..{MAX_VARIANTS_PER_CALL} ids")
    data = client.executor.query("VariantProducts", {"ids": list(variant_ids)})
    found: dict[str, VariantProduct] = {}
    for node in data.get("nodes") or []:
        if not node or "id" not in node or not node.get("product"):
            continue
        product = node["product"]
        found[node["id"]] = VariantProduct(
            node["id"],
            product["id"],
            str(product.get("status") or ""),
            str(node.get("price") or ""),
            str(node.get("compareAtPrice") or ""),
            str(node.get("sku") or ""),
            str(node.get("barcode") or ""),
            owned_fields(product),
        )
    return found

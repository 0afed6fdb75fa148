"""Edits made by hand in Shopify: the fields the ERP owns, as Shopify holds them, against what
the app sends (the input jobs.catalog_map builds). Pure.

Why: a product's digest says what the app last sent, not what Shopify holds now. A title a
person edits in Shopify leaves the digest unchanged, so no pass sends the product again, until
an unrelated ERP field changes and overwrites the edit at a random later time. The ERP owns the
catalog (issue 6): `catalog diff --drift` names these fields (read-only), and the
reconciliation's daily sample names them and has the products sent again
(jobs.catalog_ledger.forget_sent).

Compared: the product's title, status, vendor, productType and descriptionHtml (by its text, as
Shopify may write markup back its own way), and each variant's SKU and barcode. Whitespace at
the ends and runs of it are not a difference. Not compared: weights (an inventory item's
measurement costs the read an object more per variant), options, inventoryPolicy (the stock
flow's), and what other flows or the merchant own (prices, tags, metafields).

Only a product the app would not send anyway is compared (its digest unchanged): one the ERP
changed is sent by the next pass regardless, and differs from Shopify by the ERP's change.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from shopify_app.admin_api.results import OWNED_PRODUCT_FIELDS

_TAG = re.compile(r"<[^>]*>")


def product_differs(sent: Mapping[str, Any], shopify: Mapping[str, str]) -> list[str]:
    """The product fields (input names) Shopify holds otherwise than `sent` (a ProductSetInput);
    a field the read did not ask for is not compared."""
    return [
        name
        for name in OWNED_PRODUCT_FIELDS
        if name in shopify and _norm(name, sent.get(name)) != _norm(name, shopify[name])
    ]


def variant_differs(sent: Mapping[str, Any], id_sku: str, sku: str | None, barcode: str | None) -> list[str]:
    """The fields of the variant bound to `id_sku` that Shopify holds otherwise than `sent` (its
    product's ProductSetInput): "sku of P5E1", "barcode of P5E1". Nothing when the input has no
    such variant."""
    variant = next(
        (v for v in sent.get("variants") or () if (v.get("inventoryItem") or {}).get("sku") == id_sku), None
    )
    if variant is None:
        return []
    found = []
    if _norm("sku", sku) != id_sku:
        found.append(f"sku of {id_sku}")
    if _norm("barcode", barcode) != _norm("barcode", variant.get("barcode")):
        found.append(f"barcode of {id_sku}")
    return found


def _norm(name: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if name == "descriptionHtml":
        text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())

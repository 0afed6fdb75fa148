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

from ledger.words import Words
from shopify_app.admin_api.results import OWNED_PRODUCT_FIELDS

_TAG = re.compile(r"<[^>]*>")
# A field named as the functions below name it, as words (shopify_app.reconcile_words): a product's
# field by its input name, a variant's "<field> of <SKU>".
_FIELD_WORDS = {
    "title": "recon_field_title",
    "status": "recon_field_status",
    "vendor": "recon_field_vendor",
    "productType": "recon_field_product_type",
    "descriptionHtml": "recon_field_description",
}
_VARIANT_FIELD = re.compile(r"^(sku|barcode) of (.+)$")


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


def field_words(field: str) -> Words:
    """The words of a field as `product_differs` or `variant_differs` name it (one they do not
    name: a key no catalogue has, so the page shows the English)."""
    variant = _VARIANT_FIELD.match(field)
    if variant is not None:
        key = "recon_field_sku_of" if variant.group(1) == "sku" else "recon_field_barcode_of"
        return key, {"sku": variant.group(2)}
    return _FIELD_WORDS.get(field, "recon_field_unknown"), {}


def _norm(name: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if name == "descriptionHtml":
        text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())

"""The fixed prices a price list holds for some variants (the catalog dry run's price lists part,
jobs.price_list_preview: what a market shows now beside what a sync would send).

Why its own module: a lean read for a preview, by the `query` filter PriceList.prices takes
("variant_id:<n> OR ..."), kept out of the shared catalog operations. 50 variants a call: the
filter's terms stay short and the call's cost small (one page of 50 prices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopify_app.admin_api.client import AdminClient

VARIANTS_PER_CALL = 50


@dataclass(frozen=True)
class FixedPrice:
    """A variant's fixed price on a list (decimal strings; compare_at "" when it has none)."""

    price: str
    compare_at: str = ""


class PriceListGone(LookupError):
    """The list is not in Shopify any more (deleted in the admin): a sync makes it again."""


def fixed_prices(
    client: AdminClient, price_list_id: str, variant_ids: Sequence[str]
) -> dict[str, FixedPrice]:
    """{variant id: its fixed price} for those of `variant_ids` the list holds one for (a variant
    absent: the market shows its base price). Raises PriceListGone."""
    found: dict[str, FixedPrice] = {}
    ids = list(dict.fromkeys(variant_ids))
    for start in range(0, len(ids), VARIANTS_PER_CALL):
        chunk = ids[start : start + VARIANTS_PER_CALL]
        terms = " OR ".join(f"variant_id:{gid.rsplit('/', 1)[-1]}" for gid in chunk)
        data = client.executor.query(
            "PriceListPrices", {"id": price_list_id, "query": terms, "first": len(chunk)}
        )
        price_list = data.get("priceList")
        if not price_list:
            raise PriceListGone(price_list_id)
        for node in (price_list.get("prices") or {}).get("nodes") or []:
            variant = (node or {}).get("variant") or {}
            if variant.get("id") in chunk:
                compare = node.get("compareAtPrice") or {}
                found[variant["id"]] = FixedPrice(
                    str((node.get("price") or {}).get("amount") or ""), str(compare.get("amount") or "")
                )
    return found

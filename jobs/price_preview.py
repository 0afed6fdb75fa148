"""The store's prices previewed (the catalog dry run's `prices` part): what the prices flow would
send on a whole read of the store's (company, segment), and what Shopify shows now where it would
change a price. Nothing is written.

Why: the company and segment the store is linked to decide every price it shows (a chain prices
its stores apart); before the first publish, and before a store link is changed, the merchant sees
the prices that choice gives, promotions included, and after it which prices differ from Shopify's.

How: the pair's price records read whole (erp price_items, as the daily sweep reads them), each
SKU's target by the prices flow's own rule (jobs.price_map.target_price: a running promotion's price
with the normal one struck through; no price, or statusVenda 'I', not for sale), compared with what
the flow last sent (the "price" binding's digest, for the variant it was sent to). Verdicts:
`first` (never priced in Shopify: the variant is not created yet, waits for its first price, or
was replaced), `change`, `kept_by_hand` (a price a person settled in Shopify after Shopify refused
the ERP's, which the flow leaves while the ERP means the same: jobs.price_map.still_settled) and
`unchanged` (counted only). A changed row carries Shopify's price and compare-at now (`before`, one
read of up to 250 variants a call); Shopify unreachable, the rows stand without it and `before_unread`
says why. The further (company, segment) pairs' price lists: jobs.price_list_preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from erp.client import ErpClient
from jobs.price_map import (
    WANTED_SALE_ACTIVE,
    PriceState,
    money,
    promotion_running,
    still_settled,
    target_price,
)
from jobs.price_map import unit_factor as variant_unit_factor
from ledger import bindings
from ledger.bindings import PRICE_KIND, VARIANT_KIND
from ledger.db import session_scope
from ledger.errors import IntegrationError, MappingMissing
from ledger.mappings import store_link
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.variant_products import MAX_VARIANTS_PER_CALL, variant_products

LISTED = ("first", "change", "kept_by_hand")


def preview(
    shop_id: int,
    erp_client: ErpClient,
    client: AdminClient | None,
    today: date,
    limit: int,
    *,
    adopted: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The prices part of the dry run (module docstring); lists cut to `limit` rows, counts whole.
    `adopted`: variants the sync would take over from an earlier connector (idSku -> variant gid,
    jobs.catalog_adopt): live at a price the prices flow's first one replaces, so a `change` with
    Shopify's price now, not a `first`. {"error": ...} when the store has no (company, segment)
    link yet."""
    adopted = adopted or {}
    with session_scope() as session:
        try:
            link = store_link(session, shop_id)
        except MappingMissing as exc:
            return {"error": str(exc)}
        company, segment = link.nro_empresa, link.nro_segmento
    read = erp_client.price_items(None, company, segment)
    read.keep_malformed = True  # a record the client cannot read is counted, as the flow sets it aside
    states = {item.id_sku: PriceState.from_item(item) for item in read}
    with session_scope() as session:
        variants = {k: (b.shopify_id, dict(b.data or {})) for k, b in
                    bindings.get_many(session, shop_id, VARIANT_KIND, states).items()}  # fmt: skip
        sent = {k: (b.shopify_id, b.digest, dict(b.data or {})) for k, b in
                bindings.get_many(session, shop_id, PRICE_KIND, states).items()}  # fmt: skip
    counts = {"first": 0, "change": 0, "kept_by_hand": 0, "unchanged": 0, "unreadable": len(read.malformed)}
    lists: dict[str, list[dict[str, Any]]] = {verdict: [] for verdict in LISTED}
    for id_sku in sorted(states):
        state = states[id_sku]
        variant_id, variant_data = variants.get(id_sku, (None, {}))
        factor = variant_unit_factor(variant_data)
        target = target_price(state, today, factor)
        verdict = _verdict(sent.get(id_sku), variant_id, state, target.digest(), today)
        if verdict == "first" and variant_id is None and id_sku in adopted:
            verdict, variant_id = "change", adopted[id_sku]
        counts[verdict] += 1
        if verdict == "unchanged" or len(lists[verdict]) >= limit:
            continue
        row = {
            "sku": id_sku,
            "seq_produto": state.seq_produto,
            "price": money(target.price),
            "compare_at": money(target.compare_at),
            "for_sale": target.for_sale,
            "promotion_until": (
                state.promo_end.isoformat()
                if target.compare_at is not None and state.promo_end is not None
                and promotion_running(state, today, factor)
                else None
            ),
        }  # fmt: skip
        if verdict != "first":
            row["variant_id"] = variant_id
        lists[verdict].append(row)
    result: dict[str, Any] = {"nro_empresa": company, "nro_segmento": segment, "counts": counts, **lists}
    if client is not None and lists["change"]:
        result.update(_before(client, lists["change"]))
    return result


def _verdict(sent: Any, variant_id: str | None, state: PriceState, digest: str, today: date) -> str:
    """What the prices flow would do with the SKU's price (module docstring; jobs.prices: a price
    Shopify refused is kept due with no digest, and one a person then settled by hand stays while
    the ERP means the same, `_settled_by_hand`)."""
    if sent is not None and sent[0] is not None and sent[1] is None and _settled(sent[2], state, today):
        return "kept_by_hand"
    if variant_id is None or sent is None or sent[0] != variant_id or sent[2].get("awaiting_price"):
        return "first"
    return "unchanged" if sent[1] == digest else "change"


def _settled(data: dict[str, Any], state: PriceState, today: date) -> bool:
    return WANTED_SALE_ACTIVE in data and still_settled(data, state, today)


def _before(client: AdminClient, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Shopify's price and compare-at now on each changed row (`before`); when Shopify cannot say,
    {"before_unread": why} and the rows as they are."""
    ids = [row["variant_id"] for row in rows]
    try:
        seen = {}
        for start in range(0, len(ids), MAX_VARIANTS_PER_CALL):
            seen.update(variant_products(client, ids[start : start + MAX_VARIANTS_PER_CALL]))
    except IntegrationError as exc:
        return {"before_unread": str(exc)}
    for row in rows:
        found = seen.get(row["variant_id"])
        row["before"] = (
            None if found is None else {"price": found.price or None, "compare_at": found.compare_at or None}
        )
    return {}

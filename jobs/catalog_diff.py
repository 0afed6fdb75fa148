"""The catalog dry run: what a sync would create, change and archive, without writing anything.

Reads both ERP streams whole (ProdutoCV, ProdutoSku), lays them over the ledger cache in memory
(jobs.catalog_cache.preview), retires the packagings the ERP no longer lists as a full sync does
(jobs.catalog_cache.missing, checked by jobs.catalog_unlisted: on a read that proves nothing
absent, or too many missing, none is retired and `held` says how many and why), maps every
product and compares its digest with the "product" binding (what was last sent). Nothing is
written to Shopify, the cache, bindings, messages or watermarks. `drift=True` also reads each
bound product back from Shopify and lists those that no longer exist there (deleted by hand),
whose variant count differs, or, for a product the sync would not send (unchanged), whose fields
the ERP owns Shopify holds otherwise than the app sends them (edited by hand: jobs.catalog_drift;
the entry's `fields` names them). It only reports: the reconciliation sends such products again.

Contract with the admin API (shopify_app/api_catalog_diff.py): `run(shop_id)` runs as an RQ job
and stores its JSON result at Redis key `catalog_diff:<shop_id>:<job_id>` (one day), job_id =
its own RQ job id. The result: {"counts": {create, change, archive, unchanged, waiting},
"create": [...], "change": [...], "archive": [...], "waiting": [...], "drift": [{seq_produto,
problem, fields?}]} (lists cut to LIST_LIMIT items; counts are complete), plus "held": {count,
why, skus} when the packagings missing would be held for a person rather than retired.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from typing import Any

import erp
from jobs import catalog_cache, catalog_drift, catalog_malformed, catalog_unlisted
from jobs import catalog_ledger as cl
from jobs.catalog_map import ACTIVE, cache_product, cache_sku, custom_id
from ledger import bindings
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import utcnow
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.results import ProductRef

log = logging.getLogger(__name__)

RESULT_TTL_SECONDS = 24 * 3600
LIST_LIMIT = 500


def result_key(shop_id: int, job_id: str) -> str:
    return f"catalog_diff:{shop_id}:{job_id}"


def compute(shop_id: int, *, drift: bool = False, client: AdminClient | None = None) -> dict[str, Any]:
    """The dry run's result (nothing written anywhere)."""
    erp_client = erp.for_shop(shop_id)
    products_read, skus_read = erp_client.products(None), erp_client.skus(None)
    # As the sync: a record the client cannot read is set aside and named, the rest previewed.
    products_read.keep_malformed = skus_read.keep_malformed = True
    products = [cache_product(p) for p in products_read]
    skus = [cache_sku(s) for s in skus_read]
    unreadable = [
        catalog_malformed.describe(flow, raw, exc, erp_client.names)
        for flow, read_ in (("products", products_read), ("skus", skus_read))
        for raw, exc in read_.malformed
    ]
    unread = catalog_malformed.unread_products(skus_read, erp_client.names)
    with session_scope() as session:
        ctx = cl.load_context(session, shop_id)
        entries = catalog_cache.preview(session, shop_id, products, skus)
        # Both streams read whole, as `catalog sync --full` does: the same packagings retired.
        read: dict[int, set[str]] = defaultdict(set)
        for sku in skus:
            read[int(sku["seq_produto"])].add(sku["id_sku"])
        held = catalog_unlisted.Sweep()
        if None not in unread and skus_read.complete:  # retired only once their absence is proven
            missing = catalog_cache.missing(entries, {int(p["seq_produto"]) for p in products}, read, unread)
            held = catalog_unlisted.sweep(shop_id, erp_client, skus_read, missing, entries, confirmed=())
            catalog_cache.retire(entries, held.gone)  # (its message is the sync's to write, not written)
        seqs = sorted(entries)
        planned = cl.plan(session, ctx, seqs, entries=entries)
        sent = bindings.get_many(session, shop_id, cl.PRODUCT_KIND, (str(s) for s in seqs))
        # What the sync would not send: compared with what Shopify holds (drift).
        unchanged = {
            str(item.seq_produto): item.mapped.input
            for item in planned
            if drift and item.verdict == "unchanged" and item.mapped is not None
        }
        skus_sent = (v["inventoryItem"]["sku"] for item in unchanged.values() for v in item["variants"])
        variants = bindings.get_many(session, shop_id, bindings.VARIANT_KIND, skus_sent)
        skus_by_variant = {b.shopify_id: b.erp_id for b in variants.values() if b.shopify_id}
    lists: dict[str, list[dict[str, Any]]] = {"create": [], "change": [], "archive": [], "waiting": []}
    counts = {"create": 0, "change": 0, "archive": 0, "unchanged": 0, "waiting": 0}
    for item in planned:
        verdict = item.verdict
        if (
            verdict == "change"
            and item.mapped is not None
            and item.was_active
            and item.mapped.status != ACTIVE
        ):
            verdict = "archive"
        counts[verdict] += 1
        if verdict == "unchanged" or len(lists[verdict]) >= LIST_LIMIT:
            continue
        entry: dict[str, Any] = {"seq_produto": item.seq_produto}
        if item.mapped is not None:
            binding = sent.get(str(item.seq_produto))
            entry.update(
                title=item.mapped.input["title"],
                status=item.mapped.status,
                status_before=(binding.data or {}).get("status") if binding is not None else None,
                skus=[s["id_sku"] for s in item.mapped.skus],
                shopify_id=binding.shopify_id if binding is not None else None,
            )
        else:
            entry["reason"] = item.reason
        lists[verdict].append(entry)
    result: dict[str, Any] = {
        "generated_at": utcnow().isoformat(),
        "counts": {**counts, "unreadable": len(unreadable)},
        **lists,
        "unreadable": [{"record": m.unit_key, "problem": m.error.message} for m in unreadable[:LIST_LIMIT]],
    }
    if held.held:
        result["held"] = {"count": len(held.held), "why": held.why, "skus": held.held[:LIST_LIMIT]}
    if drift:
        owned = client is None
        client = client or for_shop(ctx.shop_domain, lane="background")
        try:
            result["drift"] = _drift(ctx, sent, client, unchanged, skus_by_variant)
        finally:
            if owned:
                client.close()  # its HTTP connections, not left to the garbage collector
    return result


def _drift(
    ctx: cl.CatalogContext,
    sent: dict[str, Any],
    client: AdminClient,
    unchanged: dict[str, dict[str, Any]],
    skus_by_variant: dict[str, str],
) -> list[dict[str, Any]]:
    """Bound products missing in Shopify, with another number of variants, or (those in
    `unchanged`: {seqProduto: the input the sync would not send again}) with fields the ERP owns
    edited in Shopify (one read each). `skus_by_variant`: {variant id: its SKU}, the bindings."""
    found: list[dict[str, Any]] = []
    for erp_id, binding in sorted(sent.items(), key=lambda kv: int(kv[0])):
        if binding.shopify_id is None:
            continue
        namespace, key, value = custom_id(erp_id)
        product = client.product_by_custom_id(namespace, key, value)
        expected = len((binding.data or {}).get("skus") or [])
        if product is None:
            found.append({"seq_produto": int(erp_id), "problem": "missing in Shopify"})
            continue
        problems = []
        if len(product.variants) != expected:
            problems.append(f"{len(product.variants)} variants, {expected} expected")
        fields = _edited(unchanged.get(erp_id), product, skus_by_variant)
        if fields:
            problems.append("edited in Shopify: " + ", ".join(fields))
        if problems:
            found.append({"seq_produto": int(erp_id), "problem": "; ".join(problems)}
                         | ({"fields": fields} if fields else {}))  # fmt: skip
        if len(found) >= LIST_LIMIT:
            break
    return found


def _edited(
    sent_input: dict[str, Any] | None, product: ProductRef, skus_by_variant: dict[str, str]
) -> list[str]:
    """The fields the ERP owns that Shopify holds otherwise than `sent_input` (None: not compared)."""
    if sent_input is None:
        return []
    fields = catalog_drift.product_differs(sent_input, product.owned)
    for variant in product.variants:
        id_sku = skus_by_variant.get(variant.id)
        if id_sku is not None:
            fields += catalog_drift.variant_differs(sent_input, id_sku, variant.sku, variant.barcode)
    return fields


def run(shop_id: int, job_id: str | None = None, *, drift: bool = False) -> dict[str, Any]:
    """The RQ job: compute and store the result where the admin API reads it; returns it too."""
    if job_id is None:
        from rq import get_current_job

        job = get_current_job()
        job_id = job.id if job is not None else f"catalog-diff-{shop_id}-{secrets.token_hex(6)}"
    result = compute(shop_id, drift=drift)
    result["job_id"] = job_id
    get_redis().set(result_key(shop_id, job_id), json.dumps(result), ex=RESULT_TTL_SECONDS)
    log.info("catalog diff for shop %s: %s", shop_id, result["counts"], extra={"shop_id": shop_id})
    return result

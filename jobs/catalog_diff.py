"""The catalog dry run: what a sync would create, change and archive, without writing anything;
and apart, what only the daily full sweep (jobs.catalog_full) retires, with when it runs next.

Reads both ERP streams whole (ProdutoCV, ProdutoSku), lays them over the ledger cache in memory
(jobs.catalog_cache.preview), finds the packagings the ERP no longer lists as a full sync does
(jobs.catalog_cache.missing, checked by jobs.catalog_unlisted: on a read that proves nothing
absent, or too many missing, none is retired and `held` says how many and why), maps every
product and compares its digest with the "product" binding (what was last sent). Nothing is
written to Shopify, the cache, bindings, messages or watermarks. `drift=True` also reads each
bound product back from Shopify and lists those that no longer exist there (deleted by hand),
whose variant count differs, or, for a product the sync would not send (unchanged), whose fields
the ERP owns Shopify holds otherwise than the app sends them (edited by hand: jobs.catalog_drift;
the entry's `fields` names them). It only reports: the reconciliation sends such products again.

Who retires a missing packaging: a plain sync (`catalog sync`, the scheduled passes) only when its
product's own record changed since the skus watermark (it moved to another family: the skus pass
reads all it still has) or the skus flow never ran; a packaging whose row was just deleted changes
nothing an incremental read returns, so only the full sweep (or `catalog sync --full`) retires
it. The verdicts (create, change, archive) are a plain sync's, but the products to create that
Shopify holds already without their custom id (jobs.catalog_adopt), listed apart as the sync would
take them: "adopt" (each entry's `shopify_id` and `existing_title` the product taken over) and
"conflict" (held for a person: `reason`, and `existing` the products named); `full_sweep` lists the rest:
{"counts": {retire, archive}, "retire": [{seq_produto, title, status, status_before, retired:
[idSku...], shopify_id}], "schedule": its cron or None, "enabled", "next_run_at": ISO or None}.

Contract with the admin API (shopify_app/api_catalog_diff.py): `run(shop_id)` runs as an RQ job
and stores its JSON result at Redis key `catalog_diff:<shop_id>:<job_id>` (one day), job_id =
its own RQ job id; and, as the shop's last dry run until the next one replaces it (no expiry: the
page shows it after a reload, marked with its time), at `catalog_diff:<shop_id>:last` as
{"job_id", "ran_at" (the result's generated_at), "requested_by" (the staff user id the API passes
as `requested_by`, or None from the CLI), "result"}. The result: {"counts": {create, change,
archive, unchanged, waiting}, "create": [...], "change": [...], "archive": [...], "waiting":
[...], "drift": [{seq_produto, problem, fields?}], "full_sweep": {...}} (lists cut to LIST_LIMIT
items; counts are complete), plus "held": {count, why, skus} when the packagings missing would be
held for a person rather than retired; "prices": the store's prices a sync would send
(jobs.price_preview); "price_lists", when the shop maps a market to a further (company, segment)
pair or fills a list: each pair's list (jobs.price_list_preview).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from datetime import datetime
from typing import Any

from croniter import croniter
from sqlalchemy import select

import erp
from jobs import (
    catalog_adopt,
    catalog_cache,
    catalog_drift,
    catalog_flow,
    catalog_malformed,
    catalog_unlisted,
    price_list_preview,
    price_preview,
)
from jobs import catalog_ledger as cl
from jobs.catalog_cache import CachedProduct
from jobs.catalog_full import FLOW as FULL_SWEEP
from jobs.catalog_map import ACTIVE, cache_product, cache_sku, custom_id
from jobs.price_map import erp_today
from ledger import bindings
from ledger.db import session_scope
from ledger.errors import IntegrationError
from ledger.kv import get_redis
from ledger.models import Schedule, utcnow
from ledger.words import stored
from settings import get_settings
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.results import ProductRef

log = logging.getLogger(__name__)

RESULT_TTL_SECONDS = 24 * 3600
LIST_LIMIT = 500


def result_key(shop_id: int, job_id: str) -> str:
    return f"catalog_diff:{shop_id}:{job_id}"


def last_key(shop_id: int) -> str:
    """The shop's last finished dry run, kept until the next one (see the module's contract)."""
    return f"catalog_diff:{shop_id}:last"


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
            # (its message is the sync's to write, not written)
            held = catalog_unlisted.sweep(shop_id, erp_client, skus_read, missing, entries, confirmed=())
        since = catalog_flow.skus_read_from(session, shop_id)  # the re-read mark too, as the next pass
        plain, swept = _who_retires(entries, held.gone, read, since)
        catalog_cache.retire(entries, plain)
        seqs = sorted(entries)
        planned = cl.plan(session, ctx, seqs, entries=entries)
        alone = {seq: CachedProduct(seq, entries[seq].product, dict(entries[seq].skus)) for seq in swept}
        catalog_cache.retire(alone, swept)  # on copies: the verdicts above stay a plain sync's
        sweep_planned = cl.plan(session, ctx, sorted(alone), entries=alone)
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
        schedule = session.scalar(
            select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == FULL_SWEEP)
        )
        full_sweep = _full_sweep(sweep_planned, swept, sent, schedule, utcnow())
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
            if item.words is not None:
                entry["words"] = stored(item.words)
        lists[verdict].append(entry)
    result: dict[str, Any] = {
        "generated_at": utcnow().isoformat(),
        "counts": {**counts, "unreadable": len(unreadable)},
        **lists,
        "unreadable": [_unreadable(m) for m in unreadable[:LIST_LIMIT]],
    }
    result["full_sweep"] = full_sweep
    if held.held:
        result["held"] = {"count": len(held.held), "why": held.why, "skus": held.held[:LIST_LIMIT]}
        if held.words is not None:
            result["held"]["words"] = stored(held.words)
    owned = client is None
    client = client or for_shop(ctx.shop_domain, lane="background")
    try:
        adopted = _existing(shop_id, client, planned, result)
        if drift:
            result["drift"] = _drift(ctx, sent, client, unchanged, skus_by_variant)
        result["prices"] = _prices(shop_id, erp_client, client, adopted)
        lists = _price_lists(shop_id, erp_client, client)
        if lists:
            result["price_lists"] = lists
    finally:
        erp_client.close()
        if owned:
            client.close()  # its HTTP connections, not left to the garbage collector
    return result


def _existing(
    shop_id: int, client: AdminClient, planned: list[cl.Planned], result: dict[str, Any]
) -> dict[str, str]:
    """The products to create that Shopify holds already without their custom id, as the sync
    would find them (jobs.catalog_adopt, read only): moved from "create" to "adopt" (the Shopify
    product taken over) or "conflict" (held for a person, the products named). Returns the adopted
    variants (idSku -> variant gid): the prices flow's first prices overwrite theirs."""
    creates = [p.mapped for p in planned if p.verdict == "create" and p.mapped is not None]
    with session_scope() as session:
        found = catalog_adopt.look_up(client, session, shop_id, creates)
    if not found.adopted and not found.conflicts:
        return {}
    kept: list[dict[str, Any]] = []
    result.update(adopt=[], conflict=[])
    for entry in result["create"]:
        adoption, conflict = (
            found.adopted.get(entry["seq_produto"]),
            found.conflicts.get(entry["seq_produto"]),
        )
        if adoption is not None:
            result["adopt"].append(
                {**entry, "shopify_id": adoption.product_id, "existing_title": adoption.title}
            )
        elif conflict is not None:
            result["conflict"].append(
                {**entry, "reason": conflict.message, "existing": conflict.detail["products"]}
            )
        else:
            kept.append(entry)
    result["create"] = kept
    counts = result["counts"]
    counts["create"] -= len(found.adopted) + len(found.conflicts)
    counts.update(adopt=len(found.adopted), conflict=len(found.conflicts))
    return {sku: variant for a in found.adopted.values() for sku, variant in a.variants.items()}


def _prices(shop_id: int, erp_client: Any, client: AdminClient, adopted: dict[str, str]) -> dict[str, Any]:
    """The store's prices previewed (jobs.price_preview; `adopted`: the variants the sync would take
    over, whose live prices the first prices overwrite); the ERP or Shopify failing it is said in
    it, the rest of the dry run standing."""
    try:
        return price_preview.preview(shop_id, erp_client, client, erp_today(get_settings().erp_timezone),
                                     LIST_LIMIT, adopted=adopted)  # fmt: skip
    except IntegrationError as exc:
        return {"error": str(exc)}


def _price_lists(shop_id: int, erp_client: Any, client: AdminClient) -> dict[str, Any]:
    """The markets' price lists previewed (jobs.price_list_preview; {}: no market mapped, no list
    filled); a pair failing is said on it, the ledger failing said in the part."""
    try:
        return price_list_preview.preview(shop_id, erp_client, client, erp_today(get_settings().erp_timezone),
                                          LIST_LIMIT)  # fmt: skip
    except IntegrationError as exc:
        return {"error": str(exc)}


def _unreadable(m: catalog_malformed.Malformed) -> dict[str, Any]:
    """A record the run could not read: its English problem, and its words (ledger.words)."""
    entry: dict[str, Any] = {"record": m.unit_key, "problem": m.error.message}
    if m.error.words is not None:
        entry["words"] = stored(m.error.words)
    return entry


def _who_retires(
    entries: dict[int, catalog_cache.CachedProduct],
    gone: dict[int, list[str]],
    read: dict[int, set[str]],
    since: datetime | None,
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The packagings to retire split by who retires them: (a plain sync, only the full sweep).

    A plain sync's skus pass retires the missing packagings of a product whose own record changed
    since its watermark and of which it still reads a packaging (catalog_cache.moved_away,
    checked by a re-read as jobs.catalog_flow._retire_moved does: the product moved to another
    family), and all of them when it
    never ran (it then reads every packaging); one whose row was only deleted changes nothing it
    reads, and waits for the full sweep (jobs.catalog_full). `read`: the idSkus read per product."""
    plain: dict[int, list[str]] = {}
    swept: dict[int, list[str]] = {}
    for seq, ids in gone.items():
        product = entries[seq].product if seq in entries else None
        changed = since is None or (
            bool(read.get(seq))
            and product is not None
            and datetime.fromisoformat(product["changed_at"]) >= since
        )
        (plain if changed else swept)[seq] = ids
    return plain, swept


def _full_sweep(
    planned: list[cl.Planned],
    swept: dict[int, list[str]],
    sent: dict[str, Any],
    schedule: Schedule | None,
    now: datetime,
) -> dict[str, Any]:
    """What only the full sweep changes (packagings retired), and when it runs next (None: the
    shop has no such schedule, or it is off; `catalog sync --full` does it now)."""
    retire: list[dict[str, Any]] = []
    archive = 0
    for item in planned:
        if item.mapped is None or item.verdict == "unchanged":
            continue
        binding = sent.get(str(item.seq_produto))
        before = (binding.data or {}).get("status") if binding is not None else None
        archive += int(before == ACTIVE and item.mapped.status != ACTIVE)
        if len(retire) < LIST_LIMIT:
            retire.append(
                {
                    "seq_produto": item.seq_produto,
                    "title": item.mapped.input["title"],
                    "status": item.mapped.status,
                    "status_before": before,
                    "retired": swept[item.seq_produto],
                    "shopify_id": binding.shopify_id if binding is not None else None,
                }
            )
    enabled = schedule is not None and schedule.enabled
    following = None
    if enabled:
        try:
            following = croniter(schedule.cron, now).get_next(datetime).isoformat()
        except (ValueError, KeyError):
            following = None
    changed = sum(1 for p in planned if p.mapped is not None and p.verdict != "unchanged")
    return {
        "counts": {"retire": changed, "archive": archive},
        "retire": retire,
        "schedule": schedule.cron if schedule is not None else None,
        "enabled": enabled,
        "next_run_at": following,
    }


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


def run(
    shop_id: int, job_id: str | None = None, *, drift: bool = False, requested_by: str | None = None
) -> dict[str, Any]:
    """The RQ job: compute and store the result where the admin API reads it, and as the shop's
    last dry run with when it ran and who asked (`requested_by`); returns the result too."""
    if job_id is None:
        from rq import get_current_job

        job = get_current_job()
        job_id = job.id if job is not None else f"catalog-diff-{shop_id}-{secrets.token_hex(6)}"
    result = compute(shop_id, drift=drift)
    result["job_id"] = job_id
    ran_at = result.get("generated_at") or utcnow().isoformat()
    last = {"job_id": job_id, "ran_at": ran_at, "requested_by": requested_by, "result": result}
    conn = get_redis()
    conn.set(result_key(shop_id, job_id), json.dumps(result), ex=RESULT_TTL_SECONDS)
    conn.set(last_key(shop_id), json.dumps(last))
    log.info("catalog diff for shop %s: %s", shop_id, result["counts"], extra={"shop_id": shop_id})
    return result

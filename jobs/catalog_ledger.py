"""The ledger side of a catalog push: what to send, the trace rows, and the id map afterwards.

Why a module of its own: the direct path (productSet per product), the bulk path (one JSONL
line per product), the dry-run diff and replay all decide "what changed" and record "what
Shopify answered" the same way. Everything here is bulk SQL (a 50,000-SKU initial load writes
~17,000 products): messages are begun with one INSERT ... ON CONFLICT per chunk and finished with
executemany UPDATEs, never a round trip per row. The caller owns the transaction.

Bindings written (shared with the price, stock and order flows, see /work/notes/flows.md):
- "product": erp_id str(seqProduto), shopify_id Product gid, digest = the productSet input's;
  data {handle, status, skus, publish_pending, publish_retry}: publish_pending while the product
  the app created is not yet published to the shop's sales channels, publish_retry {tries, at,
  sent} while it is due again (sent: its first publish went out, outcome unrecorded; see
  jobs/catalog_publish.py); custom_id_missing (no digest then) while the Shopify product lacks its
  custom id (jobs/catalog_custom_id.py).
- "variant": erp_id idSku, shopify_id ProductVariant gid, data {product_id, inventory_item_id,
  seq_produto, qtd_embalagem, weighed, unit_kg, ean, active}; the digest column and any
  other data keys another flow stored there are kept.
- "stock_policy" (the stock flow's): digest DENY for each inactive variant, whose input carried
  inventoryPolicy DENY (jobs.catalog_map.variant_input).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from jobs import catalog_cache, catalog_messages
from jobs.catalog_adopt import ADOPTED
from jobs.catalog_custom_id import DELETED, MISSING, deleted_among, forget_deleted
from jobs.catalog_map import SCALE_CODE, WEIGHED_SALE_UNIT_KG, MappedProduct, map_product, shows_unit_price
from jobs.price_map import POLICY_DENY, SETTLED_BY_HAND, VARIANT_REPLACED, erp_today
from jobs.stock_map import LIVE_PRICE
from ledger import bindings, shop_settings, trace
from ledger.bindings import (
    CATALOG_RECHECK_KIND,
    LIST_PRICE_KIND,
    PRICE_KIND,
    PRODUCT_KIND,
    STOCK_POLICY_KIND,
    STOCK_RECHECK_KIND,
    VARIANT_KIND,
    BindingRow,
)
from ledger.errors import IntegrationError, Rejected, classify
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, Message, MessageStatus, Shop, utcnow
from ledger.trace_bulk import UnitStart
from ledger.trace_bulk import begin_many as begin_many_units
from ledger.words import Words, stored
from settings import get_settings
from shopify_app.admin_api.results import ProductRef

DEFINITION_KIND = "metafield_definition"
EAN_INVALID = "EAN_INVALID"  # search word of a product message whose SKU has a code that is no GTIN


def unit_key(seq_produto: int) -> str:
    return f"product:{seq_produto}"


@dataclass(frozen=True)
class CatalogContext:
    """What a catalog push needs to know about the shop."""

    shop_id: int
    shop_domain: str
    inactive_status: str
    bulk_threshold: int
    off_sale: frozenset[str] = frozenset()  # SKUs with statusVenda 'I' in the store (prices flow)
    publish_to: tuple[str, ...] | None = None  # publication ids new products go to; None: Online Store


def load_context(session: Session, shop_id: int) -> CatalogContext:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    return CatalogContext(
        shop_id=shop_id,
        shop_domain=shop.domain,
        inactive_status=str(shop_settings.get(shop, "inactive_sku_status")).upper(),
        bulk_threshold=int(shop_settings.get(shop, "bulk_threshold")),
        off_sale=off_sale(session, shop_id),
        publish_to=_publish_to(shop_settings.get(shop, "publish_to")),
    )


def _publish_to(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def off_sale(session: Session, shop_id: int) -> frozenset[str]:
    """The SKUs the prices flow found not for sale (statusVenda 'I', or no price: 0) at the store's
    company and segment: few, so read whole for each pass."""
    rows = session.scalars(
        select(Binding.erp_id).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRICE_KIND,
            Binding.data["sale_active"].as_boolean().is_(False),
        )
    )
    return frozenset(rows)


@dataclass(frozen=True)
class Planned:
    """One product's verdict: send `mapped`, or nothing (unchanged / waiting, with why)."""

    seq_produto: int
    mapped: MappedProduct | None
    verdict: str  # "create" | "change" | "unchanged" | "waiting"
    reason: str = ""
    was_active: bool | None = None  # the status last sent (None: never sent)
    unmarked: str | None = (
        None  # its bound Shopify product, when that lacks the custom id (catalog_custom_id)
    )
    words: Words | None = None  # `reason` in the merchant's words (ledger.words)
    held: MappedProduct | None = None  # waiting with no packaging to send: the mapping its message names


def plan(
    session: Session,
    ctx: CatalogContext,
    seqs: Sequence[int],
    *,
    force: bool = False,
    entries: Mapping[int, catalog_cache.CachedProduct] | None = None,
) -> list[Planned]:
    """Map every product from the cache (or `entries`) and compare with what was last sent; the
    packagings bound to a variant of their product send its id (bound_variants)."""
    cached = entries if entries is not None else catalog_cache.load(session, ctx.shop_id, seqs)
    sent = bindings.get_many(session, ctx.shop_id, PRODUCT_KIND, (str(s) for s in seqs))
    skus = (sku for seq in seqs if in_shopify(sent.get(str(seq))) for sku in cached[seq].skus)
    variants = bound_variants(session, ctx.shop_id, skus)
    return [plan_one(ctx, cached[seq], sent.get(str(seq)), force=force, variants=variants) for seq in seqs]


# (ProductVariant gid, the Product gid it was bound under, whether it was sent a unit price)
BoundVariant = tuple[str, str | None, bool]


def in_shopify(binding: Binding | None) -> bool:
    return binding is not None and binding.shopify_id is not None


def bound_variants(session: Session, shop_id: int, skus: Iterable[str]) -> dict[str, BoundVariant]:
    """{idSku: (variant gid, product gid, unit priced)} of these packagings' "variant" bindings,
    read as plain columns (a whole-catalog plan reads one per packaging). Unit priced: its
    binding's `weighed` / `qtd_embalagem` say the variant was sent a unit price
    (catalog_map.shows_unit_price; a binding without them, from before they were kept: no)."""
    wanted = list(dict.fromkeys(skus))
    found: dict[str, BoundVariant] = {}
    data = Binding.data
    for start in range(0, len(wanted), bindings.READ_CHUNK):
        stmt = select(
            Binding.erp_id,
            Binding.shopify_id,
            data["product_id"].as_string(),
            data["weighed"].as_boolean(),
            data["qtd_embalagem"].as_string(),
        ).where(
            Binding.shop_id == shop_id,
            Binding.kind == VARIANT_KIND,
            Binding.erp_id.in_(wanted[start : start + bindings.READ_CHUNK]),
            Binding.shopify_id.is_not(None),
        )
        for sku, variant_id, product_id, weighed, qtd in session.execute(stmt):
            found[sku] = (variant_id, product_id, qtd is not None and shows_unit_price(weighed, qtd))
    return found


def variant_ids(
    entry: catalog_cache.CachedProduct, binding: Binding | None, variants: Mapping[str, BoundVariant]
) -> dict[str, str]:
    """{idSku: variant gid} the product's input names its variants by (jobs.catalog_map): its
    packagings bound to a variant of the Shopify product it is bound to. A packaging bound under
    another product (its family moved it, a product made again) sends none: productSet would
    refuse an id that is not one of this product's variants."""
    if binding is None or binding.shopify_id is None:
        return {}
    ids: dict[str, str] = {}
    for sku in entry.skus:
        bound = variants.get(sku)
        if bound is not None and bound[1] == binding.shopify_id and bound[0] not in ids.values():
            ids[sku] = bound[0]
    return ids


def plan_one(
    ctx: CatalogContext,
    entry: catalog_cache.CachedProduct,
    binding: Binding | None,
    mapped: MappedProduct | None = None,
    *,
    force: bool = False,
    variants: Mapping[str, BoundVariant] | None = None,
) -> Planned:
    """One product's verdict (see plan): `binding` is its product binding, `mapped` its mapping
    from exactly `entry` when already made, `variants` the variant bindings of its packagings
    (bound_variants: their ids go in the input, not in the digest, and so does the unit price a
    kept variant is told to stop showing: catalog_map.map_product's `unit_priced`)."""
    seq = entry.seq_produto
    was_active = None if binding is None else (binding.data or {}).get("status") == "ACTIVE"
    unmarked = binding.shopify_id if binding is not None and (binding.data or {}).get(MISSING) else None
    if entry.product is None:
        return Planned(seq, None, "waiting", "waiting for the product record (ProdutoCV)",
                       words=("waiting_product_record", {}))  # fmt: skip
    if not entry.skus:
        return Planned(seq, None, "waiting", "waiting for its packagings (ProdutoSku)",
                       words=("waiting_packagings", {}))  # fmt: skip
    if mapped is None:
        ids = variant_ids(entry, binding, variants or {})
        priced = [sku for sku in ids if variants and variants[sku][2]]  # (what a kept variant shows)
        mapped = map_product(
            entry.product, entry.skus.values(), ctx.inactive_status, ctx.off_sale, ids, priced
        )
    if not mapped.input["variants"]:  # every packaging held out of the sale (catalog_map.not_kg)
        # (its message fails naming those the ERP sells; none sold, the product has nothing to sell)
        named = ", ".join(h["id_sku"] for h in mapped.held) or ", ".join(sorted(entry.skus))
        why = f"no packaging to send: {named} not sold by its KG packaging of quantity 1"
        return Planned(
            seq,
            None,
            "waiting",
            why,
            words=("waiting_kg_packaging", {"skus": named}),
            held=mapped if mapped.held else None,
        )
    if not force and bindings.unchanged(binding, mapped.digest):
        return Planned(seq, mapped, "unchanged", was_active=was_active)
    if not force and binding is not None and (binding.data or {}).get(DELETED) and mapped.status != "ACTIVE":
        # deleted in Shopify by a person while the ERP did not sell it online: left so until it does
        # (an unrelated ERP edit made it anew, the cleanup undone: jobs.catalog_deleted)
        return Planned(seq, mapped, "unchanged", was_active=was_active)
    verdict = "create" if binding is None or binding.shopify_id is None else "change"
    return Planned(seq, mapped, verdict, was_active=was_active, unmarked=unmarked)


def held_error(mapped: MappedProduct) -> Rejected | None:
    """Why the product's message fails when the ERP sells a weighed packaging of it that is not its
    KG packaging of quantity 1 (jobs.catalog_map.not_kg): held out of the sale, the others sent.
    Retried once the ERP is changed (the product's next send, or the message's Retry)."""
    if not mapped.held:
        return None
    named = ", ".join(f"{h['id_sku']} ({h['qtd_embalagem']} kg)" for h in mapped.held)
    return Rejected(
        f"product {mapped.seq_produto}: weighed packaging(s) {named} not sold in Shopify: a weighed product "
        "is sold by its KG packaging of quantity 1 (one unit = 1 kg, the price per kg), and these would "
        "sell another weight as 1 kg. In the ERP, sell it by the KG packaging of quantity 1 (or make the "
        "family not weighed), then retry this message",
        system="app",
        code="WEIGHED_PACKAGING_NOT_KG",
        detail={"seq_produto": mapped.seq_produto, "skus": [h["id_sku"] for h in mapped.held]},
        words=("catalog_weighed_packaging_not_kg", {"product": mapped.seq_produto, "skus": named}),
    )


def _search(mapped: MappedProduct) -> list[str]:
    wrong = any(s.get("barcode_problem") not in (None, SCALE_CODE) for s in mapped.skus)
    return [
        str(mapped.seq_produto),
        *(s["id_sku"] for s in mapped.skus),
        *(s["ean"] or "" for s in mapped.skus),
        *((EAN_INVALID,) if wrong else ()),
    ]


def unit_starts(products: Sequence[MappedProduct]) -> list[UnitStart]:
    """What trace.begin is given for each product (its request: digest and SKU facts)."""
    return [_unit_start(m) for m in products]


def _unit_start(mapped: MappedProduct) -> UnitStart:
    """One product's UnitStart: the search words of _search, and its request (the SKU facts, and
    the codes sent as no barcode: jobs.catalog_map.barcode_problem, the note), in one pass over its
    SKUs (an initial load begins ~35,000 of these)."""
    seq = str(mapped.seq_produto)
    ids: list[str] = []
    eans: list[str] = []
    skus: list[dict[str, Any]] = []
    not_sent: list[dict[str, Any]] = []
    wrong = False
    for s in mapped.skus:
        id_sku, ean, problem = s["id_sku"], s["ean"], s.get("barcode_problem")
        ids.append(id_sku)
        eans.append(ean or "")
        skus.append({"id_sku": id_sku, "ean": ean, "active": s["active"], "label": s["label"]})
        if problem:
            not_sent.append({"id_sku": id_sku, "ean": ean, "why": problem})
        wrong = wrong or problem not in (None, SCALE_CODE)
    request: dict[str, Any] = {
        "seq_produto": mapped.seq_produto,
        "status": mapped.status,
        "digest": mapped.digest,
        "skus": skus,
    }
    if not_sent:
        request["barcodes_not_sent"] = not_sent
    if mapped.held:  # held out of the sale (jobs.catalog_map.not_kg): found by their SKUs too
        request["packagings_held"] = list(mapped.held)
        ids.extend(h["id_sku"] for h in mapped.held)
    search = [seq, *ids, *eans, EAN_INVALID] if wrong else [seq, *ids, *eans]
    return UnitStart(unit_key(mapped.seq_produto), erp_id=seq, search=search, request=request)


def begin_many(
    session: Session, ctx: CatalogContext, flow: str, products: Sequence[MappedProduct], job_id: str | None
) -> dict[int, int]:
    """trace.begin for many products at once (ledger.trace_bulk); returns {seqProduto: message id}."""
    ids = begin_units(session, ctx, flow, unit_starts(products), job_id)
    return {m.seq_produto: message_id for m, message_id in zip(products, ids, strict=True)}


def begin_units(
    session: Session, ctx: CatalogContext, flow: str, units: Sequence[UnitStart], job_id: str | None
) -> list[int]:
    return begin_many_units(session, ctx.shop_id, flow, units, direction=ERP_TO_SHOPIFY, job_id=job_id)


def _unpublished(now: datetime) -> dict[str, Any]:
    """A product binding's publish keys until it is published: tries 0, so a later products
    pass publishes it should this pass die before its publish (jobs/catalog_publish.py)."""
    return {"publish_pending": True, "publish_retry": {"tries": 0, "at": now.isoformat()}}


def record_sent(
    session: Session,
    ctx: CatalogContext,
    outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]],
    *,
    flow: str,
    unmarked: Collection[int] = (),
    incomplete: Collection[int] = (),
) -> list[int]:
    """Shopify accepted these products (sent by `flow`): bindings (product + variants) and
    messages done, this flow's and the other catalog flow's open ones for the same products
    (jobs.catalog_messages). `unmarked`: products Shopify has without their custom id (it could
    not be set: jobs.catalog_custom_id), bound with no digest and MISSING; their messages are the
    caller's to fail. `incomplete`: products whose answer lacks a packaging sent (jobs.catalog_load:
    unanswered), bound as far as Shopify answered with no digest, their messages the caller's to fail.
    A product holding a weighed packaging out of the sale (`MappedProduct.held`, catalog_map.not_kg)
    is bound with its digest, its message the caller's to fail (held_error), the other flow's closed.

    Returns the products to publish to the sales channels: those this pass created (no product
    binding before, or one to a Shopify product since deleted: made anew) and those whose
    publishing failed before (publish_pending kept); a product created earlier is never published
    again (the merchant may have taken it off a channel)."""
    if not outcomes:
        return []
    before = bindings.get_many(
        session, ctx.shop_id, PRODUCT_KIND, [str(m.seq_produto) for m, _, _ in outcomes]
    )
    to_publish: list[int] = []
    product_rows: list[BindingRow] = []
    variant_rows: list[BindingRow] = []
    # Packagings whose active flag changed, and packagings new to a product Shopify already had:
    # the stock flow rechecks them (the ERP's stock row of the product did not move for either).
    rechecks: list[str] = []
    repriced: list[str] = []  # variants Shopify replaced: the prices flow sends their prices again
    denied: list[BindingRow] = []  # inactive variants: their input carried inventoryPolicy DENY
    done: list[dict[str, Any]] = []
    all_skus = [s["id_sku"] for mapped, _, _ in outcomes for s in mapped.skus]
    existing = bindings.get_many(session, ctx.shop_id, VARIANT_KIND, all_skus)
    now = utcnow()
    for mapped, product, message_id in outcomes:
        by_sku = {v.sku: v for v in product.variants if v.sku}
        variant_ids: dict[str, str] = {}
        known_product = any(s["id_sku"] in existing for s in mapped.skus)
        for sku in mapped.skus:
            variant = by_sku.get(sku["id_sku"])
            if variant is None:
                continue
            variant_ids[sku["id_sku"]] = variant.id
            kept = existing.get(sku["id_sku"])
            data = dict(kept.data or {}) if kept is not None else {}
            new_packaging = kept is None and known_product
            # A variant Shopify replaced has no stock and no price yet. The input names the bound
            # variants by id, so a renamed packaging keeps its variant; one is still made anew when
            # its id was stale (deleted by hand: sent again without ids, jobs.catalog_load._send),
            # or when its binding was under another product (catalog_ledger.variant_ids).
            replaced = kept is not None and kept.shopify_id is not None and kept.shopify_id != variant.id
            # A variant adopted from what Shopify held before the app (jobs.catalog_adopt) has the
            # price and stock someone else gave it: the prices and stock flows send theirs.
            adopted = bool(data.pop(ADOPTED, False))
            if adopted:
                data[LIVE_PRICE] = True
            if replaced or adopted:
                repriced.append(sku["id_sku"])
            if (
                new_packaging
                or replaced
                or adopted
                or (kept is not None and bool(data.get("active", True)) != bool(sku["active"]))
                or (kept is not None and _recounted(data, sku))
            ):
                rechecks.append(sku["id_sku"])
            if not sku["active"]:
                denied.append(BindingRow(sku["id_sku"], variant.id, POLICY_DENY, {}))
            data.update(
                product_id=product.id,
                inventory_item_id=variant.inventory_item_id,
                seq_produto=mapped.seq_produto,
                qtd_embalagem=sku["qtd_embalagem"],
                weighed=sku["weighed"],
                unit_kg=str(WEIGHED_SALE_UNIT_KG) if sku["weighed"] else None,
                ean=sku["ean"],
                active=sku["active"],
            )
            variant_rows.append(
                BindingRow(sku["id_sku"], variant.id, kept.digest if kept is not None else None, data)
            )
        known = before.get(str(mapped.seq_produto))
        pending = _unpublished_yet(known, product.id)
        if pending:
            to_publish.append(mapped.seq_produto)
        held = mapped.seq_produto in unmarked
        short = held or mapped.seq_produto in incomplete
        product_rows.append(
            BindingRow(
                str(mapped.seq_produto),
                product.id,
                None if short else mapped.digest,
                {
                    "handle": product.handle,
                    "status": mapped.status,
                    "skus": [s["id_sku"] for s in mapped.skus],
                    **(_unpublished(now) if pending else {}),
                    **({MISSING: True} if held else {}),
                },
            )
        )
        if message_id is not None and not short and not mapped.held:  # (held: failed by the caller)
            done.append(
                {
                    "id": message_id,
                    "status": MessageStatus.DONE.value,
                    "shopify_id": product.id,
                    # found on the Messages page by the Shopify product id too, as trace.succeed does
                    "search_text": trace.search_text([product.id, mapped.seq_produto], _search(mapped)),
                    "response_payload": {"product_id": product.id, "variants": variant_ids},
                    "error_class": None,
                    "error_text": None,
                    "finished_at": now,
                    "updated_at": now,
                }
            )
    bindings.upsert_many(session, ctx.shop_id, PRODUCT_KIND, product_rows)
    # Deleted in Shopify by a person while this pass held its answer (products/delete ran before
    # this record: jobs.catalog_deleted): forgotten as that handler does, not bound to a product
    # that no longer exists with a digest saying Shopify holds it (never sent again).
    gone = deleted_among(session, ctx.shop_id, [row.shopify_id for row in product_rows if row.shopify_id])
    if gone:
        seqs = [int(row.erp_id) for row in product_rows if row.shopify_id in gone]
        forget_deleted(session, ctx.shop_id, seqs)
        to_publish = [seq for seq in to_publish if seq not in seqs]
    bindings.upsert_many(session, ctx.shop_id, VARIANT_KIND, variant_rows)
    # An inactive packaging must not stay sellable, a new one must get its stock: the stock flow
    # sets them without waiting for an ERP stock movement (jobs.stock reads these "stock_recheck" rows).
    bindings.upsert_many(session, ctx.shop_id, STOCK_RECHECK_KIND, [BindingRow(s, None) for s in rechecks])
    # The stock flow sends a policy only when it differs from the one it remembers: the DENY sent
    # here is remembered as its own, so a product back in the e-commerce gets its CONTINUE (no stock
    # control) again with the next stock pass, even when no stock pass ran while it was inactive.
    bindings.upsert_many(session, ctx.shop_id, STOCK_POLICY_KIND, denied)
    if repriced:
        _reprice(session, ctx.shop_id, repriced)
    if done:
        session.execute(update(Message), done)
    digests = {
        mapped.seq_produto: mapped.digest
        for mapped, _, _ in outcomes
        if mapped.seq_produto not in unmarked and mapped.seq_produto not in incomplete
    }
    held = {m.seq_produto for m, _, _ in outcomes if m.held and m.seq_produto in digests}
    for seqs, note in ((digests.keys() - held, catalog_messages.sent_note(flow)),
                       (held, catalog_messages.held_note(flow))):  # fmt: skip
        catalog_messages.close_settled(
            session,
            ctx.shop_id,
            {seq: digests[seq] for seq in seqs},
            flows=catalog_messages.other_flows(flow),
            note=note,
        )
    session.flush()
    return to_publish


def _unpublished_yet(known: Binding | None, product_id: str) -> bool:
    """The product Shopify answered with is one the app has not published: made by this pass (no
    binding, or one to another Shopify product: the bound one was deleted by hand and productSet
    made it anew, see jobs.catalog_load._send), or its publish is still owed (publish_pending).
    The merchant may take a product off a channel: that product is never published again, but a
    product made anew is on no channel and would sell nowhere."""
    if known is None or known.shopify_id != product_id:
        return True
    return bool((known.data or {}).get("publish_pending"))


def _recounted(bound: Mapping[str, Any], sku: Mapping[str, Any]) -> bool:
    """The variant kept (sent by id) counts its stock in other units than its binding says: the
    family's PESAVEL flipped (boxes <-> kg: jobs.stock_map.SkuUnit) or the packaging's quantity
    changed. No ERP stock movement follows, so the stock flow is asked to recheck it, as it was
    when such a variant was made anew."""
    if "weighed" not in bound:  # bound before these facts were kept: nothing to compare with
        return False
    weighed = bool(bound.get("weighed")) != bool(sku["weighed"])
    return weighed or str(bound.get("qtd_embalagem")) != str(sku["qtd_embalagem"])


def _reprice(session: Session, shop_id: int, skus: Sequence[str]) -> None:
    """The store price and the price-list prices of these SKUs are due again (their variant is new,
    at R$ 0.00, or adopted with the price someone else gave it: jobs.catalog_adopt): no digest,
    due today, so the next prices pass sends them to the variant; until then the store price is
    `awaiting_price`, which the stock flow reads as not for sale. Today is the ERP's day, the one
    the prices flow compares `recheck_on` with: the UTC date is already tomorrow from 21:00 in Sao
    Paulo, which held the price back until the ERP's midnight."""
    today = erp_today(get_settings().erp_timezone, utcnow()).isoformat()
    price_lists = [Binding.erp_id.like(f"%:{sku}") for sku in skus]
    rows = session.scalars(
        select(Binding).where(
            Binding.shop_id == shop_id,
            or_(
                (Binding.kind == PRICE_KIND) & Binding.erp_id.in_(skus),
                (Binding.kind == LIST_PRICE_KIND) & or_(*price_lists),
            ),
        )
    )
    now = utcnow()
    for row in rows:
        row.digest = None
        waiting = {"awaiting_price": True} if row.kind == PRICE_KIND else {}
        kept = {k: v for k, v in (row.data or {}).items() if k != SETTLED_BY_HAND}
        row.data = {**kept, "recheck_on": today, **waiting, VARIANT_REPLACED: True}
        # Written now even if it was due already, its settlement dropped and marked replaced: a
        # price closed as handled before or after the variant was replaced is sent to the new one
        # (jobs.prices `_settled_by_hand`, jobs.price_lists `settled_by_hand`).
        row.updated_at = now


def forget_sent(session: Session, shop_id: int, seqs: Sequence[str]) -> None:
    """What Shopify holds of these products is no longer known (a bulk operation left by a dead
    pass may have written older lines over newer ones): their digests are dropped, so any plan
    sends them, and the products flow is asked to re-plan them (a "catalog_recheck" request)."""
    for start in range(0, len(seqs), 1000):
        session.execute(
            update(Binding)
            .where(
                Binding.shop_id == shop_id,
                Binding.kind == PRODUCT_KIND,
                Binding.erp_id.in_(list(seqs[start : start + 1000])),
            )
            .values(digest=None)
            .execution_options(synchronize_session=False)
        )
    requests = [BindingRow(seq, None, None, {}) for seq in seqs]
    bindings.upsert_many(session, shop_id, CATALOG_RECHECK_KIND, requests)


def record_failure(session: Session, message_id: int, exc: BaseException) -> MessageStatus:
    """Classify one product's failure on its message (parked / retrying / failed)."""
    message = session.get(Message, message_id, populate_existing=True)
    assert message is not None
    return trace.fail(session, message, exc)


def fail_many(session: Session, message_ids: Sequence[int], exc: BaseException) -> MessageStatus:
    """One failure for many messages at once (a bulk operation that failed as a whole), written
    as trace.fail writes one: the error's class, text and detail (a Rejected's code, words)."""
    error_class = classify(exc)
    status = trace.STATUS_FOR_CLASS[error_class]
    text = exc.message if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    detail = trace.error_detail(exc)
    words = exc.words if isinstance(exc, IntegrationError) else None
    if words is not None:  # as trace.fail keeps them, for the pages to say it in the merchant's language
        detail = {**detail, trace.FAIL: stored(words)}
    now = utcnow()
    rows = [
        {
            "id": i,
            "status": status.value,
            "error_class": error_class.value,
            "error_text": text,
            "error_detail": detail,
            "finished_at": None,
            "updated_at": now,
        }
        for i in message_ids
    ]
    if rows:
        session.execute(update(Message), rows)
    return status


def known_definition(session: Session, shop_id: int, name: str) -> bool:
    return name in bindings.get_many(session, shop_id, DEFINITION_KIND, [name])


def remember_definition(session: Session, shop_id: int, name: str, definition_id: str | None) -> None:
    bindings.upsert_many(session, shop_id, DEFINITION_KIND, [BindingRow(name, definition_id, None, {})])

"""The ledger's copy of the last ERP records of each product (ProdutoCV + its ProdutoSku rows).

Why: productSet replaces a product's variant list whole, so every push needs ALL the SKUs of a
product, while the ERP streams only what changed and has no by-id filter. Both catalog flows
therefore merge what they read into this cache first, then build products from it: a product
change needs no SKU re-read, a SKU change no product re-read, and a replay rebuilds the product
without touching the ERP.

Storage: one `bindings` row per product, kind "erp_catalog", erp_id = str(seqProduto),
shopify_id NULL, data = {"product": {...} | None, "skus": {idSku: {...}}} (the JSON shapes of
jobs.catalog_map.cache_product / cache_sku). The table's UNIQUE (shop, kind, erp_id) and bulk
upserts make it a keyed store without a new table or migration. A record older than the one
kept (by the ERP's change time) never replaces it, so overlapping reads are harmless.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import bindings
from ledger.models import Binding

CACHE_KIND = "erp_catalog"


@dataclass
class CachedProduct:
    seq_produto: int
    product: dict[str, Any] | None
    skus: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Both halves are known: the product record and at least one packaging."""
        return self.product is not None and bool(self.skus)

    @property
    def changed_at(self) -> str:
        times = [r["changed_at"] for r in [self.product, *self.skus.values()] if r]
        return max(times) if times else ""


def _newer_or_same(fresh: Mapping[str, Any], kept: Mapping[str, Any] | None) -> bool:
    if kept is None:
        return True
    return datetime.fromisoformat(fresh["changed_at"]) >= datetime.fromisoformat(kept["changed_at"])


def merge(
    session: Session,
    shop_id: int,
    products: Iterable[Mapping[str, Any]] = (),
    skus: Iterable[Mapping[str, Any]] = (),
) -> dict[int, CachedProduct]:
    """Fold fresh ERP records into the cache; returns the touched products as now cached.

    Rows whose content did not change are not rewritten. (The initial load does the same
    batch by batch during its read: jobs/catalog_initial.py.)
    """
    fresh_products, fresh_skus = _latest(products, skus)
    cached = load(session, shop_id, set(fresh_products) | set(fresh_skus))
    dirty = overlay(cached, fresh_products, fresh_skus)
    write(session, shop_id, [cached[seq] for seq in sorted(dirty)])
    return cached


def write(session: Session, shop_id: int, entries: Iterable[CachedProduct]) -> None:
    """Upsert these cache rows as they are (bindings.write_encoded; the JSON encoded by orjson)."""
    bindings.write_encoded(session, shop_id, CACHE_KIND, encode(entries))


def encode(entries: Iterable[CachedProduct]) -> list[bindings.EncodedRow]:
    """Cache rows as `bindings.write_encoded` takes them (no Shopify id, no digest: data only)."""
    return [
        (str(e.seq_produto), None, None, orjson.dumps({"product": e.product, "skus": e.skus}).decode())
        for e in entries
    ]


def preview(
    session: Session,
    shop_id: int,
    products: Iterable[Mapping[str, Any]] = (),
    skus: Iterable[Mapping[str, Any]] = (),
) -> dict[int, CachedProduct]:
    """What `merge` would make of the cache, without writing (the dry-run diff)."""
    fresh_products, fresh_skus = _latest(products, skus)
    cached = load(session, shop_id, set(fresh_products) | set(fresh_skus))
    overlay(cached, fresh_products, fresh_skus)
    return cached


class FreshRecords:
    """The newest record per product and per SKU among those read so far, kept record by record
    (what `_latest` computes at once): the initial load stages products from it mid-read."""

    def __init__(self) -> None:
        self.products: dict[int, Mapping[str, Any]] = {}
        self.skus: dict[int, dict[str, Mapping[str, Any]]] = {}

    def add_product(self, record: Mapping[str, Any]) -> int:
        seq = int(record["seq_produto"])
        if _newer_or_same(record, self.products.get(seq)):
            self.products[seq] = record
        return seq

    def add_sku(self, record: Mapping[str, Any]) -> int:
        seq = int(record["seq_produto"])
        group = self.skus.get(seq)
        if group is None:  # (not setdefault: a dict to throw away for every record of a known product)
            group = self.skus[seq] = {}
        if _newer_or_same(record, group.get(record["id_sku"])):
            group[record["id_sku"]] = record
        return seq


def _latest(
    products: Iterable[Mapping[str, Any]], skus: Iterable[Mapping[str, Any]]
) -> tuple[dict[int, Mapping[str, Any]], dict[int, dict[str, Mapping[str, Any]]]]:
    """The newest record per product / per SKU among those read (an overlapping read repeats)."""
    fresh_products: dict[int, Mapping[str, Any]] = {}
    for record in products:
        seq = int(record["seq_produto"])
        if _newer_or_same(record, fresh_products.get(seq)):
            fresh_products[seq] = record
    fresh_skus: dict[int, dict[str, Mapping[str, Any]]] = {}
    for record in skus:
        group = fresh_skus.setdefault(int(record["seq_produto"]), {})
        if _newer_or_same(record, group.get(record["id_sku"])):
            group[record["id_sku"]] = record
    return fresh_products, fresh_skus


def overlay(
    cached: dict[int, CachedProduct],
    products: Mapping[int, Mapping[str, Any]],
    skus: Mapping[int, Mapping[str, Mapping[str, Any]]],
) -> set[int]:
    """Apply fresh records onto cached entries in memory (older ones never win); dirty seqs."""
    dirty: set[int] = set()
    for seq, product in products.items():
        entry = cached.get(seq)
        if entry is None:  # (not setdefault: that builds an entry to throw away for every known one)
            entry = cached[seq] = CachedProduct(seq, None)
        if _newer_or_same(product, entry.product) and entry.product != product:
            entry.product = dict(product)
            dirty.add(seq)
    for seq, group in skus.items():
        entry = cached.get(seq)
        if entry is None:
            entry = cached[seq] = CachedProduct(seq, None)
        for id_sku, sku in group.items():
            kept = entry.skus.get(id_sku)
            if _newer_or_same(sku, kept) and kept != sku:
                entry.skus[id_sku] = dict(sku)
                dirty.add(seq)
    return dirty


def missing(
    entries: Mapping[int, CachedProduct],
    products_read: Collection[int],
    skus_read: Mapping[int, Collection[str]],
    spare: Collection[int | None] = (),
) -> dict[int, list[str]]:
    """After a complete read of both streams (a full sync, the dry run): the cached packagings
    (idSkus per product, not retired yet) of the products the reads returned that the SKU read no
    longer lists: the product moved to another family, or its family has no packaging left; or
    the read missed them (changed mid-read, a read cut short: the full sync checks before acting,
    jobs.catalog_unlisted). A product neither read returned is left out: nothing tells it changed.

    `entries`: the products as the reads left them; `skus_read`: the idSkus read per product;
    `spare`: products left out (a packaging record of theirs could not be read:
    jobs.catalog_malformed). Pure, so the full sync (jobs.catalog_initial) and the dry run
    (jobs.catalog_diff) apply one rule.
    """
    found: dict[int, list[str]] = {}
    for seq, entry in entries.items():
        read = skus_read.get(seq) or ()
        if (not read and seq not in products_read) or seq in spare:
            continue  # not returned by the reads: nothing tells it changed
        gone = sorted(i for i, record in entry.skus.items() if i not in read and not record.get("gone"))
        if gone:
            found[seq] = gone
    return found


def retire(entries: Mapping[int, CachedProduct], packagings: Mapping[int, Collection[str]]) -> list[int]:
    """Retire these cached packagings (idSkus per product, as `missing` gives them): each is kept as
    an inactive variant (never deleted, not for sale: inventoryPolicy DENY, its binding inactive, 0
    in stock) instead of staying on sale; a product left without an active one leaves the sale
    (`inactive_sku_status`). Its record keeps its change time, so the packaging coming back in the
    ERP wins over it. `entries` are changed in place; returns the products changed."""
    changed: list[int] = []
    for seq, ids in packagings.items():
        entry = entries.get(seq)
        for id_sku in ids:
            record = entry.skus.get(id_sku) if entry is not None else None
            if entry is not None and record is not None and not record.get("gone"):
                entry.skus[id_sku] = {**record, "active": False, "gone": True}
                changed.append(seq)
    return sorted(set(changed))


def moved_away(
    entries: Mapping[int, CachedProduct],
    skus_read: Mapping[int, Collection[str]],
    since: datetime | None,
    spare: Collection[int | None] = (),
) -> dict[int, list[str]]:
    """After an incremental SKU read: what `missing` finds on the products whose own record
    (ProdutoCV, as cached) changed at or after the read's `since` and of which the read returned a
    packaging; the skus pass retires them once their absence is checked (jobs.catalog_flow
    _retire_moved).

    Why: ProdutoSku's change time is the greater of the product's and the packaging's
    (docs/consinco-api.md, section 4), so once a product changes (it moved to another family),
    every packaging it still has comes back with a change time at or after the product's: the read
    holds them all, and a cached one it lacks is gone from the ERP; unless the product changed
    again while the read ran (its packagings not served yet then left the read's window: the
    check's re-read lists them). Without this only a full sync would retire it, and the variant
    would stay on sale. A product the read returned nothing of is left alone (its new records are
    later than the read's snapshot), and so is one whose cached record is older than `since` (the
    read only returns what changed). `entries`: the products as the read left them; `skus_read`:
    the idSkus read per product; `spare`: as `missing`. Pure: nothing is changed.
    """
    whole = {
        seq: entries[seq]
        for seq, read in skus_read.items()
        if read
        and seq in entries
        and entries[seq].product is not None
        and (since is None or datetime.fromisoformat(entries[seq].product["changed_at"]) >= since)
    }
    return missing(whole, (), skus_read, spare)


def load(session: Session, shop_id: int, seqs: Iterable[int]) -> dict[int, CachedProduct]:
    """The cached records of these products (an unknown product comes back empty)."""
    wanted = [int(s) for s in seqs]
    found = bindings.get_many(session, shop_id, CACHE_KIND, (str(s) for s in wanted))
    result: dict[int, CachedProduct] = {}
    for seq in wanted:
        row = found.get(str(seq))
        data = dict(row.data or {}) if row is not None else {}
        skus = {k: dict(v) for k, v in (data.get("skus") or {}).items()}
        result[seq] = CachedProduct(seq, dict(data["product"]) if data.get("product") else None, skus)
    return result


def known_packagings(session: Session, shop_id: int) -> int:
    """How many packagings the cache holds not retired: the catalog's, which a share of missing
    ones is measured against (jobs.absence)."""
    stmt = (
        select(Binding.data)
        .where(Binding.shop_id == shop_id, Binding.kind == CACHE_KIND)
        .execution_options(yield_per=1000)
    )
    return sum(
        1 for data in session.scalars(stmt) for record in ((data or {}).get("skus") or {}).values()
        if not record.get("gone")
    )  # fmt: skip


def all_seqs(session: Session, shop_id: int) -> list[int]:
    """Every product the cache knows, ascending."""
    stmt = select(Binding.erp_id).where(Binding.shop_id == shop_id, Binding.kind == CACHE_KIND)
    return sorted(int(erp_id) for erp_id in session.scalars(stmt))

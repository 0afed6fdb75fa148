"""Products already in Shopify without the app's custom id: adopted, never made a second time.

Why: productSet upserts by the custom id (consinco.seq_produto), so a product the app did not make
is invisible to it. A supermarket moving from the middleware this app replaces has its catalog in
Shopify already, with the ERP's SKUs and EANs on the variants and no custom id; a first load that
created every product anew would put each on the storefront twice (the old one still selling, with
its orders, reviews, collections and stock). So is a product whose productSet answer was lost when
Shopify did not set the custom id on it (jobs/catalog_custom_id.py: Shopify's docs do not promise
it), or one the merchant made by hand with the ERP's SKU.

So before any product is created (catalog_load.sync: the products planned "create", either path)
the variants holding their SKUs (P{seqproduto}E{qtdembalagem}) or EANs are looked up in Shopify
(`look_up`): by search query, 20 codes a call (each as sku and as barcode), or for a first load (more than
WHOLE_SHOP_ABOVE products to create) every variant of the shop, page after page. Only products
without a custom id and not bound in the ledger count: one with a custom id is the app's (its
productSet upserts onto it) or another ERP product's.
- No such product: created, as before.
- Exactly one, each of its variants one of the product's packagings (by SKU, or else by an EAN
  only one packaging has, in its barcode or its SKU; never a bundle's variant, nor one whose SKU is
  another ERP product's): adopted (`bind`). Its product binding names it, without digest and
  MISSING (catalog_custom_id: its custom id is set first, by its id, before anything is sent), and
  each matched packaging is bound to its variant: productSet then updates that product, its
  variants kept by id (their orders, stock history and channel publishing with them), and the
  prices and stock flows send theirs to them (catalog_ledger.record_sent: `ADOPTED` variants are
  repriced and their stock rechecked). The product is not published again: the merchant's
  channels stay as they were (one on no channel, a lost create's, is published).
A product Shopify holds with this product's own custom id is the app's: productSet upserts onto
it, and no other product holding its codes is adopted (a ledger restored from a backup).
- Anything else is a person's to decide: several products hold its codes, the one product holds
  variants that are none of its packagings (productSet would delete them), two of its variants
  are one packaging, or the product is claimed by another ERP product too. Nothing is sent for it:
  its message fails, rejected with CONFLICT_CODE, naming the products and codes; the merchant
  merges or deletes in Shopify admin (or changes a code) and clicks Retry, which looks again.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.catalog_custom_id import MISSING
from jobs.catalog_map import MappedProduct
from ledger import bindings
from ledger.bindings import PRODUCT_KIND, VARIANT_KIND, BindingRow
from ledger.errors import Rejected
from ledger.models import Binding
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.results import CatalogVariant

log = logging.getLogger(__name__)

WHOLE_SHOP_ABOVE = 200  # products to create above which every variant of the shop is read once
TERMS_PER_QUERY = 40  # search terms in one query (product ids; a code is two: sku:..., barcode:...)
ERP_SKU = re.compile(r"P\d+E\d+")  # an ERP product's SKU (catalog_map: P{seqproduto}E{qtdembalagem})
CONFLICT_CODE = "EXISTING_PRODUCT_CONFLICT"
ADOPTED = "adopted"  # variant binding data: bound by adoption, its price and stock still to send
NAMED = 5  # codes / products named in a conflict's words


@dataclass(frozen=True)
class Adoption:
    product_id: str
    title: str
    variants: dict[str, str]  # {idSku: ProductVariant gid}
    unpublished: bool = False  # on no sales channel (a lost create's): published once adopted


@dataclass
class Found:
    adopted: dict[int, Adoption] = field(default_factory=dict)
    conflicts: dict[int, Rejected] = field(default_factory=dict)


@dataclass
class _Product:
    id: str
    title: str
    variants: list[CatalogVariant] = field(default_factory=list)
    channels: int | None = None


@dataclass
class _Read:
    """The products without a custom id the read found, and the custom ids of those with one."""

    foreign: dict[str, _Product] = field(default_factory=dict)
    owned: set[str] = field(default_factory=set)


def look_up(client: AdminClient, session: Session, shop_id: int, creates: Sequence[MappedProduct]) -> Found:
    """What Shopify already holds of these products to create (module docstring)."""
    if not creates:
        return Found()
    if len(creates) > WHOLE_SHOP_ABOVE:
        read = _foreign(client.catalog_variants())
    else:
        read = _foreign(_searched(client, creates))
        if read.foreign:  # their other variants too: a product is adopted only whole
            read.foreign = _foreign(_searched_products(client, list(read.foreign))).foreign
    if not read.foreign:
        return Found()
    bound = _bound(session, shop_id, list(read.foreign))
    products = {pid: p for pid, p in read.foreign.items() if pid not in bound}
    # a product whose own custom id Shopify holds is the app's (its productSet upserts onto it):
    # never another one adopted for it (a ledger restored from a backup, a copy made by hand)
    found = decide([m for m in creates if str(m.seq_produto) not in read.owned], products)
    if found.adopted or found.conflicts:
        log.info("catalog: %s product(s) to create are in Shopify already without the ERP id: %s adopted, "
                 "%s held for a person", len(found.adopted) + len(found.conflicts), len(found.adopted),
                 len(found.conflicts))  # fmt: skip
    return found


def decide(creates: Sequence[MappedProduct], products: Mapping[str, _Product]) -> Found:
    """Each product to create: adopted, held (a conflict), or neither (none holds its codes)."""
    by_code: dict[str, set[str]] = defaultdict(set)
    for product in products.values():
        for variant in product.variants:
            for code in (variant.sku, variant.barcode):
                if code and code.strip():
                    by_code[_same(code)].add(product.id)
    found = Found()
    claims: dict[str, list[int]] = defaultdict(list)
    for mapped in creates:
        codes = _codes(mapped)
        holders = sorted({pid for code in codes for pid in by_code.get(_same(code), ())})
        if not holders:
            continue
        for pid in holders:  # every ERP product whose codes a Shopify product holds, held or not
            claims[pid].append(mapped.seq_produto)
        if len(holders) > 1:
            found.conflicts[mapped.seq_produto] = _conflict(
                mapped, "several Shopify products hold its SKUs or EANs: " + _named(products, holders),
                "keep one of them (copy over anything of the others you need) and delete the others",
                holders,
            )  # fmt: skip
            continue
        product = products[holders[0]]
        matched, strays = _match(mapped, product)
        if strays:
            found.conflicts[mapped.seq_produto] = _conflict(
                mapped, f"{_named(products, holders)} holds its SKUs or EANs, and also variants that are "
                f"not its packagings ({', '.join(strays[:NAMED])}), which updating it would delete",
                "move those variants to a product of their own or delete them", holders,
            )  # fmt: skip
            continue
        found.adopted[mapped.seq_produto] = Adoption(
            product.id, product.title, matched, product.channels == 0
        )
    # One Shopify product holding the codes of several ERP products (a SKU mistyped as another
    # product's idSku, beside the first one's EAN): which is it? Not the one whose SKU it happens to
    # carry: every one adopting it is held too, the others held already or not.
    for pid, seqs in claims.items():
        if len(seqs) > 1:
            for seq in seqs:
                if seq not in found.adopted:
                    continue
                del found.adopted[seq]
                mapped = next(m for m in creates if m.seq_produto == seq)
                others = ", ".join(str(s) for s in seqs if s != seq)
                found.conflicts[seq] = _conflict(
                    mapped, f"{_named(products, [pid])} holds its SKUs or EANs, and those of ERP product(s) "
                    f"{others} too", "give that product's variants the codes of one ERP product only",
                    [pid],
                )  # fmt: skip
    return found


def bind(session: Session, shop_id: int, adopted: Mapping[int, Adoption]) -> None:
    """Bind each adopted product and its matched variants (module docstring)."""
    rows = [
        BindingRow(str(seq), a.product_id, None,
                   {MISSING: True, ADOPTED: True, **({"publish_pending": True} if a.unpublished else {})})
        for seq, a in adopted.items()
    ]  # fmt: skip
    bindings.upsert_many(session, shop_id, PRODUCT_KIND, rows)
    bindings.upsert_many(
        session,
        shop_id,
        VARIANT_KIND,
        [
            BindingRow(sku, variant_id, None, {"product_id": a.product_id, ADOPTED: True})
            for a in adopted.values()
            for sku, variant_id in a.variants.items()
        ],
    )


def _codes(mapped: MappedProduct) -> list[str]:
    """The codes a variant of this product may carry in Shopify: its SKUs, and its valid EANs
    (as sent, without spaces; and without leading zeros too, as some stores keep them)."""
    skus = [s["id_sku"] for s in mapped.skus]
    eans = [form for ean in filter(None, map(_ean, mapped.skus)) for form in (ean, ean.lstrip("0")) if form]
    return list(dict.fromkeys([*skus, *eans]))


def _ean(sku: Mapping[str, Any]) -> str | None:
    ean = (sku.get("ean") or "").strip()
    return ean if ean and not sku.get("barcode_problem") else None


def _same(code: str) -> str:
    """A code as compared: no spaces, a number without its leading zeros (GTIN-13 and GTIN-14 of
    one item), letters in upper case."""
    code = code.strip()
    return code.lstrip("0") or "0" if code.isdigit() else code.upper()


def _match(mapped: MappedProduct, product: _Product) -> tuple[dict[str, str], list[str]]:
    """({idSku: variant gid} of the product's variants that are this product's packagings; the
    codes of those that are none, or a packaging already matched).

    A variant is a packaging by its SKU, else by an EAN only one packaging has, in its barcode or in
    its SKU (connectors that put the EAN there) — but never a bundle's variant (made of other
    variants), nor one whose SKU is another ERP product's (P{seq}E{qtd}: that product's, whatever
    its barcode says)."""
    skus = {_same(s["id_sku"]): s["id_sku"] for s in mapped.skus}
    by_ean: dict[str, list[str]] = defaultdict(list)
    for s in mapped.skus:
        if ean := _ean(s):
            by_ean[_same(ean)].append(s["id_sku"])
    matched: dict[str, str] = {}
    strays: list[str] = []
    for variant in product.variants:
        sku_code = _same(variant.sku or "")
        sku = skus.get(sku_code)
        if sku is None and not variant.bundle and not ERP_SKU.fullmatch(sku_code):
            for code in (variant.barcode, variant.sku):
                found = by_ean.get(_same(code or ""), ())
                if len(found) == 1:
                    sku = found[0]
                    break
        if sku is None or sku in matched or variant.bundle:
            strays.append(variant.sku or variant.barcode or variant.id)
            continue
        matched[sku] = variant.id
    return matched, strays


def _conflict(mapped: MappedProduct, what: str, fix: str, holders: Sequence[str]) -> Rejected:
    seq = mapped.seq_produto
    text = (
        f"Product {seq} was not created in Shopify: {what}, without the app's ERP id. The app does not "
        f"create a second product, nor take one over on a guess. In Shopify admin, {fix}; or, if it is "
        "another product, change its SKU and barcode there. Then retry this message."
    )
    return Rejected(text, system="shopify", code=CONFLICT_CODE,
                    detail={"seq_produto": seq, "products": list(holders)})  # fmt: skip


def _named(products: Mapping[str, _Product], ids: Iterable[str]) -> str:
    ids = list(ids)
    named = ", ".join(f'"{products[pid].title}" ({pid})' for pid in ids[:NAMED])
    return named + (f" and {len(ids) - NAMED} more" if len(ids) > NAMED else "")


def _foreign(variants: Iterable[CatalogVariant]) -> _Read:
    """The products of these variants that carry no custom id, with those of their variants read;
    the custom ids of the others."""
    read = _Read()
    seen: set[str] = set()
    for variant in variants:
        if variant.custom_id:
            read.owned.add(variant.custom_id)
            continue
        if variant.id in seen:
            continue
        seen.add(variant.id)
        product = read.foreign.setdefault(
            variant.product_id, _Product(variant.product_id, variant.product_title, channels=variant.channels)
        )
        product.variants.append(variant)
    return read


def _searched(client: AdminClient, creates: Sequence[MappedProduct]) -> Iterable[CatalogVariant]:
    codes = list(dict.fromkeys(code for mapped in creates for code in _codes(mapped)))
    for start in range(0, len(codes), TERMS_PER_QUERY // 2):
        chunk = codes[start : start + TERMS_PER_QUERY // 2]
        query = " OR ".join(f"{name}:{_quoted(code)}" for code in chunk for name in ("sku", "barcode"))
        yield from client.catalog_variants(query)


def _searched_products(client: AdminClient, product_ids: Sequence[str]) -> Iterable[CatalogVariant]:
    for start in range(0, len(product_ids), TERMS_PER_QUERY):
        chunk = product_ids[start : start + TERMS_PER_QUERY]
        query = " OR ".join(f"product_id:{pid.rsplit('/', 1)[-1]}" for pid in chunk)
        yield from client.catalog_variants(query)


def _quoted(code: str) -> str:
    return '"' + code.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bound(session: Session, shop_id: int, product_ids: Sequence[str]) -> set[str]:
    """Those of these Shopify products the ledger binds to an ERP product already."""
    found: set[str] = set()
    for start in range(0, len(product_ids), bindings.READ_CHUNK):
        stmt = select(Binding.shopify_id).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRODUCT_KIND,
            Binding.shopify_id.in_(product_ids[start : start + bindings.READ_CHUNK]),
        )
        found.update(session.scalars(stmt))
    return found

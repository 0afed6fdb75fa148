"""The ERP stock of products the shop sells no packaging of yet, per company (stock flow).

Why: a ProdutoEstoque record is per product (seqProduto, base units). Its `skus` list is an
[assumed] convenience; without it the pass gives a record the packagings the shop sells of the
product (jobs.stock_map.sku_ids), and a product the catalog flow has not created in Shopify yet has
none, so its figure was read and dropped, the watermark moving past it. The catalog flow created
the product minutes later; its first price asked the stock flow for a recheck, which found no figure
(no binding of the SKU, none of a sibling packaging) and wrote no level: the new product showed sold
out until its ERP stock row moved again, or the next daily sweep.

So each pass remembers the base of every record that names no SKU of the shop (binding kind
"stock_unsold", erp_id "<company>:<seqProduto>", data {"base": text | None (no stock control)}), and
a recheck of a SKU with no figure of its own nor of a sibling takes its product's (`bases_for`). A
whole read of the company (its first pass, a location move, the daily sweep) drops the company's
rows it no longer holds, so none outlives its ERP row; every pass writes only the bases that
changed. (The same rows the `skus` list's path keeps per SKU: "stock" bindings waiting for their
variant, one per packaging.)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from ledger import bindings
from ledger.bindings import VARIANT_KIND, BindingRow
from ledger.models import Binding

UNSOLD_KIND = "stock_unsold"
CHUNK = 1000  # ids per IN (...) list


def _key(company: int, seq: int | str) -> str:
    return f"{company}:{seq}"


def remember(
    session: Any, shop_id: int, company: int, bases: Mapping[int, Decimal | None], *, whole: bool
) -> None:
    """Keep the bases of the records read that named no SKU of the shop ({seqProduto: base});
    `whole`: the read held every ERP row of the company, so the company's other rows go."""
    wanted = [_key(company, s) for s in bases]
    if whole:  # the company's rows read whole: those the read no longer holds go, the rest compared
        kept = {
            b.erp_id: b
            for b in session.scalars(
                select(Binding).where(
                    Binding.shop_id == shop_id,
                    Binding.kind == UNSOLD_KIND,
                    Binding.erp_id.like(f"{company}:%"),
                )
            )
        }
        gone = sorted(set(kept) - set(wanted))
        for start in range(0, len(gone), CHUNK):
            session.execute(
                delete(Binding).where(
                    Binding.shop_id == shop_id,
                    Binding.kind == UNSOLD_KIND,
                    Binding.erp_id.in_(gone[start : start + CHUNK]),
                )
            )
    else:
        kept = bindings.get_many(session, shop_id, UNSOLD_KIND, wanted)
    rows = []
    for seq, base in bases.items():
        text = None if base is None else str(base)
        was = kept.get(_key(company, seq))
        if was is None or (was.data or {}).get("base", "absent") != text:
            rows.append(BindingRow(_key(company, seq), None, None, {"base": text}))
    bindings.upsert_many(session, shop_id, UNSOLD_KIND, rows)


def bases_for(session: Any, shop_id: int, company: int, skus: list[str]) -> list[tuple[str, Decimal | None]]:
    """(idSku, its product's remembered base) of the SKUs whose product's record was read while the
    shop sold no packaging of it."""
    if not skus:
        return []
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, skus)
    seq_of = {
        sku: seq for sku, b in variants.items() if (seq := (b.data or {}).get("seq_produto")) is not None
    }
    remembered = {
        erp_id: data
        for erp_id, data in session.execute(
            select(Binding.erp_id, Binding.data).where(
                Binding.shop_id == shop_id,
                Binding.kind == UNSOLD_KIND,
                Binding.erp_id.in_({_key(company, seq) for seq in seq_of.values()}),
            )
        )
    }
    found = []
    for sku, seq in seq_of.items():
        data = remembered.get(_key(company, seq))
        if data is not None and "base" in data:
            found.append((sku, None if data["base"] is None else Decimal(data["base"])))
    return found

"""SKUs the store's (company, segment) has no price record for at all, found by a whole read.

Why: the prices flow reads only the records that changed, so a SKU with no TabelaPrecoItem row
for the store's pair is never read. Once the store link moved to another pair (or the ERP
connection to another ERP), a SKU priced before and not listed by the new pair kept the old
pair's price and `sale_active` true in its "price" binding: the variant stayed on sale at a price
the store does not have. A read from the beginning (the first pass of a pair, and every pass after
the link or the ERP moved: ledger.setup_moves) lists every price the pair has, so a SKU priced
before and missing from it has no price here: not for sale, no price sent, a message saying the
pair has no record for it (jobs.price_unpriced), as with Consinco's "no price" (a normal price 0).

Absence from one read is no proof by itself, so before any SKU goes off sale (`sweep`):
- a row changed while the read ran left its window (docs/consinco-api.md, "Why paging is
  stable": it comes in the next incremental read, not this one): the SKUs missing are checked
  against a read of the changes since the whole read's snapshot, made right after it; those it
  lists are priced by it, not taken off sale;
- a read the client cannot prove whole (`ChangeRead.unsure`: pages asked by number unchecked, an
  end no envelope attested), or SKUs missing that are many and a large share of those priced
  (`HELD_MIN`, `HELD_SHARE`: a wrong read or a wrong store link far more likely than that many
  SKUs not sold in the store), take none off sale: one failed message (`UNIT`) names how many,
  some of them and what to check; they keep their last price meanwhile. Its Retry (a person
  checked) reads the pair whole again and takes off sale those still missing (mid-read changes
  still checked).
Why not wait for a second whole read instead: one comes only after another setup move or a reset,
so the SKUs of a moved pair would stay on sale at the old pair's price indefinitely.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs import price_records
from jobs.price_map import PriceState
from ledger import bindings, trace
from ledger.bindings import PRICE_KIND, VARIANT_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding

FLOW = "prices"
UNIT = "price:unlisted"  # the pass's message when SKUs missing were held on sale for a person
CODE = "UNLISTED_HELD"
# More SKUs missing than both of these and none goes off sale. 20%: a store link moved to
# another segment of the same company lists about the same assortment (a segment-only product
# here and there); a fifth of the catalog missing is a read that stopped, or a pair the store
# does not sell in. 50: a small catalog's few SKUs no longer sold still go off sale by themselves.
HELD_MIN = 50
HELD_SHARE = Decimal("0.2")
SHOWN = 20  # SKUs named in the message's text (all of them, up to 1,000, in its detail)


def sweep(
    shop_id: int, erp: Any, read: Any, listed: Collection[str], company: int, segment: int, *, confirmed: bool
) -> dict[str, PriceState]:
    """After a whole read (`read`, consumed; `listed`: the idSkus it served) of the store's pair:
    the states to send, those of the SKUs taken off sale and those of rows changed mid-read (read
    again since the snapshot). `confirmed`: a person asked for it (the held message's Retry), so
    neither the read's doubt nor the count holds them back."""
    with session_scope() as session:
        missing, priced = _missing(session, shop_id, listed, price_records.unread_skus(read, erp.names))
    if missing is None:  # an unreadable record's SKU cannot be told: it may be any of them
        return {}
    if not missing:
        with session_scope() as session:
            trace.succeed_open(session, shop_id, FLOW, [UNIT], {"unlisted": 0})
        return {}
    meanwhile = erp.price_items(read.snapshot, company, segment)  # rows that left the read's window
    meanwhile.keep_malformed = True  # (its unreadable records are the next pass's to tell)
    newer = {item.id_sku: PriceState.from_item(item) for item in meanwhile}
    unread = price_records.unread_skus(meanwhile, erp.names)
    if None in unread:
        return newer
    gone = sorted(set(missing) - set(newer) - unread)
    doubt = read.unsure or meanwhile.unsure
    many = len(gone) > HELD_MIN and len(gone) > HELD_SHARE * priced
    with session_scope() as session:
        if gone and not confirmed and (doubt or many):
            _hold(session, shop_id, gone, priced, company, segment, doubt)
            return newer
        trace.succeed_open(session, shop_id, FLOW, [UNIT], {"unlisted": len(gone), "confirmed": confirmed})
        return {**newer, **_off_sale(session, shop_id, gone)}


def _missing(
    session: Any, shop_id: int, listed: Collection[str], unread: set[str | None]
) -> tuple[list[str] | None, int]:
    """The SKUs priced before that the read did not list (None: an unreadable record's SKU
    cannot be told), and how many SKUs are priced (of the bindings holding a price state)."""
    priced = {
        row.erp_id
        for row in session.execute(
            select(Binding.erp_id, Binding.data).where(Binding.shop_id == shop_id, Binding.kind == PRICE_KIND)
        )
        if row.data and "normal" in row.data and PriceState.from_data(row.data).priced
    }
    if None in unread:
        return None, len(priced)
    return sorted(sku for sku in priced if sku not in listed and sku not in unread), len(priced)


def _off_sale(session: Any, shop_id: int, skus: list[str]) -> dict[str, PriceState]:
    """The "no price record" state of each SKU, for the prices flow to send; a SKU with no
    product in Shopify yet has the state kept in its binding alone (priced by it when its variant
    appears), not sent."""
    rows = bindings.get_many(session, shop_id, PRICE_KIND, skus)
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, skus)
    found: dict[str, PriceState] = {}
    kept: list[BindingRow] = []
    for sku, row in rows.items():
        off = replace(PriceState.from_data(row.data), normal=Decimal(0), promotional=None, promo_start=None,
                      promo_end=None, promotion_flag=False, sale_active=False, unlisted=True)  # fmt: skip
        variant = variants.get(sku)
        if variant is not None and (variant.data or {}).get("product_id"):
            found[sku] = off
        else:
            kept.append(
                BindingRow(sku, row.shopify_id, row.digest, {**row.data, **off.to_data(), "recheck_on": None})
            )
    bindings.upsert_many(session, shop_id, PRICE_KIND, kept)
    return found


def _hold(
    session: Any, shop_id: int, skus: list[str], priced: int, company: int, segment: int, doubt: str | None
) -> None:
    """One failed message: the SKUs missing stay on sale at their last price, for a person."""
    named = ", ".join(skus[:SHOWN]) + (f" and {len(skus) - SHOWN} more" if len(skus) > SHOWN else "")
    why = (f"the ERP's answer does not prove the read whole ({doubt})" if doubt else
           f"that is {len(skus) * 100 // max(priced, 1)}% of the {priced} SKUs priced: more likely a read "
           f"or setup problem than SKUs no longer sold")  # fmt: skip
    text = (f"The full read of company {company} segment {segment}'s prices did not list {len(skus)} "
            f"SKU(s) priced before ({named}); none was taken off sale, they keep their last price: {why}. "
            f"Check in the ERP that they have a price record (TabelaPrecoItem) for company {company} "
            f"segment {segment}, and that the store's company and segment (Setup) are right. If these SKUs "
            f"are indeed not sold there, Retry: a new full read takes off sale those it still does not "
            f"list.")  # fmt: skip
    message = trace.begin(session, shop_id, FLOW, UNIT, ERP_TO_SHOPIFY, search=skus[:SHOWN],
                          request={"company": company, "segment": segment})  # fmt: skip
    # RETRY_ALONE: its Retry is a person's confirmation, never part of a flow's "Retry failed"
    detail = {"skus": skus[:1000], "count": len(skus), "priced": priced, "company": company,
              "segment": segment, "doubt": doubt, trace.RETRY_ALONE: True}  # fmt: skip
    trace.fail(session, message, Rejected(text, system="consinco", code=CODE, detail=detail))

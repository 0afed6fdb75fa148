"""SKUs the store's (company, segment) has no price record for at all, found by a whole read.

Why: the prices flow reads only the records that changed, so a SKU with no TabelaPrecoItem row
for the store's pair is never read. Once the store link moved to another pair (or the ERP
connection to another ERP), a SKU priced before and not listed by the new pair kept the old
pair's price and `sale_active` true in its "price" binding: the variant stayed on sale at a price
the store does not have. A read from the beginning (the first pass of a pair, and every pass after
the link or the ERP moved: ledger.setup_moves) lists every price the pair has, so a SKU priced
before and missing from it has no price here: not for sale, no price sent, a message saying the
pair has no record for it (jobs.price_unpriced), as with Consinco's "no price" (a normal price 0).

Absence from one read is no proof by itself, so before any SKU goes off sale (`sweep`) the rule
the catalog's full sync applies too holds (jobs.absence):
- a row changed while the read ran left its window: the SKUs missing are checked against a read
  of the changes since the whole read's snapshot, made right after it; those it lists are priced
  by it, not taken off sale;
- a read the client cannot prove whole (`ChangeRead.unsure`), or SKUs missing that are many and a
  large share of those priced (absence.HELD_MIN, absence.HELD_SHARE: a wrong read or a wrong
  store link far more likely than that many SKUs not sold in the store), take none off sale: one
  failed message (`UNIT`, code UNLISTED_HELD) names how many, some of them and what to check;
  they keep their last price meanwhile. Its Retry (a person checked) reads the pair whole again
  and takes off sale those the message named that are still missing (mid-read changes still
  checked: absence.confirmed_by); anything else the new read misses follows the rule above (held
  again, the message then naming those). A held message a later read closed confirms nothing:
  its Replay is an ordinary whole read. An unreadable record whose SKU cannot be told takes
  nothing off sale; on a person's Retry the message says so (absence.untold).
Why not wait for a second whole read instead: one comes only after another setup move or a reset,
so the SKUs of a moved pair would stay on sale at the old pair's price indefinitely.
The same read also says the SKUs in Shopify never priced that the pair does not list
(jobs.price_never_listed): they are not on sale, but nothing else would name them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs import absence, price_never_listed, price_records
from jobs.price_map import PriceState
from ledger import bindings, trace
from ledger.bindings import PRICE_KIND, VARIANT_KIND, BindingRow
from ledger.db import session_scope
from ledger.models import Binding
from ledger.words import Words

FLOW = "prices"
UNIT = "price:unlisted"  # the pass's message when SKUs missing were held on sale for a person
FULL_READ, MEANWHILE = "the full read", "the read of the changes made meanwhile"  # `_untold`'s reads
WHERE_WORDS: dict[str, Words] = {  # ... in the merchant's words
    FULL_READ: ("untold_full_read", {}),
    MEANWHILE: ("untold_read_meanwhile", {}),
}


def sweep(
    shop_id: int,
    erp: Any,
    read: Any,
    listed: Collection[str],
    company: int,
    segment: int,
    *,
    confirmed: Collection[str],
) -> dict[str, PriceState]:
    """After a whole read (`read`, consumed; `listed`: the idSkus it served) of the store's pair:
    the states to send, those of the SKUs taken off sale and those of rows changed mid-read (read
    again since the snapshot). `confirmed`: the SKUs a person confirmed (those the held message
    named: its Retry, absence.confirmed_by), taken off sale if still missing whatever the read's
    doubt or their count; the others follow the rule."""
    unread_whole = price_records.unread_skus(read, erp.names)
    with session_scope() as session:
        missing, priced = _missing(session, shop_id, listed, unread_whole)
        never, bound = price_never_listed.candidates(session, shop_id, listed, unread_whole)
    if missing is None:  # an unreadable record's SKU cannot be told: it may be any of them
        _untold(shop_id, confirmed, company, segment, FULL_READ)
        return {}
    if not missing and not never:
        with session_scope() as session:
            trace.succeed_open(session, shop_id, FLOW, [UNIT], {"unlisted": 0})
            price_never_listed.say(session, shop_id, {}, bound, company, segment, None)
        return {}
    meanwhile = erp.price_items(read.snapshot, company, segment)  # rows that left the read's window
    meanwhile.keep_malformed = True  # (its unreadable records are the next pass's to tell)
    newer = {item.id_sku: PriceState.from_item(item) for item in meanwhile}
    unread = price_records.unread_skus(meanwhile, erp.names)
    if None in unread:
        _untold(shop_id, confirmed, company, segment, MEANWHILE)
        return newer
    gone = sorted(set(missing) - set(newer) - unread)
    doubt = absence.doubt(read, meanwhile)
    with session_scope() as session:  # never priced, and not listed meanwhile either: said
        unpriced = {sku: seq for sku, seq in never.items() if sku not in newer and sku not in unread}
        price_never_listed.say(session, shop_id, unpriced, bound, company, segment, doubt)
    if not missing:
        with session_scope() as session:
            trace.succeed_open(session, shop_id, FLOW, [UNIT], {"unlisted": 0})
        return newer
    verdict = absence.decide(gone, priced, doubt, confirmed, known_as="SKUs priced",
                             rather="SKUs no longer sold")  # fmt: skip
    with session_scope() as session:
        if verdict.why is not None:
            _hold(session, shop_id, verdict.held, priced, company, segment, doubt, verdict.why,
                  retired=verdict.confirmed)  # fmt: skip
            no_promotion_to_come(session, shop_id, verdict.held)
        else:
            trace.succeed_open(session, shop_id, FLOW, [UNIT],
                               {"unlisted": len(verdict.now), "confirmed": verdict.confirmed})  # fmt: skip
        return {**newer, **(_off_sale(session, shop_id, verdict.now) if verdict.now else {})}


def _untold(shop_id: int, confirmed: Collection[str], company: int, segment: int, where: str) -> None:
    """Nothing taken off sale: an unreadable price record of `where` names no SKU, so any may be
    that one. On a person's Retry (`confirmed`) its held message says so (absence.untold)."""
    if not confirmed:
        return

    def words(skus: list[str]) -> Words:
        pair = {"company": company, "segment": segment}
        return ("prices_unlisted_untold", {**pair, "where": WHERE_WORDS[where], "count": len(skus),
                                           **named(skus)})  # fmt: skip

    def text(skus: list[str]) -> str:
        return (f"The Retry read company {company} segment {segment}'s prices whole again, but a price "
                f"record of {where} could not be read and names no SKU (its own message says which): any "
                f"SKU may be that one, so none was taken off sale this time of the {len(skus)} SKU(s) this "
                f"message names ({absence.named(skus)}); they keep their last price. Once the ERP serves "
                f"that record right, Retry again: a new full read takes off sale those it still does not "
                f"list.")  # fmt: skip

    with session_scope() as session:
        absence.untold(session, shop_id, FLOW, UNIT, text, where, words)


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


def no_promotion_to_come(session: Any, shop_id: int, skus: list[str], kind: str = PRICE_KIND) -> None:
    """SKUs held on sale at their last price forget a promotion of the record they were priced from
    that has not started: its start date (`recheck_on`) started it, a price no record of the store's
    pair gives, while the held message said they keep their last price. One running keeps its end
    date: its end gives back the normal price, not a promotional one kept for ever. `skus`: the
    bindings' erp ids (a market's list prices: `kind` list_price, its list's prefix and the SKU)."""
    rows = bindings.get_many(session, shop_id, kind, skus)
    to_come = [
        BindingRow(sku, row.shopify_id, row.digest, {**row.data, **replace(PriceState.from_data(row.data),
                   promotional=None, promo_start=None, promo_end=None, promotion_flag=False).to_data(),
                   "recheck_on": None})
        for sku, row in rows.items()
        if row.data and row.data.get("recheck_on") and row.data["recheck_on"] == row.data.get("promo_start")
    ]  # fmt: skip
    bindings.upsert_many(session, shop_id, kind, to_come)


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
    session: Any,
    shop_id: int,
    skus: list[str],
    priced: int,
    company: int,
    segment: int,
    doubt: str | None,
    why: str,
    retired: int = 0,
) -> None:
    """One failed message: the SKUs missing stay on sale at their last price, for a person
    (`retired`: how many others the Retry of its earlier text took off sale, those it named)."""
    text = (f"The full read of company {company} segment {segment}'s prices did not list {len(skus)} "
            f"SKU(s) priced before ({absence.named(skus)}); none was taken off sale, they keep their last "
            f"price: {why}. Check in the ERP that they have a price record (TabelaPrecoItem) for company "
            f"{company} segment {segment}, and that the store's company and segment (Setup) are right. If "
            f"these SKUs are indeed not sold there, Retry: a new full read takes off sale those it still "
            f"does not list.")  # fmt: skip
    if retired:
        text = (f"{text} Besides, the {retired} SKU(s) confirmed by the Retry were taken off sale; those "
                f"above were not named then.")  # fmt: skip
    pair = {"company": company, "segment": segment}
    detail = {"priced": priced, **pair, "doubt": doubt}
    why_words = held_words(len(skus), priced, doubt)
    besides = ("prices_unlisted_held_retired", {"count": retired}) if retired else None
    words = ("prices_unlisted_held", {**pair, "count": len(skus), **named(skus), "why": why_words,
                                      "retired": besides})  # fmt: skip
    absence.hold(session, shop_id, FLOW, UNIT, text, code="UNLISTED_HELD", items=skus,
                 search=skus[: absence.SHOWN], request=pair, detail=detail, words=words)  # fmt: skip


def held_words(count: int, priced: int, doubt: str | None) -> Words:
    """Why a whole price read's missing SKUs were held, in the merchant's words: the read not proven
    whole (TabelaPrecoItem's paging), or too many of those priced (absence.held_why's figures).
    Also a market's list prices held (jobs.price_lists)."""
    if doubt:
        return ("prices_held_read_unsure", {})
    return ("held_too_many_skus_priced", {"share": count * 100 // max(priced, 1), "known": priced})


def named(skus: list[str]) -> dict[str, Any]:
    """absence.named(skus) in words: the params "named" (the first absence.SHOWN) and "more"."""
    more = len(skus) - absence.SHOWN
    return {"named": skus[: absence.SHOWN], "more": ("held_more", {"count": more}) if more > 0 else None}

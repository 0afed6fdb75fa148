"""SKUs in Shopify the store's (company, segment) has never had a price record for, said.

Part of the prices flow's whole read (jobs.price_unlisted.sweep). The products flow creates a
variant at R$ 0.00 with no price; the stock flow holds it at 0 until the prices flow prices it
(jobs.stock_map.for_sale). A SKU the pair has no TabelaPrecoItem row for is never read, so it has
no "price" binding at all: it stayed at R$ 0.00 and sold out for good with no message anywhere
(jobs.price_unlisted looks only at SKUs priced before). A whole read lists every price the pair
has: a bound variant with no price binding that neither it nor the read of the changes made
meanwhile lists gets a failed message of its own (jobs.price_unpriced, NO_PRICE_RECORD, unit
"price:<seqProduto>:<idSku>"), naming the SKU and what the ERP lacks. It is closed by the pass
that prices the SKU (jobs.price_send.record_applied), so it resolves by itself once the price
appears.

Many at once, a large share of the variants (jobs.absence.held_why), or a read the client cannot
prove whole, are more likely a read or setup problem (a wrong store link) than that many SKUs
not sold in the store: one failed message (`UNIT`, code NEVER_PRICED_HELD) names how many and
some of them instead of one per SKU. Nothing is taken off sale either way (they never were on
sale). It is done once every SKU it names is priced (`settle`, each pass), or when a later whole
read finds none; its Retry (alone, a person's) reads the pair whole again (jobs.prices.replay).
Only a whole read can tell: an incremental read does not list a price that did not change.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from jobs import absence, price_unpriced
from ledger import handled, trace
from ledger.bindings import PRICE_KIND, VARIANT_KIND
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, MessageStatus

FLOW = "prices"
UNIT = "price:never-listed"  # the whole read's one message when many were found at once
CODE = "NEVER_PRICED_HELD"


def candidates(
    session: Any, shop_id: int, listed: Collection[str], unread: set[str | None]
) -> tuple[dict[str, int], int]:
    """The bound variants (idSku -> seqProduto) with no "price" binding at all that the whole read
    did not list (nor name in an unreadable record), and how many variants are bound."""
    priced = set(
        session.scalars(select(Binding.erp_id).where(Binding.shop_id == shop_id, Binding.kind == PRICE_KIND))
    )
    variants = session.execute(
        select(Binding.erp_id, Binding.shopify_id, Binding.data).where(
            Binding.shop_id == shop_id, Binding.kind == VARIANT_KIND
        )
    ).all()
    found = {
        sku: int((data or {}).get("seq_produto") or 0)
        for sku, variant_id, data in variants
        if variant_id and (data or {}).get("product_id")
        and sku not in priced and sku not in listed and sku not in unread
    }  # fmt: skip
    return found, len(variants)


def say(
    session: Any,
    shop_id: int,
    never: dict[str, int],
    known: int,
    company: int,
    segment: int,
    doubt: str | None,
) -> None:
    """One message per SKU never priced (`never`: idSku -> seqProduto, those the read of the
    changes made meanwhile did not list either), or one for them all when held_why says so. A SKU
    whose own message a person closed as handled (the store does not sell it) is not said again,
    nor the one for them all while it named every SKU (absence.settled_hold): the daily whole read
    (jobs.prices_full) would otherwise reopen them every day."""
    closed = handled.closed_at(
        session, shop_id, FLOW, [price_unpriced.store_unit(q, k) for k, q in never.items()]
    )
    never = {sku: seq for sku, seq in never.items() if price_unpriced.store_unit(seq, sku) not in closed}
    skus = sorted(never)
    why = absence.held_why(
        len(skus), known, doubt, known_as="SKUs in Shopify", rather="SKUs not sold in the store"
    )
    if not skus:
        trace.succeed_open(session, shop_id, FLOW, [UNIT], {"never_priced": 0})
        return
    if why is None:
        trace.succeed_open(session, shop_id, FLOW, [UNIT], {"never_priced": len(skus), "said": "per SKU"})
        for sku in skus:
            where = (
                "its variant in Shopify was never priced (R$ 0.00) and is not for sale until the ERP has a "
                f"price record (TabelaPrecoItem) for it at company {company} segment {segment}"
            )
            price_unpriced.explain(session, shop_id, price_unpriced.store_unit(never[sku], sku), sku, company,
                                   segment, where=where, unlisted=True)  # fmt: skip
        return
    if absence.settled_hold(session, shop_id, FLOW, UNIT, skus):
        return
    text = (f"The full read of company {company} segment {segment}'s prices does not list {len(skus)} SKU(s) "
            f"that have a variant in Shopify and were never priced ({absence.named(skus)}): they stay at R$ "
            f"0.00, not for sale, until the ERP has a price record (TabelaPrecoItem) for them at company "
            f"{company} segment {segment}. Said here at once, not one message each: {why}. Check that the "
            f"store's company and segment (Setup) are right, and their price records in the ERP; Retry reads "
            f"the pair's prices whole again.")  # fmt: skip
    message = trace.begin(session, shop_id, FLOW, UNIT, ERP_TO_SHOPIFY, search=skus[: absence.SHOWN],
                          request={"company": company, "segment": segment})  # fmt: skip
    detail = {"skus": skus[:1000], "count": len(skus), "company": company, "segment": segment,
              "doubt": doubt, trace.RETRY_ALONE: True}  # fmt: skip
    trace.fail(session, message, Rejected(text, system="consinco", code=CODE, detail=detail))


def settle(session: Any, shop_id: int) -> None:
    """The held message (`UNIT`) is done once every SKU it names has a price binding (priced, or
    its ERP price read since)."""
    open_ = [
        m for m in trace.open_units(session, shop_id, FLOW, UNIT) if m.status == MessageStatus.FAILED.value
    ]
    for message in open_:
        named = [str(s) for s in (message.error_detail or {}).get("skus") or ()]
        if len(named) < int((message.error_detail or {}).get("count") or 0):
            continue  # it names only some of them: the next whole read tells
        priced = set(
            session.scalars(
                select(Binding.erp_id).where(
                    Binding.shop_id == shop_id, Binding.kind == PRICE_KIND, Binding.erp_id.in_(named)
                )
            )
        )
        if named and priced >= set(named):
            trace.succeed(session, message, response={"priced": len(named)})

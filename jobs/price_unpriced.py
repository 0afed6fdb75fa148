"""SKUs the ERP has no price for (PRECOVALIDNORMAL 0, Consinco's "no price" for a company and
segment, or one under half a centavo: R$ 0.00 once rounded, jobs.price_map.is_price), said per SKU
on the Messages page, and unsaid once a real price lands.

Why a message of its own per SKU: nothing is refused by Shopify (the SKU's price is simply not
sent, jobs.price_map.target_price), so the product's or the price list call's message is done;
without this, a SKU off sale for want of a price would be invisible. The store price's message is
"price:<seqProduto>:<idSku>" (replayed like its product), a price list's the one a refused price
of that list has, "pricelist:<market>:sku:<idSku>", closed the same way when a call takes it.

The two are told apart by their code, for the merchant's sake: NO_PRICE is the store's own pair
(the SKU is off sale), LIST_NO_PRICE a market's price list (the SKU stays on sale; the market falls
back to the base price). The detail names the pair (and the market) either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ledger import trace
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY

FLOW = "prices"
CODE = "NO_PRICE"
UNLISTED_CODE = "NO_PRICE_RECORD"  # the pair has no record for the SKU at all (jobs.price_unlisted)
LIST_CODE = "LIST_NO_PRICE"  # a market's pair (jobs.price_lists): the market shows the base price


def store_unit(seq_produto: int, id_sku: str) -> str:
    return f"price:{seq_produto}:{id_sku}"


def explain(
    session: Any,
    shop_id: int,
    unit_key: str,
    id_sku: str,
    company: int,
    segment: int,
    *,
    where: str,
    unlisted: bool = False,
    market: str | None = None,
    normal: Decimal | None = None,
) -> None:
    """A failed (rejected) message naming the SKU and why it is not priced `where`: a price of
    0, or (`unlisted`) no price record at all for the pair. `market`: the pair is that market's
    (its price list), not the store's own. `normal`: the ERP's normal price, named when it is not 0
    (under half a centavo, a slip the merchant looks for in the ERP)."""
    rounded = not unlisted and normal is not None and normal > 0
    if unlisted:
        why = (f"{id_sku}: the ERP has no price record for it at company {company} segment {segment} "
               f"(a full read of that pair's prices does not list it); {where}")  # fmt: skip
    elif rounded:
        why = (f"{id_sku}: the ERP's price {normal} for company {company} segment {segment} is R$ 0.00 "
               f"a unit once rounded to the cent, no price; {where}")  # fmt: skip
    else:
        why = f"{id_sku}: the ERP has no price (0) for company {company} segment {segment}; {where}"
    message = trace.begin(session, shop_id, FLOW, unit_key, ERP_TO_SHOPIFY, search=[id_sku],
                          request={"sku": id_sku, "company": company, "segment": segment})  # fmt: skip
    code = UNLISTED_CODE if unlisted else LIST_CODE if market else CODE
    detail = {"sku": id_sku, "company": company, "segment": segment, **({"market": market} if market else {}),
              **({"normal": str(normal)} if rounded else {})}  # fmt: skip
    trace.fail(session, message, Rejected(why, system="consinco", code=code, detail=detail))


def resolve(session: Any, shop_id: int, unit_keys: Iterable[str]) -> None:
    """Those SKUs have a price now: their "no price" messages (if any) are done."""
    trace.succeed_open(session, shop_id, FLOW, unit_keys, {"priced": True})

"""Price lists of (company, segment) pairs whose market mapping was deleted: their fixed prices
removed from Shopify, their bindings dropped.

Part of the prices flow (jobs.price_lists.sync runs `retire` first). A "price_list" binding
(erp_id "<emp>:<seg>@<market gid>") whose key no "segment_market" mapping gives any more would
otherwise leave its fixed prices live in the market forever, no longer updated (a promotion there
would never end). Its fixed prices go by priceListFixedPricesDelete, 250 variant ids per call, one
message per call (unit_key "pricelist:<market>:remove:<batch key>"); a variant Shopify holds no
fixed price for (VARIANT_NOT_FOUND: never taken, or its variant was replaced) and a price list
Shopify no longer has are already what we want. Once every call is taken, the pair's "list_price"
bindings, its "price_list" binding and its watermark go, so mapping it again sends every price,
and so does the market's current pair when the market was moved to another pair (same list).
A call that fails keeps everything for the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from jobs import price_list_gone, price_records
from ledger import bindings, trace, watermarks
from ledger.bindings import LIST_PRICE_KIND, VARIANT_KIND
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import IntegrationError, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, Message, MessageStatus
from shopify_app.admin_api.catalog_ops import MAX_PRICES_PER_CALL
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

FLOW = "prices"
LIST_KIND = "price_list"
RETIRING = "retiring"  # a removal message's request: a retired list's (True) or a live list's (False)


@dataclass(frozen=True)
class Stale:
    """A price list the prices flow filled for a pair no mapping gives any more (or, to remove
    some of its fixed prices, a pair still mapped: `delete_fixed_prices`)."""

    key: str  # "<emp>:<seg>@<market gid>"
    list_id: str

    @property
    def market_id(self) -> str:
        return self.key.partition("@")[2]

    @property
    def market(self) -> str:
        return self.market_id.rsplit("/", 1)[-1]

    @property
    def scope(self) -> str:
        """The pair's watermark scope (jobs.price_lists._sync_list)."""
        company, _, segment = self.key.partition("@")[0].partition(":")
        return f"list:{company}:{segment}:{self.market}"

    @property
    def prefix(self) -> str:
        return f"{self.list_id.rsplit('/', 1)[-1]}:"


def retire(shop_id: int, client: AdminClient, current: dict[str, str]) -> int:
    """Empty and forget every price list whose key is not in `current` (key -> market gid of the
    mapped pairs); the number of fixed prices removed. Raises Transient after the other lists."""
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == LIST_KIND)
        ).all()
        stale = [Stale(b.erp_id, b.shopify_id) for b in rows if b.erp_id not in current and b.shopify_id]
        shared = still_filled(rows, current)
        for list_ in [s for s in stale if s.key in shared]:
            _forget_key(session, shop_id, list_)
        stale = [s for s in stale if s.key not in shared]
        _close_unneeded(session, shop_id, {list_.market for list_ in stale})
    removed, transient = 0, None
    for list_ in stale:
        try:
            removed += _retire_one(shop_id, client, list_, current)
        except Transient as exc:
            transient = transient or exc
        except IntegrationError:  # Shopify said no: shown on the call's message, tried next pass
            continue
    if transient is not None:
        raise transient
    return removed


def still_filled(rows: Sequence[Binding], mapped: Collection[str]) -> set[str]:
    """The unmapped keys of `rows` ("price_list" bindings) whose list a mapped key of the same pair
    still fills (one catalog, two markets mapped to one pair: jobs.price_list_setup._check_shared):
    the list keeps its prices, only the key goes (emptied, it would lose them for both markets)."""
    kept = {(b.erp_id.partition("@")[0], b.shopify_id) for b in rows if b.erp_id in mapped}
    return {
        b.erp_id
        for b in rows
        if b.erp_id not in mapped and (b.erp_id.partition("@")[0], b.shopify_id) in kept
    }


def _forget_key(session: Any, shop_id: int, list_: Stale) -> None:
    """A market's unmapped key on a list another mapped key still fills: its binding, watermark and
    records go, the list's fixed prices stay."""
    session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id, Binding.kind == LIST_KIND, Binding.erp_id == list_.key
        )
    )
    watermarks.reset(session, shop_id, FLOW, list_.scope)
    price_records.forget(session, shop_id, list_.scope)
    log.info(
        "prices: shop %s key %s left list %s to the market still mapped", shop_id, list_.key, list_.list_id
    )


def _close_unneeded(session: Any, shop_id: int, retiring: set[str]) -> None:
    """A removal message left failed for a market nothing retires any more (its pair mapped
    again, or its list forgotten) is settled, not left failed for good: skipped, saying why."""
    open_removals = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.unit_key.like("pricelist:%:remove:%"),
            Message.status.notin_([MessageStatus.DONE.value, MessageStatus.SKIPPED.value]),
        )
    ).all()
    for message in open_removals:
        live = (message.request_payload or {}).get(RETIRING) is False  # a live list's: its pass retries it
        if not live and message.unit_key.split(":")[1] not in retiring:
            trace.skip(session, message, "nothing to remove any more: the market's pair is mapped again, "
                                         "or its price list was already emptied",
                       words=("price_list_nothing_to_remove", {}))  # fmt: skip


def _retire_one(shop_id: int, client: AdminClient, list_: Stale, current: dict[str, str]) -> int:
    with session_scope() as session:
        prices = session.scalars(
            select(Binding).where(
                Binding.shop_id == shop_id,
                Binding.kind == LIST_PRICE_KIND,
                Binding.erp_id.like(f"{list_.prefix}%"),
            )
        ).all()
        skus = {b.erp_id.removeprefix(list_.prefix): b.shopify_id for b in prices}
        # A price held back (no variant yet, refused) has no variant id of its own: the variant's.
        variants = bindings.get_many(session, shop_id, VARIANT_KIND, [s for s, v in skus.items() if not v])
        for sku, variant in variants.items():
            skus[sku] = variant.shopify_id
    by_variant = {v: sku for sku, v in sorted(skus.items()) if v}
    ids = sorted(by_variant)
    removed = 0
    for start in range(0, len(ids), MAX_PRICES_PER_CALL):
        batch = ids[start : start + MAX_PRICES_PER_CALL]
        try:
            removed += delete_fixed_prices(shop_id, client, list_, {v: by_variant[v] for v in batch})
        except price_list_gone.ListGone:  # the list itself is gone, and its prices with it
            break
    with session_scope() as session:
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop_id,
                ((Binding.kind == LIST_PRICE_KIND) & Binding.erp_id.like(f"{list_.prefix}%"))
                | ((Binding.kind == LIST_KIND) & (Binding.erp_id == list_.key)),
            )
        )
        watermarks.reset(session, shop_id, FLOW, list_.scope)
        for key, market_id in current.items():  # the market's list moved to another pair: emptied
            if market_id == list_.market_id:
                company, _, segment = key.partition("@")[0].partition(":")
                watermarks.reset(session, shop_id, FLOW, f"list:{company}:{segment}:{list_.market}")
        _close_refusals(session, shop_id, list_, sorted(skus))
        price_records.forget(session, shop_id, list_.scope)
    log.info(
        "prices: shop %s price list %s of %s emptied (%s prices)", shop_id, list_.list_id, list_.key, removed
    )
    return removed


def delete_fixed_prices(
    shop_id: int, client: AdminClient, list_: Stale, batch: dict[str, str], *, retiring: bool = True
) -> int:
    """One priceListFixedPricesDelete call (`batch`: variant gid -> idSku) as one message; fixed
    prices Shopify does not hold are left out and the rest sent again (none left: the call is
    done, nothing was there to remove). A list Shopify no longer has: done, and ListGone raised
    (jobs.price_list_gone). Raises on anything else (the bindings stay for the next pass). Also
    used by jobs.price_lists for the fixed prices of SKUs whose pair lost its price (`retiring`
    False: a live list's, its message never settled by `_close_unneeded`)."""
    skus = sorted(batch.values())
    unit = f"pricelist:{list_.market}:remove:{digest(skus)[:16]}"
    request = {"price_list_id": list_.list_id, "key": list_.key, "skus": skus, RETIRING: retiring}
    with session_scope() as session:
        message = trace.begin(session, shop_id, FLOW, unit, ERP_TO_SHOPIFY, shopify_id=list_.list_id,
                              search=skus[:40], request=request)  # fmt: skip
        message_id = message.id
    live, absent, gone = list(batch), [], False
    error: BaseException | None = None
    while live:
        try:
            client.price_list_fixed_prices_delete(list_.list_id, live)
            error = None
            break
        except ShopifyUserErrors as exc:
            error = exc
            if price_list_gone.is_gone(exc):  # the list itself is gone: so are its prices
                absent, live, error, gone = absent + live, [], None, True
                break
            named = _not_found(exc, len(live))
            if not named or len(named) < len(exc.errors):
                break
            absent += [live[i] for i in sorted(named)]
            live = [v for i, v in enumerate(live) if i not in named]
            error = None  # the rest is sent again; none left (every price already gone): done
        except Exception as exc:  # classified by trace.fail; re-raised below
            error = exc
            break
    with session_scope() as session:
        message = session.get(Message, message_id)
        if error is None:
            response = {"removed": len(live), "absent": len(absent), **({"list_gone": True} if gone else {})}
            trace.succeed(session, message, response=response)
        else:
            trace.fail(session, message, error)
    if error is not None:
        raise error
    if gone:
        raise price_list_gone.ListGone(list_.list_id)
    return len(live)


def _not_found(exc: ShopifyUserErrors, count: int) -> set[int]:
    """Indexes of the variants Shopify holds no fixed price for (VARIANT_NOT_FOUND, ["variantIds", i])."""
    return {
        int(e.field[1])
        for e in exc.errors
        if e.code == "VARIANT_NOT_FOUND"
        and len(e.field) > 1
        and e.field[0] == "variantIds"
        and e.field[1].isdigit()
        and int(e.field[1]) < count
    }


def _close_refusals(session: Any, shop_id: int, list_: Stale, skus: list[str]) -> None:
    """Refused prices of the emptied list (jobs.price_lists._per_sku) are moot now: done."""
    keys = [f"pricelist:{list_.market}:sku:{sku}" for sku in skus]
    trace.succeed_open(session, shop_id, FLOW, keys, {"retired": list_.key})

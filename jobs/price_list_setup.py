"""The price list of a (company, segment) pair's market, set up once (part of jobs.price_lists).

A market that has a price list keeps it (the merchant's own, or one an earlier pass made whose
binding was lost); otherwise it gets a catalog, then a BRL price list in that catalog. A market's
price lists are its catalogs' (MarketCatalogs: Market.catalogs -> MarketCatalog.priceList, as the
market's own `priceList` is deprecated): the pair's catalog (its exact title) first, then an
active catalog's, then any other's. The creations are two calls: the catalog's id is remembered
first (the pair's "price_list" binding, no Shopify id yet, data "catalog_id"), so a pass cut short
between them (a refusal, the connection dropped, the worker killed) gives that catalog its list on
the next pass instead of creating another catalog on every pass. A remembered catalog deleted
meanwhile (in the admin) is created again. Neither creation is sent again after an answer that may
hide its success (executor.NOT_RESENT): the market's catalogs, read before anything is created,
show what an earlier pass made whose answer was lost (its exact title, "Consinco <emp>/<seg>
<market handle>"): that catalog is adopted, with the list it holds if priceListCreate's answer was
the one lost. The catalog stays named in the binding once its list is made, so a list deleted in
Shopify (jobs.price_list_gone forgets it) is made again in the same catalog rather than in a second
one for the market.

The ERP's prices are BRL and Shopify takes a market's price list only in the market's currency
(CURRENCY_MARKET_MISMATCH). A market selling in another currency, or holding a list in another
currency, is stopped here before anything is created or sent: one setup message for the market
(MARKET_CURRENCY, naming both currencies), not a catalog or a refused price per SKU every pass.
Converting prices is not the integration's to do. A list bound before this check (no "currency"
in its binding's data) is checked once on the next pass, then stamped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.mappings import MappingKind
from ledger.models import Binding
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.results import Catalog, Market

if TYPE_CHECKING:
    from jobs.price_lists import ListTarget

log = logging.getLogger(__name__)

LIST_KIND = "price_list"
CURRENCY = "BRL"  # the ERP's prices
CATALOG = "catalog_id"  # the pair's catalog, in its binding's data until its list exists
CHECKED = "currency"  # the market's currency, checked once its list is bound (binding data)


BOUND = "bound"  # the pair's list, remembered
ADOPTED = "adopted"  # the market's own list, which the pair's first sync takes
CREATED = "created"  # none yet: the first sync makes a catalog and its list


@dataclass
class _Look:
    """What the pair's setup found: its binding, and (unless remembered and checked) the market,
    its catalogs and the catalog whose list the pair takes."""

    bound: str | None
    data: dict[str, Any]
    market: Market | None = None
    catalogs: list[Catalog] = field(default_factory=list)
    listed: Catalog | None = None
    title: str = ""


def price_list(shop_id: int, client: AdminClient, target: ListTarget) -> str:
    """The pair's price list id: remembered, or the market's own, or made (catalog, then list).

    Raises MappingMissing for a market Shopify does not have, Rejected (MARKET_CURRENCY) for one
    not selling in BRL."""
    look = _look(shop_id, client, target)
    if look.market is None:  # remembered (checked; or bound before the check, its market gone)
        _check_shared(shop_id, target, str(look.bound))
        return str(look.bound)
    listed = look.listed
    list_id = look.bound or (listed.price_list_id if listed is not None else None)
    if list_id is not None:
        _check_shared(shop_id, target, list_id)
    own = listed.id if listed is not None and listed.title == look.title else None
    catalog_id = look.data.get(CATALOG) or own
    if list_id is None:
        market, catalogs, title = look.market, look.catalogs, look.title
        list_id, catalog_id = _create(shop_id, client, target, market, catalog_id, catalogs, title)
    # the catalog the app made stays named: a list deleted in Shopify is made again in it
    _remember(shop_id, target, list_id, {CHECKED: CURRENCY, **({CATALOG: catalog_id} if catalog_id else {})})
    return list_id


def planned(shop_id: int, client: AdminClient, target: ListTarget) -> tuple[str | None, str]:
    """What `price_list` would give the pair, nothing written (the catalog dry run's price lists,
    jobs.price_list_preview): (its list, BOUND), (the market's own list, ADOPTED) or (None, CREATED).
    Raises as `price_list` does."""
    look = _look(shop_id, client, target)
    if look.bound:
        return look.bound, BOUND
    if look.listed is not None and look.listed.price_list_id:
        return look.listed.price_list_id, ADOPTED
    return None, CREATED


def reattach(shop_id: int, client: AdminClient, target: ListTarget) -> tuple[str, str] | None:
    """The pair's remembered list given a catalog on its market again when none of the market's
    catalogs holds it any more (the catalog deleted in the admin, which leaves its list on no market:
    prices sent there reach no one, every call still taken): (the list, its new catalog), else None.
    Asked by a whole read only (once a day: the list is not asked about on every pass). Shopify
    keeps a price list's name unique, so the list is attached, not made again beside it.

    Raises MappingMissing when the market itself is gone from Shopify."""
    with session_scope() as session:
        found = bindings.get_many(session, shop_id, LIST_KIND, [target.key]).get(target.key)
    if found is None or not found.shopify_id:
        return None
    market = next((m for m in client.markets() if m.id == target.market_id), None)
    if market is None:
        raise _no_market(target, found.shopify_id)
    held = {catalog.price_list_id for catalog in client.market_catalogs(market.id) if catalog.price_list_id}
    if found.shopify_id in held:
        return None
    title = _title(target, market)
    log.warning("prices: price list %s of %s is on no catalog of its market; attached to a new one",
                found.shopify_id, target.key)  # fmt: skip
    made = client.catalog_create(title, [market.id], price_list_id=found.shopify_id)
    _remember(shop_id, target, found.shopify_id, {**(found.data or {}), CATALOG: made.id})
    return found.shopify_id, made.id


def _look(shop_id: int, client: AdminClient, target: ListTarget) -> _Look:
    with session_scope() as session:
        found = bindings.get_many(session, shop_id, LIST_KIND, [target.key]).get(target.key)
    look = _Look(found.shopify_id if found is not None else None, dict((found.data or {}) if found else {}))
    if look.bound and look.data.get(CHECKED) == CURRENCY:
        return look
    market = next((m for m in client.markets() if m.id == target.market_id), None)
    if market is None and look.bound:  # bound before its currency was checked: kept as it was
        return look
    if market is None:
        raise _no_market(target)
    look.market, look.catalogs, look.title = market, client.market_catalogs(market.id), _title(target, market)
    look.listed = _market_list(look.catalogs, look.title)
    _check_currency(target, market, look.listed)
    return look


def _no_market(target: ListTarget, price_list: str | None = None) -> MappingMissing:
    """The pair's market is not in Shopify (never was, or deleted: `price_list`, the list the app made
    on it): its setup waits for a mapping."""
    market = target.market_id
    if price_list is None:
        text, words = (
            f"market {market} does not exist in Shopify",
            ("list_market_missing", {"market": market}),
        )
    else:
        text = (f"market {market} does not exist in Shopify (deleted?): its price list {price_list} gets no "
                "more prices; map the pair to another market, or remove the mapping")  # fmt: skip
        words = ("list_market_gone", {"market": market, "list": price_list})
    return MappingMissing(MappingKind.SEGMENT_MARKET.value, market, text, words=words)


def _title(target: ListTarget, market: Market) -> str:
    """The title the app gives the pair's catalog and list on this market."""
    return f"Consinco {target.company}/{target.segment} {market.handle or market.name}"


def _market_list(found: list[Catalog], title: str) -> Catalog | None:
    """The market's catalog whose price list the pair takes (None: no catalog of it holds one): the
    pair's own (its exact title), else an active catalog's (the list the market sells at), else
    the first other's (a list on a draft or archived catalog is still the market's: not doubled)."""
    holding = [c for c in found if c.price_list_id]
    return next(
        (c for c in holding if c.title == title),
        next((c for c in holding if c.status == "ACTIVE"), holding[0] if holding else None),
    )


def _check_shared(shop_id: int, target: ListTarget, list_id: str) -> None:
    """A list another mapped pair sends its prices to already (two markets sharing one catalog, and
    so one list, mapped to different pairs): stopped, for the pair bound to it later. Taken by
    both, each pass wrote one pair's prices over the other's, and both markets showed whichever
    went last, every price sent again every pass. Two markets mapped to the same pair share it (the
    list's prices are that pair's either way: the second market's pass finds them sent), as the
    refusal itself advises."""
    with session_scope() as session:
        holders = session.scalars(
            select(Binding.erp_id)
            .where(Binding.shop_id == shop_id, Binding.kind == LIST_KIND, Binding.shopify_id == list_id)
            .order_by(Binding.id)
        ).all()
    first = next(iter(holders), target.key)
    if first.partition("@")[0] == target.key.partition("@")[0]:  # (the same key, or the same pair)
        return
    other = first
    raise Rejected(
        f"market {target.market_id}: its price list {list_id} is the one pair {other} (company:segment) "
        f"sends its prices to already (the two markets share one catalog in Shopify); the prices of "
        f"company {target.company} segment {target.segment} are not sent to it, or each pair would "
        "overwrite the other's. Give this market a catalog of its own in Shopify admin (Markets), or map "
        "both markets to the same pair",
        system="app",
        code="MARKET_LIST_SHARED",
        detail={"market": target.market_id, "price_list": list_id, "pair": other,
                "company": target.company, "segment": target.segment},
    )  # fmt: skip


def _check_currency(target: ListTarget, market: Market, listed: Catalog | None) -> None:
    """A market selling (or holding a list) in another currency than the ERP's prices: stopped."""
    currency = listed.price_list_currency if listed is not None else market.currency
    if currency is None or currency == CURRENCY:
        return
    whose = "its price list is in" if listed is not None else "it sells in"
    raise Rejected(
        f"market {market.name or market.id} ({market.id}): {whose} {currency}, the ERP prices of company "
        f"{target.company} segment {target.segment} are {CURRENCY}; Shopify takes a market's price list "
        "only in the market's currency, so nothing is created or sent to it",
        system="app",
        code="MARKET_CURRENCY",
        detail={
            "currency": currency,
            "erp_currency": CURRENCY,
            "market": market.id,
            "company": target.company,
            "segment": target.segment,
        },
    )


def _create(
    shop_id: int,
    client: AdminClient,
    target: ListTarget,
    market: Market,
    catalog_id: str | None,
    found: list[Catalog],
    title: str,
) -> tuple[str, str]:
    """The new list's id and its catalog's, the catalog being what an earlier pass made (remembered,
    or its answer lost) when there is one. `found`: the market's catalogs, none holding a list (a
    list whose priceListCreate answer was lost is the pair's catalog's: `_market_list` took it)."""
    catalog = next((c for c in found if c.id == catalog_id), None) if catalog_id else None
    if catalog_id is not None and catalog is None:
        log.warning("prices: catalog %s of %s is gone from Shopify; a new one", catalog_id, target.key)
    if catalog is None:  # catalogCreate's answer lost (never sent again: executor.NOT_RESENT)
        catalog = _made_before(found, title)
        if catalog is not None:
            log.warning("prices: catalog %s (%r) found on %s, made by a pass that lost its answer",
                        catalog.id, title, market.id)  # fmt: skip
            _remember(shop_id, target, None, {CATALOG: catalog.id})
    if catalog is not None:
        try:  # an earlier pass made the catalog and stopped before its list, or its list was
            return client.price_list_create(title, CURRENCY, catalog_id=catalog.id).id, catalog.id
        except ShopifyUserErrors as exc:  # deleted in Shopify since (jobs.price_list_gone)
            if "CATALOG_DOES_NOT_EXIST" not in exc.codes:
                raise
            log.warning("prices: catalog %s of %s is gone from Shopify; a new one", catalog.id, target.key)
    made = client.catalog_create(title, [market.id])
    _remember(shop_id, target, None, {CATALOG: made.id})
    return client.price_list_create(title, CURRENCY, catalog_id=made.id).id, made.id


def _made_before(found: list[Catalog], title: str) -> Catalog | None:
    """The market's catalog bearing the exact title the app gives the pair's: one whose creation
    answer was lost."""
    return next((c for c in found if c.title == title), None)


def _remember(shop_id: int, target: ListTarget, list_id: str | None, data: dict[str, str]) -> None:
    with session_scope() as session:
        bindings.upsert_many(session, shop_id, LIST_KIND, [BindingRow(target.key, list_id, None, data)])

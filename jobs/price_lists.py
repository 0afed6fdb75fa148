"""Prices of further (company, segment) pairs as Shopify price lists, one per mapped market.

Part of the prices flow (jobs.prices.run calls `sync` after the store's own prices). De:Para
kind "segment_market": shopify_code = a Market gid, erp_code = "<nro_empresa>:<nro_segmento>".
Each pair gets a catalog for the market with a BRL price list, created once (a market that
already has a price list keeps it; a market in another currency gets none: jobs.price_list_setup)
and kept in binding "price_list" (erp_id "<emp>:<seg>@<market gid>"). Changed prices (digest per
list and SKU, binding "list_price") go by priceListFixedPricesAdd, 250 per call, one message per call
(unit_key "pricelist:<market>:<batch key>"); promotions start and end on their dates as for the
variant price. statusVenda has no meaning in a price list and is ignored there. A pair whose
mapping was deleted has its list emptied and forgotten first (jobs.price_list_retire). A price read
before its variant exists, or refused by Shopify for its variant alone (the others of its call
are sent again without it), is remembered in its "list_price" binding as due on the next pass:
the ERP row, behind the watermark, is not read again; once a person closed its SKU's message as
handled (settled by hand in Shopify) it is sent no more until the ERP price changes. A normal
price of 0 (Consinco's "no price"; or one that is R$ 0.00 once rounded to the cent:
jobs.price_map.is_price) is not sent and fails a message of its own per SKU
(jobs.price_unpriced, LIST_NO_PRICE: the SKU is not off sale, its market shows the base price); a
fixed price sent before for that SKU is removed from the list (unit_key "pricelist:<market>:remove:<batch
key>", as jobs.price_list_retire), so the market falls back to the base price. A price record
the client cannot read fails alone, the list's watermark held below it (jobs.price_records). A list
deleted in Shopify (a call answered PRICE_LIST_NOT_FOUND) is forgotten and the market set up again
in the same pass, every price of its pair sent (jobs.price_list_gone).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from erp.client import ErpClient
from jobs import (
    absence,
    price_list_gone,
    price_list_retire,
    price_list_setup,
    price_records,
    price_unlisted,
    price_unpriced,
)
from jobs.price_map import (
    SETTLED_BY_HAND,
    VARIANT_REPLACED,
    PriceState,
    erp_today,
    money,
    recheck_on,
    settled_on,
    still_settled,
    target_price,
    unit_factor,
)
from ledger import bindings, handled, trace, watermarks
from ledger.bindings import LIST_PRICE_KIND, VARIANT_KIND, BindingRow
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.mappings import MappingKind, list_mappings
from ledger.models import Binding, Message, MessageStatus, utcnow
from settings import get_settings
from shopify_app.admin_api.catalog_ops import MAX_PRICES_PER_CALL
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

FLOW = "prices"
UNLISTED = ":unlisted"  # a market's fixed prices held for a person (`_left_the_pair`)
PRICE_KIND = LIST_PRICE_KIND
CURRENCY = price_list_setup.CURRENCY
NO_PRICE = "no-price"  # the digest of a "list_price" binding whose ERP price is 0 (none sent)


@dataclass(frozen=True)
class ListTarget:
    market_id: str
    company: int
    segment: int

    @property
    def key(self) -> str:
        return f"{self.company}:{self.segment}@{self.market_id}"

    @property
    def scope(self) -> str:
        """The list's watermark scope (and its unreadable records' unit prefix: jobs.price_records)."""
        return f"list:{self.company}:{self.segment}:{self.market_id.rsplit('/', 1)[-1]}"


def targets(shop_id: int) -> list[ListTarget]:
    """The mapped (market, company, segment) triples; malformed ERP codes are skipped with a log."""
    with session_scope() as session:
        rows = list_mappings(session, shop_id, MappingKind.SEGMENT_MARKET.value)
    found = []
    for row in rows:
        company, _, segment = row.erp_code.partition(":")
        if re.fullmatch(r"[0-9]{1,9}", company) and re.fullmatch(r"[0-9]{1,9}", segment):
            found.append(ListTarget(row.shopify_code, int(company), int(segment)))
        else:
            log.warning(
                "prices: segment_market %s -> %r is not '<empresa>:<segmento>'",
                row.shopify_code,
                row.erp_code,
            )
    return found


def sync(
    shop_id: int,
    erp: ErpClient,
    client: AdminClient,
    today: date | None = None,
    *,
    whole: bool = False,
    confirmed: Mapping[str, Collection[str]] | None = None,
) -> int:
    """Every mapped price list brought up to date; the number of prices sent. `whole`: each pair read
    from no watermark (the daily sweep, jobs.prices.sweep), its digests deciding what is sent, and
    the fixed prices of SKUs the pair no longer lists removed (`_left_the_pair`; `confirmed`: by
    market, the SKUs a person confirmed on its held message's Retry).

    Raises Transient after the other lists were done when one of them hit a transient failure.
    """
    today = today or erp_today(get_settings().erp_timezone)
    sent, transient = 0, None
    mapped = targets(shop_id)
    try:  # the lists of pairs no longer mapped first: their market falls back to the base price
        price_list_retire.retire(shop_id, client, {t.key: t.market_id for t in mapped})
    except Transient as exc:
        transient = exc
    failed: set[str] = set()
    for target in mapped:
        market = target.market_id.rsplit("/", 1)[-1]
        try:
            sent += _sync_or_renew(
                shop_id, erp, client, target, today, whole, (confirmed or {}).get(market, ())
            )
        except IntegrationError as exc:  # the list's setup failed: shown on its own message
            failed.add(market)
            with session_scope() as session:
                unit = f"pricelist:{market}:setup"
                message = trace.begin(
                    session,
                    shop_id,
                    FLOW,
                    unit,
                    ERP_TO_SHOPIFY,
                    shopify_id=target.market_id,
                    request={"company": target.company, "segment": target.segment},
                )
                trace.fail(session, message, exc)
            if isinstance(exc, Transient):
                transient = transient or exc
    _settle_setups(shop_id, {t.market_id.rsplit("/", 1)[-1] for t in mapped}, failed)
    if transient is not None:
        raise transient
    return sent


def _sync_or_renew(
    shop_id: int,
    erp: ErpClient,
    client: AdminClient,
    target: ListTarget,
    today: date,
    whole: bool = False,
    confirmed: Collection[str] = (),
) -> int:
    """The pair's list brought up to date; a list deleted in Shopify meanwhile (jobs.price_list_gone)
    forgotten, and the market set up again at once: a new list, every price of the pair sent."""
    try:
        return _sync_list(shop_id, erp, client, target, today, whole, confirmed)
    except price_list_gone.ListGone as gone:
        price_list_gone.forget(shop_id, client, target.key, target.scope, gone.list_id)
    try:
        return _sync_list(shop_id, erp, client, target, today)
    except price_list_gone.ListGone as gone:  # deleted again while being filled: the next pass
        price_list_gone.forget(shop_id, client, target.key, target.scope, gone.list_id)
        raise Transient(
            f"price list {gone.list_id} was deleted in Shopify again while being filled"
        ) from gone


def _reattach(shop_id: int, client: AdminClient, target: ListTarget) -> None:
    """The pair's list given a catalog on its market again when none holds it any more (its catalog
    deleted in the admin: the prices sent to it reached no one, every call taken), said once on a
    message of its own; its fixed prices stay as they are. Raises MappingMissing for a market gone,
    and ListGone for the list itself deleted in Shopify (on no catalog for that reason: the catalog
    asked for it is refused PRICE_LIST_NOT_FOUND), which `_sync_or_renew` makes again at once."""
    with session_scope() as session:
        bound = bindings.get_many(session, shop_id, price_list_setup.LIST_KIND, [target.key]).get(target.key)
    try:
        reattached = price_list_setup.reattach(shop_id, client, target)
    except ShopifyUserErrors as refused:
        if bound is not None and bound.shopify_id and price_list_gone.is_gone(refused):
            raise price_list_gone.ListGone(bound.shopify_id) from refused
        raise
    if reattached is None:
        return
    list_id, catalog_id = reattached
    market = target.market_id.rsplit("/", 1)[-1]
    with session_scope() as session:
        unit = f"pricelist:{market}:catalog:{catalog_id.rsplit('/', 1)[-1]}"
        request = {"price_list_id": list_id, "company": target.company, "segment": target.segment}
        message = trace.begin(session, shop_id, FLOW, unit, ERP_TO_SHOPIFY, shopify_id=catalog_id,
                              search=[target.market_id, list_id], request=request)  # fmt: skip
        trace.skip(
            session,
            message,
            f"the price list {list_id} of company {target.company} segment {target.segment} was on no "
            f"catalog of market {target.market_id} (its catalog deleted in Shopify): catalog {catalog_id} "
            "holds it again, its prices as they were",
            words=("price_list_reattached", {"company": target.company, "segment": target.segment}),
        )


def _settle_setups(shop_id: int, mapped: set[str], failed: set[str]) -> None:
    """A list's setup message left failed or parked (the market missing, Shopify down) is closed
    once its list synced on a later pass, or once its market is no longer mapped: not left open
    for good, naming a problem nobody has any more."""
    with session_scope() as session:
        for message in session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.unit_key.like("pricelist:%:setup"),
                Message.status.notin_([MessageStatus.DONE.value, MessageStatus.SKIPPED.value]),
            )
        ):
            market = message.unit_key.split(":")[1]
            if market in failed:
                continue
            if market in mapped:
                trace.succeed(session, message, response={"settled": "the price list synced on a later pass"})
            else:
                trace.skip(
                    session,
                    message,
                    "its market is no longer mapped to an ERP pair: nothing to set up",
                    words=("price_list_market_unmapped", {}),
                )


def _sync_list(
    shop_id: int,
    erp: ErpClient,
    client: AdminClient,
    target: ListTarget,
    today: date,
    whole: bool = False,
    confirmed: Collection[str] = (),
) -> int:
    started = utcnow()
    scope = target.scope
    with session_scope() as session:
        since = None if whole else watermarks.read(session, shop_id, FLOW, scope).last_changed_at
    if whole:  # once a day: the list still on a catalog of its market (a deleted catalog leaves it on none)
        _reattach(shop_id, client, target)
    list_id = price_list_setup.price_list(shop_id, client, target)
    read = erp.price_items(since, target.company, target.segment)
    read.keep_malformed = True  # one unreadable record fails alone (jobs.price_records)
    states = {i.id_sku: PriceState.from_item(i) for i in read}
    listed = set(states)  # what the read served (due SKUs join below)
    where = f" at company {target.company} segment {target.segment} (price list {list_id})"
    held = price_records.set_aside(shop_id, read, erp.names, since, scope, where)
    prefix = f"{list_id.rsplit('/', 1)[-1]}:"
    market = target.market_id.rsplit("/", 1)[-1]
    with session_scope() as session:
        due = session.scalars(
            select(Binding).where(
                Binding.shop_id == shop_id,
                Binding.kind == PRICE_KIND,
                Binding.erp_id.like(f"{prefix}%"),
                Binding.data["recheck_on"].as_string() <= today.isoformat(),
            )
        )
        for b in due:
            states.setdefault(b.erp_id.removeprefix(prefix), PriceState.from_data(b.data))
        variants = bindings.get_many(session, shop_id, VARIANT_KIND, states)
        known = bindings.get_many(session, shop_id, PRICE_KIND, [prefix + s for s in states])
        settled = settled_by_hand(session, shop_id, market, prefix, states, known, today)
        changes: list[tuple[BindingRow, dict]] = []
        waiting: list[BindingRow] = []
        unpriced: list[BindingRow] = []
        removals: list[BindingRow] = []  # the NO_PRICE rows of those whose fixed price goes first
        for sku, state in states.items():
            if sku in settled:
                continue
            variant = variants.get(sku)
            if variant is None or variant.shopify_id is None:
                # No variant yet: remembered, due again on every pass until it exists (the ERP
                # row will not be read again once the watermark has moved past it).
                waiting.append(_due(prefix + sku, state.to_data(), today))
                continue
            price = target_price(state, today, unit_factor(variant.data))
            data = {**state.to_data(), "recheck_on": _iso(recheck_on(state, today))}
            old = known.get(prefix + sku)
            if price.price is None:  # the ERP has no price (0 once rounded): none sent, said per SKU
                fixed = old.shopify_id if old else None
                if old is not None and old.digest != NO_PRICE:  # a fixed price it may hold is removed
                    fixed = fixed or variant.shopify_id
                    removals.append(BindingRow(prefix + sku, fixed, NO_PRICE, data))
                    unpriced.append(_due(prefix + sku, data, today, fixed))  # until Shopify took that
                else:
                    unpriced.append(BindingRow(prefix + sku, fixed, NO_PRICE, data))
                continue
            entry = {
                "variantId": variant.shopify_id,
                "price": {"amount": money(price.price), "currencyCode": CURRENCY},
                "compareAtPrice": None
                if price.compare_at is None
                else {"amount": money(price.compare_at), "currencyCode": CURRENCY},
            }
            row = BindingRow(prefix + sku, variant.shopify_id, digest(entry), data)
            if old is None or old.digest != row.digest:
                changes.append((row, entry))
            elif old.data != row.data:
                bindings.upsert_many(
                    session, shop_id, PRICE_KIND, _on_current(session, shop_id, prefix, [row])
                )
        bindings.upsert_many(session, shop_id, PRICE_KIND, waiting)
        _explain_unpriced(session, shop_id, target, list_id, prefix, unpriced, known)
    if since is None and read.complete:  # a whole read: the fixed prices of SKUs it no longer lists
        removals += _left_the_pair(shop_id, erp, read, target, prefix, listed, confirmed)
    sent = 0
    for start in range(0, len(changes), MAX_PRICES_PER_CALL):
        sent += _send(
            shop_id, client, target, list_id, prefix, changes[start : start + MAX_PRICES_PER_CALL], today
        )
    _remove_fixed(shop_id, client, target, list_id, prefix, removals)
    at = held.cap(read.snapshot) if read.complete and read.snapshot is not None else None
    if at is not None:
        with session_scope() as session:
            watermarks.advance(session, shop_id, FLOW, scope, at, 0, started)
    return sent


def _left_the_pair(
    shop_id: int,
    erp: ErpClient,
    read: Any,
    target: ListTarget,
    prefix: str,
    listed: set[str],
    confirmed: Collection[str],
) -> list[BindingRow]:
    """After a whole read of the market's pair (`listed`: the SKUs it served): the NO_PRICE rows of
    the SKUs whose fixed price the list holds and the pair lists no more (its row deleted in the
    ERP), for `_remove_fixed` (kept, the market would sell them at that price for ever: no change
    of the pair's would ever name them again). Absence from one read proves nothing by itself, so
    the store's own rule holds (jobs.price_unlisted, jobs.absence): rows changed mid-read are read
    again and kept; an unreadable record that names no SKU removes none; a read not proven whole,
    or too many missing, removes none of those not `confirmed`, and one failed message per market
    (`pricelist:<market>:unlisted`) names them: its Retry reads the pair whole again and removes
    those it named that are still missing."""
    unit = f"pricelist:{target.market_id.rsplit('/', 1)[-1]}{UNLISTED}"
    unread = price_records.unread_skus(read, erp.names)
    if None in unread:
        return []
    mine = (Binding.shop_id == shop_id, Binding.kind == PRICE_KIND, Binding.erp_id.like(f"{prefix}%"))
    with session_scope() as session:
        held_price = {
            b.erp_id.removeprefix(prefix): b
            for b in session.scalars(select(Binding).where(*mine))
            if b.shopify_id and b.digest and b.digest != NO_PRICE
        }
    missing = sorted(sku for sku in held_price if sku not in listed and sku not in unread)
    doubt = None
    if missing:  # rows changed while the read ran left its window: read again, kept
        meanwhile = erp.price_items(read.snapshot, target.company, target.segment)
        meanwhile.keep_malformed = True
        newer = {item.id_sku for item in meanwhile}
        unread_meanwhile = price_records.unread_skus(meanwhile, erp.names)
        if None in unread_meanwhile:
            return []
        missing = [sku for sku in missing if sku not in newer and sku not in unread_meanwhile]
        doubt = absence.doubt(read, meanwhile)
    verdict = absence.decide(missing, len(held_price), doubt, set(confirmed), known_as="list prices",
                             rather="SKUs the pair no longer sells")  # fmt: skip
    with session_scope() as session:
        if verdict.why is not None:
            _hold_unlisted(session, shop_id, target, unit, verdict.held, len(held_price), doubt, verdict.why)
            price_unlisted.no_promotion_to_come(
                session, shop_id, [prefix + sku for sku in verdict.held], PRICE_KIND
            )
        else:
            trace.succeed_open(session, shop_id, FLOW, [unit], {"unlisted": len(verdict.now)})
    # No date of the old state is kept to recheck on: on its promotion's start or end the due
    # read (`_sync_list`) would rebuild that state and send the price again (jobs.price_unlisted
    # likewise for the store's price).
    return [
        BindingRow(prefix + sku, held_price[sku].shopify_id, NO_PRICE, {**(held_price[sku].data or {}),
                                                                          "recheck_on": None})
        for sku in verdict.now
    ]  # fmt: skip


def _hold_unlisted(
    session: Any,
    shop_id: int,
    target: ListTarget,
    unit: str,
    skus: list[str],
    known: int,
    doubt: str | None,
    why: str,
) -> None:
    """The market's one failed message naming the fixed prices kept for a person (`_left_the_pair`)."""
    market = target.market_id.rsplit("/", 1)[-1]
    pair = {"company": target.company, "segment": target.segment, "market": market}
    text = (f"The full read of company {target.company} segment {target.segment}'s prices did not list "
            f"{len(skus)} SKU(s) whose fixed price market {market}'s price list holds "
            f"({absence.named(skus)}); none was removed: {why}. Check in the ERP that they have a price "
            f"record for company {target.company} segment {target.segment}. If they are indeed not sold "
            f"there, Retry: a new full read removes those it still does not list.")  # fmt: skip
    why_words = price_unlisted.held_words(len(skus), known, doubt)
    words = ("list_prices_unlisted_held", {**pair, "count": len(skus), **price_unlisted.named(skus),
                                           "why": why_words})  # fmt: skip
    absence.hold(session, shop_id, FLOW, unit, text, code="LIST_UNLISTED_HELD", items=skus,
                 search=skus[: absence.SHOWN], request=pair, detail={**pair, "doubt": doubt},
                 words=words)  # fmt: skip


def _on_current(session: Any, shop_id: int, prefix: str, rows: list[BindingRow]) -> list[BindingRow]:
    """The list price rows whose variant is still the SKU's (ledger.bindings.on_current_variant,
    as the store's prices): one the products flow replaced since the pass read it keeps the mark
    the replacement left (due, awaiting its price on the new variant: catalog_ledger._reprice)."""
    current = bindings.on_current_variant(
        session, shop_id, {row.erp_id.removeprefix(prefix): row.shopify_id for row in rows}
    )
    return [row for row in rows if row.erp_id.removeprefix(prefix) in current]


def _send(
    shop_id: int,
    client: AdminClient,
    target: ListTarget,
    list_id: str,
    prefix: str,
    batch: list[tuple[BindingRow, dict]],
    today: date,
) -> int:
    """One priceListFixedPricesAdd call as one message; the number of prices Shopify took.

    The call is all or nothing: prices Shopify names in its userErrors (field ["prices", i, ...])
    are set aside and the rest sent again, so one bad variant never holds the others back; the
    call's message is done with the refused SKUs listed. Each refused price fails a message of
    its own (`_per_sku`) and is remembered as due again on every pass, so it is retried once
    fixed instead of lost behind the watermark, and its message is done once a call takes it.
    """
    skus = sorted(row.erp_id.removeprefix(prefix) for row, _ in batch)
    unit = f"pricelist:{target.market_id.rsplit('/', 1)[-1]}:{digest(skus)[:16]}"
    request = {"price_list_id": list_id, "company": target.company, "segment": target.segment, "skus": skus}
    with session_scope() as session:
        message = trace.begin(session, shop_id, FLOW, unit, ERP_TO_SHOPIFY, shopify_id=list_id,
                              search=skus[:40], request=request)  # fmt: skip
        message_id = message.id
    live = list(batch)
    refused: list[dict[str, str]] = []
    error: BaseException | None = None
    while live:
        try:
            client.price_list_fixed_prices_add(list_id, [entry for _, entry in live])
            error = None
            break
        except Exception as exc:  # classified by trace.fail; transient re-raised below
            error = exc
            named = _named(exc, len(live))
            if not named:
                break
            refused += [
                {"sku": live[i][0].erp_id.removeprefix(prefix), "message": why} for i, why in named.items()
            ]
            live = [pair for index, pair in enumerate(live) if index not in named]
            if not live:  # every price named: each fails a message of its own, the call's is done
                error = None  # (failed as a whole, no SKU's message: one closed by hand came back)
    if price_list_gone.is_gone(error):  # the list was deleted in Shopify: made again, this sent again
        with session_scope() as session:
            why = f"price list {list_id} was deleted in Shopify; its prices go to the list made again"
            trace.skip(session, session.get(Message, message_id), why, words=("price_list_gone_batch", {}))
        raise price_list_gone.ListGone(list_id) from error
    taken = [row for row, _ in live] if error is None else []
    held = [row for row, _ in batch if row not in taken]
    market = target.market_id.rsplit("/", 1)[-1]
    with session_scope() as session:
        bindings.upsert_many(session, shop_id, PRICE_KIND, _on_current(session, shop_id, prefix, taken))
        # Due again until a call takes them, a transient failure's too: its answer may have been
        # lost with Shopify holding them, and the ERP put back to the price before would then match
        # the digest kept, never to be sent (the watermark staying does not resend an unchanged row).
        bindings.upsert_many(
            session, shop_id, PRICE_KIND, [_due(row.erp_id, row.data or {}, today) for row in held]
        )
        message = session.get(Message, message_id)
        if error is None:
            response = {"prices": len(taken), "refused": [r["sku"] for r in refused]}
            trace.succeed(session, message, response=response)
        else:
            trace.fail(session, message, error)
        if error is None:
            _per_sku(session, shop_id, market, list_id, unit, refused,
                     [row.erp_id.removeprefix(prefix) for row in taken])  # fmt: skip
            _settle_batches(session, shop_id, market, prefix, unit)
    if isinstance(error, Transient) or (error is not None and not isinstance(error, IntegrationError)):
        raise error
    return len(taken)


def settled_by_hand(
    session: Any,
    shop_id: int,
    market: str,
    prefix: str,
    states: dict[str, PriceState],
    known: dict[str, Binding],
    today: date,
    *,
    record: bool = True,
) -> set[str]:
    """SKUs due until Shopify takes their price (no digest: refused, or a fixed price to remove) a
    person settled by hand in Shopify while the ERP still means the same: the same record, its
    promotion running or not as then (price_map.still_settled); left so until that changes.

    The settlement is kept on the binding (price_map.settled_on) the first pass after its message
    ("pricelist:<market>:sku:<sku>") was closed as handled, unless the binding was written since
    the mark (its variant replaced: catalog_ledger). A new ERP price rewrites the binding.
    `record=False` (the dry run, jobs.price_list_preview): the same answer, nothing kept."""
    same = {
        sku: old
        for sku, state in states.items()
        if (old := known.get(prefix + sku)) is not None
        and old.digest is None
        and "id_sku" in (old.data or {})
        and PriceState.from_data(old.data) == state
    }
    fresh = {
        f"pricelist:{market}:sku:{s}": s
        for s, old in same.items()
        if SETTLED_BY_HAND not in old.data and VARIANT_REPLACED not in old.data
    }
    closed = handled.closed_at(session, shop_id, FLOW, fresh)
    marked: dict[str, dict[str, Any]] = {}
    for unit, sku in fresh.items():
        old = same[sku]
        if unit in closed and handled.utc(old.updated_at) <= closed[unit]:  # the refusal's ERP day
            day = erp_today(get_settings().erp_timezone, handled.utc(old.updated_at))
            marked[sku] = settled_on(old.data, states[sku], day)
            if record:
                old.data = marked[sku]
    return {sku for sku, old in same.items() if still_settled(marked.get(sku, old.data), states[sku], today)}


def _settle_batches(session: Any, shop_id: int, market: str, prefix: str, unit: str) -> None:
    """Earlier batch messages of the market left open (a call that failed whole: Shopify down, or a
    refusal naming no price) whose prices every one went in since: done. Their SKUs went out again
    in other batches (a price changed meanwhile makes another batch, another message), so nothing
    else would close them: a failure left on prices the list holds."""
    open_batches = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.unit_key.like(f"pricelist:{market}:%"),
            Message.unit_key != unit,
            Message.status.in_((MessageStatus.RETRYING.value, MessageStatus.FAILED.value)),
            ~trace.closed_as_handled(),
        )
    )
    for message in open_batches:
        skus = (message.request_payload or {}).get("skus")
        if ":sku:" in message.unit_key or message.unit_key.endswith(":setup") or not isinstance(skus, list):
            continue
        now = bindings.get_many(session, shop_id, PRICE_KIND, [prefix + str(sku) for sku in skus])
        if skus and all((b := now.get(prefix + str(sku))) is not None and b.digest for sku in skus):
            trace.succeed(session, message, response={"sent_again_in": unit})


def _per_sku(
    session: Any,
    shop_id: int,
    market: str,
    list_id: str,
    unit: str,
    refused: list[dict[str, str]],
    taken: list[str],
) -> None:
    """A price Shopify refused gets a failed message of its own ("pricelist:<market>:sku:<sku>",
    the same one each time it is refused), since the batch it is due in next differs; once a
    later call takes it, that message is marked done, so nothing stays failed after a fix."""
    for r in refused:
        sku = r["sku"]
        key, request = f"pricelist:{market}:sku:{sku}", {"sku": sku, "batch": unit}
        message = trace.begin(session, shop_id, FLOW, key, ERP_TO_SHOPIFY, shopify_id=list_id, search=[sku],
                              request=request)  # fmt: skip
        why = f"priceListFixedPricesAdd rejected {sku}: {r['message']}"
        trace.fail(session, message, Rejected(why, system="shopify", detail={"refused": [r], "batch": unit}))
    keys = [f"pricelist:{market}:sku:{sku}" for sku in taken]
    trace.succeed_open(session, shop_id, FLOW, keys, {"sent_in": unit})


def _remove_fixed(
    shop_id: int, client: AdminClient, target: ListTarget, list_id: str, prefix: str, rows: list[BindingRow]
) -> None:
    """The fixed prices of SKUs the pair has no price for any more, removed from the list (kept,
    the market would sell at a price the ERP no longer has, a promotion there would never end; it
    falls back to the base price): 250 a call, one message per call (jobs.price_list_retire).
    Their bindings (`rows`) say NO_PRICE once a call took them; until then they are due, so a call
    Shopify refused is made again next pass. Raises Transient (the watermark stays)."""
    list_ = price_list_retire.Stale(target.key, list_id)
    for start in range(0, len(rows), MAX_PRICES_PER_CALL):
        batch = rows[start : start + MAX_PRICES_PER_CALL]
        try:
            price_list_retire.delete_fixed_prices(
                shop_id,
                client,
                list_,
                {str(r.shopify_id): r.erp_id.removeprefix(prefix) for r in batch},
                retiring=False,
            )
        except IntegrationError as exc:  # said on the call's message
            if isinstance(exc, Transient):
                raise
            continue
        with session_scope() as session:
            bindings.upsert_many(session, shop_id, PRICE_KIND, batch)


def _explain_unpriced(
    session: Any,
    shop_id: int,
    target: ListTarget,
    list_id: str,
    prefix: str,
    unpriced: list[BindingRow],
    known: dict[str, Binding],
) -> None:
    """Prices the ERP has none for: remembered (a fixed price sent before keeps its variant id, for
    jobs.price_list_retire, and is removed: `_remove_fixed`), and a failed message per SKU when it
    newly has none."""
    bindings.upsert_many(session, shop_id, PRICE_KIND, unpriced)
    market = target.market_id.rsplit("/", 1)[-1]
    for row in unpriced:
        old = known.get(row.erp_id)
        if old is None or old.digest != NO_PRICE:
            sku = row.erp_id.removeprefix(prefix)
            where = (
                f"not sent to price list {list_id} (a fixed price it had there is removed): the market "
                "shows the base price for it"
            )
            price_unpriced.explain(session, shop_id, f"pricelist:{market}:sku:{sku}", sku, target.company,
                                   target.segment, where=where, market=target.market_id,
                                   normal=Decimal(str(row.data["normal"])) if row.data else None)  # fmt: skip


def _named(exc: Exception, count: int) -> dict[int, str]:
    """The prices a userErrors answer names (index -> what Shopify said); {} for anything else."""
    if not isinstance(exc, ShopifyUserErrors):
        return {}
    named: dict[int, str] = {}
    for e in exc.errors:
        if len(e.field) > 1 and e.field[0] == "prices" and e.field[1].isdigit() and int(e.field[1]) < count:
            index = int(e.field[1])
            named[index] = f"{named[index]}; {e.message}" if index in named else e.message
    return named


def _due(erp_id: str, state: dict[str, Any], today: date, variant_id: str | None = None) -> BindingRow:
    """A price Shopify does not hold yet (no variant yet, or refused for its variant; or a fixed
    price not removed yet, on `variant_id`): its state kept, due again on the next pass, and no
    digest, so anything sent then differs."""
    return BindingRow(erp_id, variant_id, None, {**state, "recheck_on": today.isoformat()})


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()

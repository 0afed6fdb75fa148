"""Prices, ERP -> Shopify: the store's (company, segment) price of each SKU on its variant.

Source: TabelaPrecoItem (`erp.price_items(since, nro_empresa, nro_segmento)`) of the store link.
Cursor: watermark flow "prices", scope "<nro_empresa>:<nro_segmento>".
Unit of work: one product: one productVariantsBulkUpdate carrying all its changed variants
(unit_key "price:<seqProduto>"), never one call per variant. More changed products than the
shop's `bulk_threshold` (the first pass, big deltas): the same calls as the lines of one bulk
operation (jobs.price_send), which does not spend the rate-limit bucket.

Ledger: binding kind "price" per SKU (erp_id = idSku, shopify_id = variant gid, digest = of the
price/compare-at/for-sale sent, data = the PriceState + `recheck_on`). The remembered promotion
dates let a run end (or start) a promotion on its date although no ERP row changed; a SKU whose
variant does not exist yet is kept with shopify_id NULL and `awaiting_price` (its new variant,
R$ 0.00 in Shopify, is not for sale: jobs.stock_map.for_sale) and priced by the first run after
the products/SKUs flows created it; a price Shopify refused is due again on every pass until taken
(jobs.price_send.record_refused), so it lands once the cause is fixed, unless a person closed its
product's message as handled (priced by hand in Shopify): then it stays so until the ERP price
changes or its promotion starts or ends (a read giving the same price again sends nothing, nor
does a change of another packaging of the product; kept on the SKU's binding). statusVenda 'I'
(not for sale in this store): the variant gets inventoryPolicy DENY here, the "price" binding
records `sale_active` false for the products flow to read, and a "stock_recheck" binding asks
the stock flow to zero (or restore) its levels. A normal price of 0 is Consinco's "no price"
(as is one that is R$ 0.00 once rounded to the cent: jobs.price_map.is_price):
none is sent (never R$ 0.00), the SKU is not for sale exactly as with statusVenda 'I', and a
failed message of its own says so (jobs.price_unpriced).
A read from the beginning (the first pass of a pair; the store link or the ERP connection moved
forgets the pair's watermark: ledger.setup_moves; the daily sweep, `sweep`) takes off sale the
SKUs priced before that the pair does not list at all, once a read of the changes made meanwhile
does not list them either, or holds them all for a person when the read cannot be proven whole or
they are too many (jobs.price_unlisted: its message's Retry reads the pair whole again); the
unreadable records of reads no longer made have their messages done
(jobs.price_records.forget_unread).
Once a day (schedule `prices_full`: jobs.prices_full) every pair is read whole (`sweep`): what
no change time announces (a promotion known by its running flag alone, ended at the ERP's midnight
with no row changed; a row committed later than the read overlap behind its stamp) reaches Shopify
within a day, and an unchanged price costs no call (its digest).
Further (company, segment) pairs mapped to markets (De:Para "segment_market") get price lists:
jobs.price_lists, run at the end of the same pass. A price record the client cannot read fails
a message of its own and holds the watermark below it, the rest of the read is sent
(jobs.price_records).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from erp.errors import ErpTransient
from erp.factory import for_shop as erp_for_shop
from erp.records import parse_sku
from jobs import (
    absence,
    catalog_map,
    catalog_messages,
    price_lists,
    price_never_listed,
    price_records,
    price_unlisted,
)
from jobs.locks import LockBusy, flow_lock
from jobs.price_map import (
    SETTLED_BY_HAND,
    VARIANT_REPLACED,
    WANTED_SALE_ACTIVE,
    PriceState,
    erp_today,
    recheck_on,
    settled_on,
    still_settled,
    target_price,
    unit_factor,
)
from jobs.price_send import Line, PriceRun, iso, send_bulk, send_direct, settle_leftover
from jobs.shop_served import served_only
from ledger import bindings, handled, shop_settings, trace, watermarks
from ledger.bindings import PRICE_KIND, STOCK_RECHECK_KIND, VARIANT_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.handled import unless_handled
from ledger.mappings import store_link
from ledger.models import Binding, Message, MessageStatus, Shop, utcnow
from settings import get_settings
from shopify_app.admin_api import for_shop as shopify_for_shop
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.variant_products import MAX_VARIANTS_PER_CALL, VariantProduct, variant_products

log = logging.getLogger(__name__)

FLOW = "prices"
STORE_LINK_UNIT = "price:store_link"  # the pass parked on missing setup (store link, ERP connection)
# The pass's prices waiting for the shop's first catalog load (no variant bound yet): one message, not
# one per ERP product (a supermarket's first load takes hours, prices run every 5 minutes)
FIRST_LOAD_UNIT = "price:catalog_first_load"
# Units replayed by a whole pass: a price list's, an unreadable price record's (read again by it).
PASS_UNITS = ("pricelist:", price_records.UNIT_PREFIX)


@served_only(FLOW, lambda _: PriceRun())
def run(shop_id: int, *, today: date | None = None) -> PriceRun:
    """One scheduled pass: changed price items, plus promotions due to start/end, plus SKUs whose
    variant appeared since. Skips (returns an empty result) when another worker runs prices."""
    try:
        with flow_lock(shop_id, FLOW):
            return _run(shop_id, today or _today())
    except LockBusy:
        log.info("prices: shop %s already running elsewhere; skipped", shop_id)
        return PriceRun()


@unless_handled
def replay(message_id: int, *, erp_price_back: bool = False) -> PriceRun:
    """Redo one unit from the trace, re-reading the ERP: the whole pass for a store-link or price
    list unit, the product's SKUs (sent whatever their digest) for a "price:<seq>" unit; the pair
    read whole for the held "price:unlisted" unit, the SKUs it names taken off sale if still not
    listed (only while it is failed: absence.confirmed_by; done, an ordinary whole read).

    `erp_price_back`: a person's Replay of the done message on the Messages page (said by the
    job: shopify_app.enqueue; a Retry, "Retry failed" or resume never says it, whatever the
    message's status once the job runs): the product's SKUs settled by hand get the ERP price
    back ("price:<seq>"), or the one SKU of a "price:<seq>:<sku>" message."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.flow != FLOW:
            raise LookupError(f"message {message_id} is not a prices message")
        shop_id, unit_key = message.shop_id, message.unit_key
        confirmed = absence.confirmed_by(message)
    try:
        with flow_lock(shop_id, FLOW):
            if unit_key == price_unlisted.UNIT:  # a person checked those it names: the pair read whole
                return _run(shop_id, _today(), whole=True, confirmed=confirmed)
            if unit_key.startswith("pricelist:") and unit_key.endswith(price_lists.UNLISTED):
                market = unit_key.split(":")[1]  # a market's fixed prices held: every pair read whole
                return _run(shop_id, _today(), whole=True, list_confirmed={market: confirmed})
            if unit_key == price_never_listed.UNIT:  # SKUs never priced: the pair read whole again
                return _run(shop_id, _today(), whole=True)
            if unit_key.startswith("pricelist:") and ":remove:" in unit_key:
                # fixed prices a list still holds: a whole read finds them again (a pair that no
                # longer lists a SKU, or has no price for it) and removes them
                return _run(shop_id, _today(), whole=True)
            if unit_key in (STORE_LINK_UNIT, FIRST_LOAD_UNIT) or unit_key.startswith(PASS_UNITS):
                return _run(shop_id, _today())
            parts = unit_key.split(":")  # "price:<seq>" or a SKU's "price:<seq>:<sku>"
            back = ((parts[2],) if len(parts) > 2 else None) if erp_price_back else ()
            return _replay_product(shop_id, int(parts[1]), _today(), erp_price_back=back)
    except LockBusy as exc:
        raise Transient(f"prices flow of shop {shop_id} is running; replay later") from exc


def sweep(shop_id: int, *, today: date | None = None) -> PriceRun:
    """The daily whole read (jobs.prices_full): the store's pair and every market's pair read from
    no watermark, as a first pass reads them, decided against what was sent (the digests: an
    unchanged price costs not one Shopify call). What no change time announces is seen here: a
    promotion given by its running flag alone (no dates: price_map.promotion_running trusts the
    flag) that ended at the ERP's midnight with no row changed, a row an ERP batch committed after
    the overlap (ERP_READ_OVERLAP) behind its stamp. The watermarks only move forward
    (ledger.watermarks.advance): the next incremental pass reads from where it stood or later.

    Raises:
        LockBusy: a prices pass (or replay) runs for the shop now; the caller retries.
    """
    with flow_lock(shop_id, FLOW):
        return _run(shop_id, today or _today(), whole=True)


def _today() -> date:
    return erp_today(get_settings().erp_timezone)


def _run(
    shop_id: int,
    today: date,
    *,
    whole: bool = False,
    confirmed: Collection[str] = (),
    list_confirmed: Mapping[str, Collection[str]] | None = None,
) -> PriceRun:
    started = utcnow()
    with session_scope() as session:
        domain = _domain(session, shop_id)
        try:
            link = store_link(session, shop_id)
        except MappingMissing as exc:
            _park(session, shop_id, STORE_LINK_UNIT, exc)
            return PriceRun()
        company, segment = link.nro_empresa, link.nro_segmento
        scope = f"{company}:{segment}"
        since = None if whole else watermarks.read(session, shop_id, FLOW, scope).last_changed_at
    try:
        erp = erp_for_shop(shop_id)
    except MappingMissing as exc:  # no ERP connection yet: shown, resumed by replay
        with session_scope() as session:
            _park(session, shop_id, STORE_LINK_UNIT, exc)
        return PriceRun()
    read_now = [scope, *(target.scope for target in price_lists.targets(shop_id))]
    with session_scope() as session:  # the setup a pass parked on is in place now (its replay runs this)
        trace.succeed_open(session, shop_id, FLOW, [STORE_LINK_UNIT], {"resumed": True})
        price_records.forget_unread(session, shop_id, read_now)
    client = shopify_for_shop(domain, lane="background")
    try:
        settle_leftover(shop_id, client, today)  # before anything is decided (the due states below)
        read = erp.price_items(since, company, segment)
        read.keep_malformed = True  # one unreadable record fails alone (jobs.price_records)
        try:
            states = {item.id_sku: PriceState.from_item(item) for item in read}
        except ErpTransient:
            _due_while_down(shop_id, client, today)
            raise
        held = price_records.set_aside(shop_id, read, erp.names, since, scope,
                                       f" at company {company} segment {segment}")  # fmt: skip
        if since is None and read.complete:  # every price the pair has, but rows changed meanwhile
            states.update(price_unlisted.sweep(shop_id, erp, read, set(states), company, segment,
                                               confirmed=confirmed))  # fmt: skip
        with session_scope() as session:
            for id_sku, state in _due_states(session, shop_id, today).items():
                states.setdefault(id_sku, state)
            states = _settled_by_hand(session, shop_id, states, today, client=client)
        result = apply(shop_id, client, states, today)
        with session_scope() as session:  # SKUs said never priced that have a price now
            price_never_listed.settle(session, shop_id)
        try:
            result.list_prices = price_lists.sync(shop_id, erp, client, today, whole=whole,
                                                  confirmed=list_confirmed)  # fmt: skip
        except Transient as exc:
            result.transient = result.transient or exc
    finally:
        erp.close()
        client.close()
    result.read = read.yielded
    at = held.cap(read.snapshot) if read.complete and read.snapshot is not None else None
    if result.transient is None and result.bug is None and at is not None:
        with session_scope() as session:
            watermarks.advance(session, shop_id, FLOW, scope, at, 0, started)
    _raise_if_unfinished(result)
    return result


def _due_while_down(shop_id: int, client: AdminClient, today: date) -> None:
    """The ERP unreachable (a night's maintenance window): the prices that change today by date,
    which the app knows without it (a promotion's start or end, remembered on the binding), are
    sent all the same: a promotion ending during the outage stayed on sale until the ERP was back.
    The watermark stays where it was: the read after the outage brings what the ERP changed."""
    with session_scope() as session:
        states = _settled_by_hand(
            session, shop_id, _due_states(session, shop_id, today), today, client=client
        )
    if states:
        log.info("prices: the ERP is unreachable; %s prices due today by date sent (shop %s)", len(states),
                 shop_id)  # fmt: skip
        apply(shop_id, client, states, today)


def _replay_product(
    shop_id: int, seq: int, today: date, *, erp_price_back: Collection[str] | None = ()
) -> PriceRun:
    """The product's SKUs sent whatever their digest. `erp_price_back`: the SKUs a person's Replay
    asks the ERP's price back for (their settlement by hand dropped), None for all of them (the
    product's message); the others (all, for a Retry) stay as set by hand."""
    with session_scope() as session:
        domain = _domain(session, shop_id)
        link = store_link(session, shop_id)
        company, segment = link.nro_empresa, link.nro_segmento
    erp = erp_for_shop(shop_id)
    try:
        read = erp.price_items(None, company, segment)
        read.keep_malformed = True  # another product's unreadable record is the pass's to tell
        states = {i.id_sku: PriceState.from_item(i) for i in read if i.seq_produto == seq}
    finally:
        erp.close()
    back = set(states) if erp_price_back is None else set(erp_price_back) & set(states)
    with session_scope() as session:  # a packaging settled by hand stays so (another's Retry)
        for b in bindings.get_many(session, shop_id, PRICE_KIND, back).values():
            if SETTLED_BY_HAND in (b.data or {}):
                b.data = {k: v for k, v in b.data.items() if k != SETTLED_BY_HAND}
        session.flush()
        states = _settled_by_hand(session, shop_id, states, today, newly=False)
    client = shopify_for_shop(domain, lane="background")
    try:
        settle_leftover(shop_id, client, today)  # its other SKUs are due on the next pass
        result = apply(shop_id, client, states, today, force=True)
    finally:
        client.close()
    _raise_if_unfinished(result)
    return result


def apply(
    shop_id: int, client: AdminClient, states: dict[str, PriceState], today: date, *, force: bool = False
) -> PriceRun:
    """Send what changed, one productVariantsBulkUpdate per product (direct calls, or the lines of
    one bulk operation when more products changed than the shop's `bulk_threshold`); record
    bindings and one message per product either way."""
    result = PriceRun()
    with session_scope() as session:
        threshold = _bulk_threshold(session, shop_id)
        variants = {
            k: (b.shopify_id, dict(b.data or {}))
            for k, b in bindings.get_many(session, shop_id, VARIANT_KIND, states).items()
        }
        known = {
            k: (b.shopify_id, b.digest, dict(b.data or {}))
            for k, b in bindings.get_many(session, shop_id, PRICE_KIND, states).items()
        }
    by_product: dict[str, list[Line]] = defaultdict(list)
    waiting: dict[int, list[str]] = defaultdict(list)
    quiet: list[BindingRow] = []  # unchanged prices whose remembered state moved on (dates, recheck)
    for id_sku, state in states.items():
        variant_id, variant_data = variants.get(id_sku, (None, {}))
        old = known.get(id_sku)
        if variant_id is None or not variant_data.get("product_id"):
            # Nothing sent: the variant the products flow creates holds no price (R$ 0.00), so the
            # stock flow must not sell it (stock_map.for_sale) until the first price lands.
            data = {**state.to_data(), "recheck_on": iso(recheck_on(state, today))}
            waiting[state.seq_produto].append(id_sku)
            quiet.append(BindingRow(id_sku, None, None, {**data, "awaiting_price": True}))
            continue
        target = target_price(state, today, unit_factor(variant_data))
        # A price per kg that is R$ 0.00 per unit sold once rounded is no price for this variant
        # (price_map.is_price): off sale, as the binding tells the stock and products flows.
        state = replace(state, sale_active=target.for_sale)
        data = {**state.to_data(), "recheck_on": iso(recheck_on(state, today))}
        if not force and old is not None and old[0] == variant_id and old[1] == target.digest():
            result.unchanged += 1
            if old[2] != data:
                quiet.append(BindingRow(id_sku, variant_id, old[1], data))
            continue
        # None: a first price (or the first on a replaced variant) asks the stock flow to recheck.
        old_sale = None if old is None or old[2].get("awaiting_price") else old[2].get("sale_active")
        by_product[variant_data["product_id"]].append(Line(id_sku, variant_id, state, target, old_sale))
    with session_scope() as session:  # a variant replaced since the read keeps its replacement's mark
        current = bindings.on_current_variant(session, shop_id, {row.erp_id: row.shopify_id for row in quiet})
        bindings.upsert_many(session, shop_id, PRICE_KIND, [row for row in quiet if row.erp_id in current])
    if len(by_product) > threshold:
        send_bulk(shop_id, client, by_product, today, result)
    else:
        for product_id, lines in by_product.items():
            send_direct(shop_id, client, product_id, lines, today, result)
    # After the sends: a sibling packaging sent under the same unit ("price:<seq>") closed the message
    # done, hiding that this SKU waits for its variant. A send that failed keeps its failure said.
    sent = {line.state.seq_produto for lines in by_product.values() for line in lines}
    with session_scope() as session:
        held = _held_out(session, shop_id, waiting) if waiting else set()
        if not _catalog_bound(session, shop_id):  # no catalog in Shopify yet: one message says it
            count = sum(len([sku for sku in skus if sku not in held]) for skus in waiting.values())
            result.waiting += count
            if count:
                first = MappingMissing(
                    VARIANT_KIND,
                    "catalog",
                    f"{count} SKU(s) wait for the shop's first catalog load: priced once the products/SKUs "
                    "flows create them",
                    words=("price_catalog_first_load", {"count": count}),
                )
                _park(session, shop_id, FIRST_LOAD_UNIT, first)
            return result
        trace.succeed_open(session, shop_id, FLOW, [FIRST_LOAD_UNIT], {"catalog": "loaded"})
        for seq, skus in waiting.items():
            skus = [sku for sku in skus if sku not in held]  # never to be a variant: the catalog says why
            if not skus:
                continue
            result.waiting += len(skus)
            if seq in sent and _failed_now(session, shop_id, f"price:{seq}"):
                continue
            missing = MappingMissing(
                VARIANT_KIND,
                skus[0],
                f"SKU(s) {', '.join(sorted(skus))} have no Shopify variant yet: priced once the "
                "products/SKUs flows create them",
                words=("price_variant_missing", {"skus": ", ".join(sorted(skus))}),
                skus=sorted(skus),
            )
            _park(session, shop_id, f"price:{seq}", missing, search=skus)
    return result


def _held_out(session: Any, shop_id: int, waiting: dict[int, list[str]]) -> set[str]:
    """Of the SKUs `waiting` for a variant, those the catalog never makes one for: a weighed product's
    packaging other than its KG one of quantity 1 (jobs.catalog_map.not_kg; the product weighed as
    its P{seq}E1 variant's binding says, or a products' failed message naming the SKU held). Their
    price waits for nothing: parked "until the products/SKUs flows create them", it promised what
    never comes (the catalog's message says why, and what to change in the ERP)."""
    firsts = bindings.get_many(session, shop_id, VARIANT_KIND, [f"P{seq}E1" for seq in waiting])
    weighed = {
        seq for seq in waiting if (found := firsts.get(f"P{seq}E1")) and (found.data or {}).get("weighed")
    }
    held = {
        sku
        for seq in weighed
        for sku in waiting[seq]
        if (parsed := parse_sku(sku)) is not None and catalog_map.not_kg(True, parsed[1])
    }
    rows = session.scalars(
        select(Message.error_detail).where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.FAILED.value,
            Message.error_detail["code"].as_string() == catalog_messages.HELD_CODE,
        )
    )
    return held | {
        str(sku) for detail in rows if isinstance(detail, dict) for sku in detail.get("skus") or []
    }


def _failed_now(session: Any, shop_id: int, unit_key: str) -> bool:
    status = session.scalar(
        select(Message.status).where(
            Message.shop_id == shop_id, Message.flow == FLOW, Message.unit_key == unit_key
        )
    )
    return status in (MessageStatus.FAILED.value, MessageStatus.RETRYING.value)


def _due_states(session: Any, shop_id: int, today: date) -> dict[str, PriceState]:
    """Remembered items whose price changes today by date, and items whose variant now exists."""
    due_on = Binding.data["recheck_on"].as_string()
    rows = session.scalars(
        select(Binding).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRICE_KIND,
            (due_on <= today.isoformat()) | Binding.shopify_id.is_(None),
        )
    ).all()
    waiting = [b.erp_id for b in rows if b.shopify_id is None]
    present = bindings.get_many(session, shop_id, VARIANT_KIND, waiting) if waiting else {}
    return {
        b.erp_id: PriceState.from_data(b.data)
        for b in rows
        if b.data and (b.shopify_id is not None or b.erp_id in present)
    }


def _settled_by_hand(
    session: Any,
    shop_id: int,
    states: dict[str, PriceState],
    today: date,
    *,
    newly: bool = True,
    client: AdminClient | None = None,
) -> dict[str, PriceState]:
    """`states` but the prices Shopify refused (kept due, no digest: price_send.record_refused) a
    person settled by hand in Shopify while the ERP still means what was refused: the same record,
    its promotion running or not as then (price_map.still_settled); they stay so until it changes.

    The settlement is kept on the SKU's price binding (price_map.settled_on) the first pass after
    its product's message was closed as handled, unless the binding was written since the mark
    (its variant replaced, at R$ 0.00: catalog_ledger): that message is the product's, reopened
    (or parked) by a change of any of its packagings. A new ERP price rewrites the binding. A
    refused first price settled so (awaiting_price: a new variant, R$ 0.00 in Shopify) is for sale,
    its stock rechecked, once `client` reads its variant above R$ 0.00 in Shopify (the message may
    have been closed for a sibling packaging); until then it stays off sale, asked again each pass.
    `newly` False: the settlements kept so far alone (a replay: the message it runs is the one
    that could have been closed since, and its begin says so: trace.replaying)."""
    refused = session.scalars(
        select(Binding).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRICE_KIND,
            Binding.digest.is_(None),
            Binding.shopify_id.is_not(None),
        )
    ).all()
    same = {
        b.erp_id: b
        for b in refused
        if WANTED_SALE_ACTIVE in (b.data or {}) and states.get(b.erp_id) == PriceState.from_data(b.data)
    }
    # A price due on a replaced variant (catalog_ledger._reprice) is not the refusal the person
    # answered: the new variant holds R$ 0.00 and is priced whatever the mark.
    fresh = {
        k: b
        for k, b in same.items()
        if newly and SETTLED_BY_HAND not in b.data and VARIANT_REPLACED not in b.data
    }
    closed = handled.closed_at(session, shop_id, FLOW, {f"price:{states[k].seq_produto}" for k in fresh})
    for k, b in fresh.items():
        at = closed.get(f"price:{states[k].seq_produto}")
        if at is not None and handled.utc(b.updated_at) <= at:  # what was settled: the ERP's day of
            refused_on = erp_today(get_settings().erp_timezone, handled.utc(b.updated_at))  # the refusal
            b.data = settled_on(b.data, states[k], refused_on)
    settled = {k for k, b in same.items() if still_settled(b.data, states[k], today)}
    first = [k for k in settled if same[k].data.get("awaiting_price")] if newly and client else []
    first_priced = _priced_in_shopify(session, shop_id, client, first) if first else {}
    # The variant priced by hand: for sale now, the stock flow sends its level. The price is the
    # variant's read there (stock_map.for_sale), not the one a refusal may name (a stale binding).
    for k, variant_id in first_priced.items():
        same[k].data = {key: v for key, v in same[k].data.items() if key != "awaiting_price"}
        same[k].shopify_id = variant_id
    bindings.upsert_many(session, shop_id, STOCK_RECHECK_KIND, [BindingRow(k, None) for k in first_priced])
    return {k: s for k, s in states.items() if k not in settled}


def _priced_in_shopify(
    session: Any, shop_id: int, client: AdminClient | None, skus: list[str]
) -> dict[str, str]:
    """Those of `skus` whose variant Shopify shows above R$ 0.00 (one nodes read per 250), with
    the variant read; none when Shopify cannot be read (they stay off sale: the next pass asks
    again)."""
    variants = {k: b.shopify_id for k, b in bindings.get_many(session, shop_id, VARIANT_KIND, skus).items()}
    ids = sorted({v for v in variants.values() if v})
    seen: dict[str, VariantProduct] = {}
    try:
        for start in range(0, len(ids), MAX_VARIANTS_PER_CALL):
            seen.update(variant_products(client, ids[start : start + MAX_VARIANTS_PER_CALL]))
    except (Transient, Rejected) as exc:
        log.warning("prices: shop %s: the Shopify price of %s unread (%s); kept off sale", shop_id,
                    ", ".join(sorted(skus)), exc, extra={"shop_id": shop_id, "flow": FLOW})  # fmt: skip
        return {}
    return {k: v for k, v in variants.items() if v and v in seen and _above_zero(seen[v].price)}


def _above_zero(price: str | None) -> bool:
    try:
        return Decimal(str(price)) > 0
    except (InvalidOperation, ValueError):
        return False


def _catalog_bound(session: Any, shop_id: int) -> bool:
    """Whether any of the shop's packagings is bound to a Shopify variant (its first catalog load
    made some)."""
    found = select(Binding.id).where(Binding.shop_id == shop_id, Binding.kind == VARIANT_KIND).limit(1)
    return session.scalar(found) is not None


def _park(
    session: Any, shop_id: int, unit_key: str, exc: MappingMissing, search: list[str] | None = None
) -> None:
    message = trace.begin(session, shop_id, FLOW, unit_key, ERP_TO_SHOPIFY, search=search or [exc.code])
    trace.fail(session, message, exc)


def _bulk_threshold(session: Any, shop_id: int) -> int:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    return int(shop_settings.get(shop, "bulk_threshold"))


def _domain(session: Any, shop_id: int) -> str:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    return shop.domain


def _raise_if_unfinished(result: PriceRun) -> None:
    """Transient -> RQ retries the pass (the watermark did not move); a bug surfaces loudly."""
    if result.transient is not None:
        raise result.transient
    if result.bug is not None:
        raise result.bug

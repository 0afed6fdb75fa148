"""Prices, ERP -> Shopify: the store's (company, segment) price of each SKU on its variant.

Source: TabelaPrecoItem (`erp.price_items(since, nro_empresa, nro_segmento)`) of the store link.
Cursor: watermark flow "prices", scope "<nro_empresa>:<nro_segmento>".
Unit of work: one product: one productVariantsBulkUpdate carrying all its changed variants
(unit_key "price:<seqProduto>"), never one call per variant.

Ledger: binding kind "price" per SKU (erp_id = idSku, shopify_id = variant gid, digest = of the
price/compare-at/for-sale sent, data = the PriceState + `recheck_on`). The remembered promotion
dates let a run end (or start) a promotion on its date although no ERP row changed; a SKU whose
variant does not exist yet is kept with shopify_id NULL and priced by the first run after the
products/SKUs flows created it. statusVenda 'I' (not for sale in this store): the variant gets
inventoryPolicy DENY here, the "price" binding records `sale_active` false for the products flow
to read, and a "stock_recheck" binding asks the stock flow to zero (or restore) its levels.
Further (company, segment) pairs mapped to markets (De:Para "segment_market") get price lists:
jobs.price_lists, run at the end of the same pass.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from erp.factory import for_shop as erp_for_shop
from jobs import price_lists
from jobs.locks import LockBusy, flow_lock
from jobs.price_map import PriceState, VariantPrice, recheck_on, target_price, unit_factor, variant_input
from ledger import bindings, trace, watermarks
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import IntegrationError, MappingMissing, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.mappings import store_link
from ledger.models import Binding, Message, Shop, utcnow
from shopify_app.admin_api import for_shop as shopify_for_shop
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

FLOW = "prices"
PRICE_KIND = "price"
VARIANT_KIND = "variant"
RECHECK_KIND = "stock_recheck"


@dataclass
class PriceRun:
    """What one pass did (returned for the CLI, tests and the benchmark)."""

    read: int = 0
    products_sent: int = 0
    variants_sent: int = 0
    unchanged: int = 0
    waiting: int = 0
    list_prices: int = 0
    failed: list[str] = field(default_factory=list)
    transient: Transient | None = None
    bug: BaseException | None = None


@dataclass(frozen=True)
class _Line:
    id_sku: str
    variant_id: str
    state: PriceState
    target: VariantPrice
    old_sale_active: bool | None


def run(shop_id: int, *, today: date | None = None) -> PriceRun:
    """One scheduled pass: changed price items, plus promotions due to start/end, plus SKUs whose
    variant appeared since. Skips (returns an empty result) when another worker runs prices."""
    try:
        with flow_lock(shop_id, FLOW):
            return _run(shop_id, today or datetime.now(UTC).date())
    except LockBusy:
        log.info("prices: shop %s already running elsewhere; skipped", shop_id)
        return PriceRun()


def replay(message_id: int) -> PriceRun:
    """Redo one unit from the trace, re-reading the ERP: the whole pass for a store-link or price
    list unit, the product's SKUs (sent whatever their digest) for a "price:<seq>" unit."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.flow != FLOW:
            raise LookupError(f"message {message_id} is not a prices message")
        shop_id, unit_key = message.shop_id, message.unit_key
    try:
        with flow_lock(shop_id, FLOW):
            if unit_key == "price:store_link" or unit_key.startswith("pricelist:"):
                return _run(shop_id, datetime.now(UTC).date())
            seq = int(unit_key.split(":", 1)[1])
            return _replay_product(shop_id, seq, datetime.now(UTC).date())
    except LockBusy as exc:
        raise Transient(f"prices flow of shop {shop_id} is running; replay later") from exc


def _run(shop_id: int, today: date) -> PriceRun:
    started = utcnow()
    with session_scope() as session:
        domain = _domain(session, shop_id)
        try:
            link = store_link(session, shop_id)
        except MappingMissing as exc:
            _park(session, shop_id, "price:store_link", exc)
            return PriceRun()
        company, segment = link.nro_empresa, link.nro_segmento
        scope = f"{company}:{segment}"
        since = watermarks.read(session, shop_id, FLOW, scope).last_changed_at
    try:
        erp = erp_for_shop(shop_id)
    except MappingMissing as exc:  # no ERP connection yet: shown, resumed by replay
        with session_scope() as session:
            _park(session, shop_id, "price:store_link", exc)
        return PriceRun()
    client = shopify_for_shop(domain)
    try:
        read = erp.price_items(since, company, segment)
        states = {item.id_sku: PriceState.from_item(item) for item in read}
        with session_scope() as session:
            for id_sku, state in _due_states(session, shop_id, today).items():
                states.setdefault(id_sku, state)
        result = apply(shop_id, client, states, today)
        try:
            result.list_prices = price_lists.sync(shop_id, erp, client, today)
        except Transient as exc:
            result.transient = result.transient or exc
    finally:
        erp.close()
        client.close()
    result.read = read.yielded
    if result.transient is None and result.bug is None and read.complete and read.snapshot is not None:
        with session_scope() as session:
            watermarks.advance(session, shop_id, FLOW, scope, read.snapshot, 0, started)
    _raise_if_unfinished(result)
    return result


def _replay_product(shop_id: int, seq: int, today: date) -> PriceRun:
    with session_scope() as session:
        domain = _domain(session, shop_id)
        link = store_link(session, shop_id)
        company, segment = link.nro_empresa, link.nro_segmento
    erp = erp_for_shop(shop_id)
    try:
        states = {
            i.id_sku: PriceState.from_item(i)
            for i in erp.price_items(None, company, segment)
            if i.seq_produto == seq
        }
    finally:
        erp.close()
    client = shopify_for_shop(domain)
    try:
        result = apply(shop_id, client, states, today, force=True)
    finally:
        client.close()
    _raise_if_unfinished(result)
    return result


def apply(
    shop_id: int, client: AdminClient, states: dict[str, PriceState], today: date, *, force: bool = False
) -> PriceRun:
    """Send what changed, one call per product; record bindings and one message per product."""
    result = PriceRun()
    with session_scope() as session:
        variants = {
            k: (b.shopify_id, dict(b.data or {}))
            for k, b in bindings.get_many(session, shop_id, VARIANT_KIND, states).items()
        }
        known = {
            k: (b.shopify_id, b.digest, dict(b.data or {}))
            for k, b in bindings.get_many(session, shop_id, PRICE_KIND, states).items()
        }
    by_product: dict[str, list[_Line]] = defaultdict(list)
    waiting: dict[int, list[str]] = defaultdict(list)
    quiet: list[BindingRow] = []  # unchanged prices whose remembered state moved on (dates, recheck)
    for id_sku, state in states.items():
        variant_id, variant_data = variants.get(id_sku, (None, {}))
        old = known.get(id_sku)
        data = {**state.to_data(), "recheck_on": _iso(recheck_on(state, today))}
        if variant_id is None or not variant_data.get("product_id"):
            waiting[state.seq_produto].append(id_sku)
            quiet.append(BindingRow(id_sku, None, None, data))
            continue
        target = target_price(state, today, unit_factor(variant_data))
        if not force and old is not None and old[0] == variant_id and old[1] == target.digest():
            result.unchanged += 1
            if old[2] != data:
                quiet.append(BindingRow(id_sku, variant_id, old[1], data))
            continue
        old_sale = None if old is None else old[2].get("sale_active")
        by_product[variant_data["product_id"]].append(_Line(id_sku, variant_id, state, target, old_sale))
    with session_scope() as session:
        bindings.upsert_many(session, shop_id, PRICE_KIND, quiet)
        for seq, skus in waiting.items():
            missing = MappingMissing(
                VARIANT_KIND,
                skus[0],
                f"SKU(s) {', '.join(sorted(skus))} have no Shopify variant yet: priced once the "
                "products/SKUs flows create them",
                skus=sorted(skus),
            )
            _park(session, shop_id, f"price:{seq}", missing, search=skus)
            result.waiting += len(skus)
    for product_id, lines in by_product.items():
        _send_product(shop_id, client, product_id, lines, today, result)
    return result


def _send_product(
    shop_id: int, client: AdminClient, product_id: str, lines: list[_Line], today: date, result: PriceRun
) -> None:
    seq = lines[0].state.seq_produto
    inputs = [variant_input(line.variant_id, line.target) for line in lines]
    skus = [line.id_sku for line in lines]
    with session_scope() as session:
        message = trace.begin(
            session,
            shop_id,
            FLOW,
            f"price:{seq}",
            ERP_TO_SHOPIFY,
            shopify_id=product_id,
            erp_id=str(seq),
            search=skus,
            request={"product_id": product_id, "skus": skus, "variants": inputs},
        )
        message_id = message.id
    failed_at: set[int] = set()
    error: BaseException | None = None
    try:
        client.variants_bulk_update(product_id, inputs, allow_partial_updates=True)
    except ShopifyUserErrors as exc:
        failed_at = _failed_indexes(exc, len(lines))
        error = exc
    except Exception as exc:  # classified below: transient re-raised by the caller, bug surfaced
        failed_at = set(range(len(lines)))
        error = exc
    applied = [line for i, line in enumerate(lines) if i not in failed_at]
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        _record_applied(session, shop_id, applied, today)
        if error is None:
            trace.succeed(session, message, response={"variants": len(applied)})
        else:
            if isinstance(error, ShopifyUserErrors):
                error = _per_sku(error, lines)
            trace.fail(session, message, error)
    result.products_sent += 1
    result.variants_sent += len(applied)
    if error is not None:
        result.failed.extend(lines[i].id_sku for i in sorted(failed_at))
        if isinstance(error, Transient):
            result.transient = result.transient or error
        elif not isinstance(error, IntegrationError):
            result.bug = result.bug or error


def _record_applied(session: Any, shop_id: int, applied: list[_Line], today: date) -> None:
    """Bindings of the variants Shopify took; a sale-status flip asks the stock flow to recheck."""
    rows = [
        BindingRow(
            line.id_sku,
            line.variant_id,
            line.target.digest(),
            {**line.state.to_data(), "recheck_on": _iso(recheck_on(line.state, today))},
        )
        for line in applied
    ]
    bindings.upsert_many(session, shop_id, PRICE_KIND, rows)
    flips = [
        line.id_sku
        for line in applied
        if (line.old_sale_active is not None and line.old_sale_active != line.state.sale_active)
        or (line.old_sale_active is None and not line.state.sale_active)
    ]
    bindings.upsert_many(session, shop_id, RECHECK_KIND, [BindingRow(sku, None, None, {}) for sku in flips])


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


def _failed_indexes(exc: ShopifyUserErrors, count: int) -> set[int]:
    """Variants named by userErrors (field ["variants", i, ...]); all of them when none is named."""
    named = {
        int(e.field[1])
        for e in exc.errors
        if len(e.field) > 1 and e.field[0] == "variants" and e.field[1].isdigit()
    }
    return named if named else set(range(count))


def _per_sku(exc: ShopifyUserErrors, lines: list[_Line]) -> Rejected:
    """The userErrors with the SKU each one is about, so the Messages page names the bad SKU."""
    per_sku = []
    for e in exc.errors:
        index = int(e.field[1]) if len(e.field) > 1 and e.field[1].isdigit() else None
        sku = lines[index].id_sku if index is not None and index < len(lines) else None
        per_sku.append({"sku": sku, "field": list(e.field), "message": e.message, "code": e.code})
    text = "; ".join(f"{p['sku'] or '-'}: {p['message']}" for p in per_sku)
    return Rejected(
        f"productVariantsBulkUpdate rejected: {text}",
        system="shopify",
        code=exc.code,
        detail={"user_errors": per_sku, "request_id": exc.request_id},
    )


def _park(
    session: Any, shop_id: int, unit_key: str, exc: MappingMissing, search: list[str] | None = None
) -> None:
    message = trace.begin(session, shop_id, FLOW, unit_key, ERP_TO_SHOPIFY, search=search or [exc.code])
    trace.fail(session, message, exc)


def _domain(session: Any, shop_id: int) -> str:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    return shop.domain


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _raise_if_unfinished(result: PriceRun) -> None:
    """Transient -> RQ retries the pass (the watermark did not move); a bug surfaces loudly."""
    if result.transient is not None:
        raise result.transient
    if result.bug is not None:
        raise result.bug

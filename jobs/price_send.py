"""Sending a prices pass's changes to Shopify: one productVariantsBulkUpdate per product, either
as direct calls (small deltas) or as the lines of one bulk operation (first pass, big deltas).

Why two paths: direct calls are paced by the rate-limit bucket (3,500 products of a first pass
took ~7 minutes on the Standard/Plus bucket); a bulk operation does not spend the bucket and runs
them all at once. Both paths record exactly the same things: one message per product
(unit_key "price:<seqProduto>"), the "price" bindings of the variants Shopify took (digest, the
PriceState, `recheck_on`), the "stock_recheck" bindings of sale-status flips, and the userErrors
named per SKU. So a re-run after either path costs zero calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jobs import price_unpriced
from jobs.price_map import (
    POLICY_DENY,
    WANTED_SALE_ACTIVE,
    PriceState,
    VariantPrice,
    recheck_on,
    variant_input,
)
from ledger import bindings, trace
from ledger.bindings import CATALOG_RECHECK_KIND, PRICE_KIND, STOCK_POLICY_KIND, BindingRow
from ledger.bindings import STOCK_RECHECK_KIND as RECHECK_KIND
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.mappings import store_link
from ledger.models import Message
from ledger.trace_bulk import UnitStart, begin_many, succeed_many
from shopify_app.admin_api.bulk import BulkLineResult, joined
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

FLOW = "prices"
BULK_MUTATION = "ProductVariantsBulkUpdate"


@dataclass
class PriceRun:
    """What one pass did (returned for the CLI, tests and the benchmark)."""

    read: int = 0
    products_sent: int = 0
    variants_sent: int = 0
    unchanged: int = 0
    waiting: int = 0
    list_prices: int = 0
    bulk: bool = False
    failed: list[str] = field(default_factory=list)
    transient: Transient | None = None
    bug: BaseException | None = None


@dataclass(frozen=True)
class Line:
    """One changed variant of a product: what the ERP says, what Shopify should show."""

    id_sku: str
    variant_id: str
    state: PriceState
    target: VariantPrice
    old_sale_active: bool | None


def send_direct(
    shop_id: int, client: AdminClient, product_id: str, lines: list[Line], today: date, result: PriceRun
) -> None:
    """One product, one call, one message."""
    message_id = _begin(shop_id, [(product_id, lines)])[0]
    failed_at: set[int] = set()
    error: BaseException | None = None
    try:
        client.variants_bulk_update(product_id, _inputs(lines), allow_partial_updates=True)
    except ShopifyUserErrors as exc:
        failed_at = failed_indexes(exc.errors, len(lines))
        error = per_sku(exc, lines)
    except Exception as exc:  # classified by _finish: transient re-raised by the caller, bug surfaced
        failed_at = set(range(len(lines)))
        error = exc
    with session_scope() as session:
        record_applied(session, shop_id, _applied(lines, failed_at), today)
        record_refused(session, shop_id, lines, failed_at, error, today)
        record_unknown(session, shop_id, lines, failed_at, error)
        _close(session, message_id, lines, failed_at, error, result)


def bulk_identifier(shop_id: int) -> str:
    """The client identifier of a shop's prices bulk operations: one record, found by every pass
    and replay (settle_leftover)."""
    return f"prices-{shop_id}"


def settle_leftover(shop_id: int, client: AdminClient, today: date) -> None:
    """Before a pass or a replay decides anything: wait for the prices bulk operation a dead pass
    left running in Shopify, then have its SKUs sent again.

    Why: the flow lock lapses with the dead worker while its operation still writes in Shopify
    (minutes to hours); a replay or a small pass sending one of its products directly meanwhile
    records the newer price, and the operation then writes the older one over it, which no later
    pass (nor the daily whole read) sends again: the digest matches. Their prices are marked
    unknown and due today (`forget_sent`): the next pass (this one) sends what the ERP says then.
    The operation is marked settled only once that is committed.

    An operation still running after BulkRunner's wait for it raises BulkStillRunning (transient,
    naming it): nothing is sent, the next run waits for it again."""
    identifier = bulk_identifier(shop_id)
    left = client.bulk.leftover(identifier)
    if left is None:
        return
    skus = left.keys()
    if skus:
        log.warning("prices: %s SKUs of a bulk operation left by a dead pass are sent again (shop %s)",
                    len(skus), shop_id)  # fmt: skip
        with session_scope() as session:
            forget_sent(session, shop_id, skus, today)
    client.bulk.mark_settled(identifier, left)


def forget_sent(session: Any, shop_id: int, skus: Iterable[str], today: date) -> None:
    """These SKUs' prices unknown in Shopify and due today: sent again by the next pass whatever
    their digest, from what the ERP says then (prices._due_states picks them up)."""
    known = bindings.get_many(session, shop_id, PRICE_KIND, list(skus))
    rows = [
        BindingRow(
            sku,
            b.shopify_id,
            None if b.digest is None else UNKNOWN,
            {**(b.data or {}), "recheck_on": _due_by((b.data or {}).get("recheck_on"), today)},
        )
        for sku, b in known.items()
    ]
    bindings.upsert_many(session, shop_id, PRICE_KIND, rows)


def _due_by(recheck: str | None, today: date) -> str:
    return recheck if recheck is not None and recheck <= today.isoformat() else today.isoformat()


def send_bulk(
    shop_id: int, client: AdminClient, by_product: dict[str, list[Line]], today: date, result: PriceRun
) -> None:
    """Every product as one line of a single bulk operation; each result line mapped back to its
    product's message and bindings exactly as a direct call's answer would be."""
    products = list(by_product.items())
    with session_scope() as session:  # committed: the rows exist before the bulk operation runs
        message_ids = begin_many(session, shop_id, FLOW, [_unit(p, lines) for p, lines in products])
        # Unsure until the results are read (record_applied, record_refused): a worker killed while
        # the operation runs, minutes to hours (a deploy, out of memory, RQ's job timeout), records
        # no outcome, and the ERP put back meanwhile to the price Shopify held before would match it
        # and never be sent while Shopify shows the operation's.
        # A line the results leave unsure (refused as a whole, missing, failed on Shopify's side)
        # stays so: record_applied and record_refused write over those they settle.
        mark_unknown(session, shop_id, [line for _, lines in products for line in lines])
    variables = [
        {"productId": product_id, "variants": _inputs(lines), "allowPartialUpdates": True}
        for product_id, lines in products
    ]
    result.bulk = True
    log.info("prices: shop %s sends %s products in one bulk operation", shop_id, len(products))
    try:
        answer = client.bulk.run(
            BULK_MUTATION,
            variables,
            client_identifier=bulk_identifier(shop_id),
            units=[joined(line.id_sku for line in lines) for _, lines in products],
        )
    except Exception as exc:  # the operation as a whole: every product's message says why
        with session_scope() as session:
            for message_id, (_, lines) in zip(message_ids, products, strict=True):
                record_refused(session, shop_id, lines, set(range(len(lines))), exc, today)
                _close(session, message_id, lines, set(range(len(lines))), exc, result)
        return
    by_line = {line.line_number: line for line in answer.lines}
    outcomes = [
        (message_id, lines, *_line_outcome(by_line.get(number), product_id, lines))
        for number, (message_id, (product_id, lines)) in enumerate(zip(message_ids, products, strict=True))
    ]
    with session_scope() as session:  # bindings and done messages in a few statements each
        applied = [line for _, lines, failed_at, _ in outcomes for line in _applied(lines, failed_at)]
        record_applied(session, shop_id, applied, today)
        succeed_many(
            session, [(m, {"variants": len(lines)}) for m, lines, _, error in outcomes if error is None]
        )
        for message_id, lines, failed_at, error in outcomes:
            if error is None:
                result.products_sent += 1
                result.variants_sent += len(lines)
            else:
                record_refused(session, shop_id, lines, failed_at, error, today)
                _close(session, message_id, lines, failed_at, error, result)


def _line_outcome(
    line: BulkLineResult | None, product_id: str, lines: list[Line]
) -> tuple[set[int], BaseException | None]:
    """A result line as (indexes of the variants refused, the error to record)."""
    everything = set(range(len(lines)))
    if line is None:  # Shopify reported nothing for it: not applied as far as we know, so retried
        return everything, Transient(f"bulk result has no line for product {product_id}")
    if line.errors:
        text = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in line.errors)
        if line.shopify_side:  # what a direct call would have raised as transient: sent again
            return everything, Transient(
                f"productVariantsBulkUpdate failed on Shopify's side in the bulk operation: {text}",
                system="shopify",
                errors=line.errors,
            )
        return everything, Rejected(
            f"productVariantsBulkUpdate failed in the bulk operation: {text}",
            system="shopify",
            detail={"errors": line.errors},
        )
    if line.user_errors:
        exc = ShopifyUserErrors("productVariantsBulkUpdate", list(line.user_errors))
        return failed_indexes(exc.errors, len(lines)), per_sku(exc, lines)
    if line.payload is None:
        return everything, Transient(f"bulk result line of product {product_id} has no payload")
    return set(), None


def _inputs(lines: list[Line]) -> list[dict[str, Any]]:
    return [variant_input(line.variant_id, line.target) for line in lines]


def _begin(shop_id: int, products: list[tuple[str, list[Line]]]) -> list[int]:
    """One message per product, before any outside call."""
    ids = []
    with session_scope() as session:
        for product_id, lines in products:
            skus = [line.id_sku for line in lines]
            seq = lines[0].state.seq_produto
            message = trace.begin(
                session,
                shop_id,
                FLOW,
                f"price:{seq}",
                ERP_TO_SHOPIFY,
                shopify_id=product_id,
                erp_id=str(seq),
                search=skus,
                request={"product_id": product_id, "skus": skus, "variants": _inputs(lines)},
            )
            ids.append(message.id)
    return ids


def _unit(product_id: str, lines: list[Line]) -> UnitStart:
    skus = [line.id_sku for line in lines]
    seq = str(lines[0].state.seq_produto)
    return UnitStart(
        f"price:{seq}",
        shopify_id=product_id,
        erp_id=seq,
        search=skus,
        request={"product_id": product_id, "skus": skus, "variants": _inputs(lines)},
    )


def _applied(lines: list[Line], failed_at: set[int]) -> list[Line]:
    return [line for i, line in enumerate(lines) if i not in failed_at]


def _close(
    session: Any,
    message_id: int,
    lines: list[Line],
    failed_at: set[int],
    error: BaseException | None,
    result: PriceRun,
) -> None:
    """The product's message outcome and the pass's counters (its bindings are recorded apart)."""
    applied = _applied(lines, failed_at)
    message = session.get(Message, message_id)
    assert message is not None
    if error is None:
        trace.succeed(session, message, response={"variants": len(applied)})
    else:
        trace.fail(session, message, error)
    result.products_sent += 1
    result.variants_sent += len(applied)
    if error is not None:
        result.failed.extend(lines[i].id_sku for i in sorted(failed_at))
        if isinstance(error, Transient):
            result.transient = result.transient or error
        elif not isinstance(error, IntegrationError):
            result.bug = result.bug or error


def record_applied(session: Any, shop_id: int, applied: list[Line], today: date) -> None:
    """Bindings of the variants Shopify took; a first price or a sale-status flip asks the stock
    flow to recheck (until priced, a variant is not for sale: jobs.stock). A variant the products
    flow replaced since the pass read it keeps the mark the replacement left (due, awaiting its
    price: ledger.bindings.on_current_variant); only its stock recheck is asked."""
    current = bindings.on_current_variant(
        session, shop_id, {line.id_sku: line.variant_id for line in applied}
    )
    replaced = [line.id_sku for line in applied if line.id_sku not in current]
    bindings.upsert_many(
        session, shop_id, RECHECK_KIND, [BindingRow(sku, None, None, {}) for sku in replaced]
    )
    applied = [line for line in applied if line.id_sku in current]
    rows = [
        BindingRow(
            line.id_sku,
            line.variant_id,
            line.target.digest(),
            {**line.state.to_data(), "recheck_on": iso(recheck_on(line.state, today))},
        )
        for line in applied
    ]
    bindings.upsert_many(session, shop_id, PRICE_KIND, rows)
    flips = [
        line.id_sku
        for line in applied
        if line.old_sale_active is None or line.old_sale_active != line.state.sale_active
    ]
    bindings.upsert_many(session, shop_id, RECHECK_KIND, [BindingRow(sku, None, None, {}) for sku in flips])
    # The stock flow sends a policy only when it differs from the one it remembers: the DENY sent
    # here (a SKU not for sale: price_map.variant_input) is remembered as its own, so a SKU back on
    # sale gets its CONTINUE (no stock control) again even when no stock pass ran in between.
    denied = [
        BindingRow(line.id_sku, line.variant_id, POLICY_DENY, {})
        for line in applied
        if not line.target.for_sale
    ]
    bindings.upsert_many(session, shop_id, STOCK_POLICY_KIND, denied)
    # A sale status other than the products flow last assumed (active, before any price) can turn
    # the whole product on or off (jobs.catalog_map: off_sale): it re-plans the product.
    products = {
        str(line.state.seq_produto)
        for line in applied
        if (True if line.old_sale_active is None else line.old_sale_active) != line.state.sale_active
    }
    bindings.upsert_many(
        session, shop_id, CATALOG_RECHECK_KIND, [BindingRow(s, None, None, {}) for s in products]
    )
    _explain_unpriced(session, shop_id, applied)


def _explain_unpriced(session: Any, shop_id: int, applied: list[Line]) -> None:
    """A SKU whose price was left out (the ERP has none) fails a message of its own; one priced
    again after being off sale has that message done."""
    unpriced = [line for line in applied if line.target.price is None]
    if unpriced:
        link = store_link(session, shop_id)
        for line in unpriced:
            unit = price_unpriced.store_unit(line.state.seq_produto, line.id_sku)
            where = "not sent to Shopify, not for sale until it has one"
            price_unpriced.explain(session, shop_id, unit, line.id_sku, link.nro_empresa, link.nro_segmento,
                                   where=where, unlisted=line.state.unlisted,
                                   normal=line.state.normal)  # fmt: skip
    price_unpriced.resolve(
        session,
        shop_id,
        [
            price_unpriced.store_unit(line.state.seq_produto, line.id_sku)
            for line in applied
            if line.target.price is not None and line.old_sale_active is not True
        ],
    )


def record_refused(
    session: Any,
    shop_id: int,
    lines: list[Line],
    failed_at: set[int],
    error: BaseException | None,
    today: date,
) -> None:
    """Prices Shopify refused (userErrors, a failed bulk line) are remembered as due on the next
    pass, with no digest, so they are sent again until taken, instead of lost behind the
    watermark; their product's message fails again meanwhile, and is done once they land (say,
    after the catalog flow bound the variant again). A transient failure needs none of this: the
    watermark stays where it was.

    `sale_active` stays what Shopify last took (`awaiting_price` when it took no price yet): the
    stock and products flows read it, and `record_applied` compares the state that lands with it
    to ask for their rechecks and close a "no price" message; the wanted one is kept apart
    (price_map.WANTED_SALE_ACTIVE) for the pass that sends it again."""
    if error is None or not isinstance(error, IntegrationError) or isinstance(error, Transient):
        return
    refused = [line for index, line in enumerate(lines) if index in failed_at]
    current = bindings.on_current_variant(
        session, shop_id, {line.id_sku: line.variant_id for line in refused}
    )
    rows = [
        BindingRow(line.id_sku, line.variant_id, None, _refused_data(line, today))
        for line in refused
        if line.id_sku in current  # a variant replaced meanwhile keeps its replacement's mark
    ]
    bindings.upsert_many(session, shop_id, PRICE_KIND, rows)
    gone = _variants_gone(error)
    if gone:
        # a person deleted the variant in Shopify while the ERP sells it: the products flow makes it
        # again (its product's digest dropped), or nothing would before the ERP edits that product
        from jobs import catalog_ledger

        seqs = sorted({str(line.state.seq_produto) for line in refused if line.id_sku in gone})
        catalog_ledger.forget_sent(session, shop_id, seqs)


VARIANT_GONE = "PRODUCT_VARIANT_DOES_NOT_EXIST"  # productVariantsBulkUpdate's userError code


def _variants_gone(error: IntegrationError) -> set[str]:
    """The SKUs Shopify refused as variants that do not exist (`per_sku`'s user errors)."""
    found = (error.detail or {}).get("user_errors") if isinstance(error.detail, dict) else None
    return {str(e.get("sku")) for e in found or () if isinstance(e, dict) and e.get("code") == VARIANT_GONE}


UNKNOWN = "unknown-outcome"  # the digest of a price whose write Shopify may or may not have applied


def record_unknown(
    session: Any, shop_id: int, lines: list[Line], failed_at: set[int], error: BaseException | None
) -> None:
    """Prices whose write failed for any reason but Shopify's refusal (a lost answer, a timeout, a
    bulk operation failed as a whole or its line missing): Shopify may hold them or not. Their
    digest becomes UNKNOWN, which no price matches, so the next pass sends what the ERP says then.
    Kept as it was, the ERP put back to the price Shopify held before (a typing error corrected
    before the retry) matched it, was never sent, and the store kept the wrong price. The rest of
    what was last taken (`sale_active`...) stays as it was."""
    if (
        error is None
        or isinstance(error, ShopifyUserErrors)
        or (isinstance(error, IntegrationError) and not isinstance(error, Transient))
    ):
        return  # answered: taken (record_applied) or refused (record_refused)
    mark_unknown(session, shop_id, [line for index, line in enumerate(lines) if index in failed_at])


def mark_unknown(session: Any, shop_id: int, lines: list[Line]) -> None:
    """These prices' digest UNKNOWN (`record_unknown`), on the variants still bound to them."""
    unsure = {line.id_sku: line.variant_id for line in lines}
    current = bindings.on_current_variant(session, shop_id, unsure)
    known = bindings.get_many(session, shop_id, PRICE_KIND, list(current))
    rows = [
        BindingRow(sku, b.shopify_id, UNKNOWN, dict(b.data or {}))
        for sku, b in known.items()
        if b.digest is not None  # a refused one (no digest) is due already
    ]
    bindings.upsert_many(session, shop_id, PRICE_KIND, rows)


def _refused_data(line: Line, today: date) -> dict[str, Any]:
    """A refused price's binding data: the wanted state, due today, over what Shopify holds."""
    data = {
        **line.state.to_data(),
        "recheck_on": today.isoformat(),
        WANTED_SALE_ACTIVE: line.state.sale_active,
    }
    if line.old_sale_active is None:
        return {**data, "awaiting_price": True}
    return {**data, "sale_active": line.old_sale_active}


def failed_indexes(errors: list[Any], count: int) -> set[int]:
    """Variants named by userErrors (field ["variants", i, ...]); all of them when none is named."""
    named = {
        int(e.field[1])
        for e in errors
        if len(e.field) > 1 and e.field[0] == "variants" and e.field[1].isdigit()
    }
    return named if named else set(range(count))


def per_sku(exc: ShopifyUserErrors, lines: list[Line]) -> Rejected:
    """The userErrors with the SKU each one is about, so the Messages page names the bad SKU."""
    found = []
    for e in exc.errors:
        index = int(e.field[1]) if len(e.field) > 1 and e.field[1].isdigit() else None
        sku = lines[index].id_sku if index is not None and index < len(lines) else None
        found.append({"sku": sku, "field": list(e.field), "message": e.message, "code": e.code})
    text = "; ".join(f"{p['sku'] or '-'}: {p['message']}" for p in found)
    return Rejected(
        f"productVariantsBulkUpdate rejected: {text}",
        system="shopify",
        code=exc.code,
        detail={"user_errors": found, "request_id": exc.request_id},
    )


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()

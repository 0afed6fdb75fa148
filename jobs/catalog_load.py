"""Pushing products to Shopify: direct productSet calls for small deltas, one bulk operation for
the initial load and big deltas (more changed products than the shop's `bulk_threshold`).

`sync()` is the one function every catalog path goes through (products flow, skus flow, replay,
`catalog sync`): it maps products from the ledger cache (jobs/catalog_cache.py), skips those
whose digest did not change, begins one message per product BEFORE calling Shopify, then
records bindings and messages from Shopify's answer (jobs/catalog_ledger.py), then publishes
the products it created to the sales channels (jobs/catalog_publish.py: productSet publishes
nowhere; a bulk push publishes with a second bulk operation).

Direct path: batches of BATCH_SIZE products; after a batch is answered, its bindings, messages
and `accepted(...)` (the flow advancing its watermark) commit together, so a crash re-sends at
most one batch, and the resend duplicates nothing (productSet upserts by the custom id
consinco.seq_produto). A rejected product (userErrors) is marked failed with Shopify's words, and
the SKU of each variant they name by index (input.variants.<i>), and the others go on; a transient
error commits what was answered, marks that product retrying and re-raises so RQ retries the run.

Bulk path: one JSONL line of ProductSet variables per product, in files under Shopify's upload
limit (100 MB: client.bulk.parts), each file one bulk operation run after the one before it was
recorded, so a crash between parts sends again only the parts not recorded; each result
line is mapped back to its product by line number; per-line userErrors fail that product only; a
line Shopify failed on its side (INTERNAL_SERVER_ERROR...) or did not report is retried like a
transient direct call (the watermark stays). Every catalog bulk operation of a shop runs under
one client identifier (`bulk_identifier`): one that outlives its pass (the worker killed, or its
wait failed while the catalog lock lapsed) is waited for at the start of the next sync of any
path, before anything is sent, and its products are sent again (`settle_leftover`), so its older
lines never stay over what a later pass sent directly; one still running after a short wait ends
the sync transient, naming it, and the next run looks again. The products such an operation
created without their custom id get it first (its result file read again), and a pass's own
operation is forgotten only once its part is recorded (`_record_part`): a worker killed between
reading the results and recording them never has the restart create those products twice.
Either path: a product bound to Shopify variants names them by id (jobs/catalog_map.py: a
renamed packaging keeps its variant); an id Shopify refuses as none of the product's variants
(PRODUCT_VARIANT_DOES_NOT_EXIST: deleted by hand) has the product sent again at once, directly and
without ids (`_send`; a bulk line refused so likewise, after its part), so a stale binding never
fails its product pass after pass. A product Shopify answers without its custom id (productSet
need not set it on the products it creates) gets it with metafieldsSet before its binding is
final, and one bound so is given it before it is sent again (jobs/catalog_custom_id.py); a
product sent closes its open message of the other catalog flow, and one planned unchanged its
open messages of either flow (jobs/catalog_messages.py), so no message says "retrying" for a
product Shopify has.
Shopify's daily limit on new variants (a store of 50,000 variants or more not on Plus): a product
whose creation Shopify refuses for it, and every product creating a variant while the shop's hold
lasts, waits with its message retrying and is re-planned by a later products pass; changes to
products Shopify has go on (jobs/variant_quota.py).
Progress ({"done", "total"}) goes to the callback given (Schedule.progress for the dashboard,
a click progress bar in the CLI); a pass starting clears its flows' bar (`reset_progress`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import null, select, update
from sqlalchemy.orm import Session

from jobs import catalog_adopt, catalog_custom_id, catalog_messages, catalog_publish, variant_quota
from jobs import catalog_ledger as cl
from jobs.catalog_map import CUSTOM_ID_KEY, CUSTOM_ID_NAMESPACE, MappedProduct, custom_id
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.models import Schedule, utcnow
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.bulk import BulkLineResult, Leftover
from shopify_app.admin_api.errors import (
    ShopifyGraphQLError,
    ShopifyServerError,
    ShopifyUserErrors,
    VariantThrottled,
    refused_words,
)
from shopify_app.admin_api.results import ProductRef, parse_product_set

log = logging.getLogger(__name__)

BATCH_SIZE = 50
STALE_VARIANT = "PRODUCT_VARIANT_DOES_NOT_EXIST"  # productSet: a variant id none of the product's
DEFINITION = f"{CUSTOM_ID_NAMESPACE}.{CUSTOM_ID_KEY}"
Progress = Callable[[int, int], None]
Accepted = Callable[[Session, Sequence[int]], None]


@dataclass
class SyncResult:
    """What one pass did, by product: created / changed count what was sent (by verdict),
    `failed` those Shopify refused among them or the app held for a person (see their messages:
    a product Shopify holds already that the app cannot tell for sure, jobs.catalog_adopt),
    `quota_held` those of them that wait for Shopify's daily limit on new variants
    (jobs.variant_quota)."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    waiting: int = 0
    failed: int = 0
    quota_held: int = 0
    adopted: int = 0  # of `changed`: products found in Shopify without their custom id (catalog_adopt)
    bulk: bool = False
    busy: bool = False
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def ensure_definition(ctx: cl.CatalogContext, client: AdminClient) -> None:
    """The custom id's metafield definition (type id), created once per shop."""
    with session_scope() as session:
        if cl.known_definition(session, ctx.shop_id, DEFINITION):
            return
    definition_id = client.ensure_metafield_definition(
        CUSTOM_ID_NAMESPACE, CUSTOM_ID_KEY, "Consinco seqProduto", owner_type="PRODUCT", type_name="id"
    )
    with session_scope() as session:
        cl.remember_definition(session, ctx.shop_id, DEFINITION, definition_id)


def bulk_identifier(shop_id: int) -> str:
    """The client identifier of every catalog bulk operation of a shop (both flows, initial load):
    one record, so whatever sync runs next (either flow, a replay) finds one a dead pass left."""
    return f"catalog-{shop_id}"


def settle_leftover(ctx: cl.CatalogContext, client: AdminClient | None = None) -> None:
    """Before sending anything: wait for the catalog bulk operation a dead pass left running in
    Shopify, then have its products sent again.

    Why: the catalog lock lapses with the dead worker while its operation still writes in
    Shopify; a skus pass or a replay sending one of its products directly meanwhile stores the
    newer digest, and the operation then writes the older lines over it. Their digests are
    dropped and the products flow asked to re-plan them (catalog_ledger.forget_sent): the next
    pass sends them as the cache has them now (this sync sends at once those it plans). The
    operation is marked settled only once that is committed: a failure in between (the database,
    the worker) leaves it to the next sync, which forgets the same products again (harmless).
    First, the products it created without their custom id get it (`_mark_leftover`): unbound
    and unmarked, each would be created a second time by the resend.

    An operation still running after BulkRunner's wait for it raises BulkStillRunning (transient,
    naming it): this sync ends retrying, nothing sent, and the next run waits for it again."""
    owned = client is None
    client = client or for_shop(ctx.shop_domain, lane="background")
    identifier = bulk_identifier(ctx.shop_id)
    try:
        left = client.bulk.leftover(identifier)
        if left is None:
            return
        seqs = [unit for unit in left.units if unit.isdigit()]
        if seqs:
            log.warning("catalog: %s products of a bulk operation left by a dead pass are sent again (%s)",
                        len(seqs), ctx.shop_domain, extra={"shop": ctx.shop_domain})  # fmt: skip
            held = _mark_leftover(ctx, client, left)
            with session_scope() as session:
                if held:  # in Shopify without their custom id: the next plan sets it before sending
                    unmarked = [m.seq_produto for m, _, _ in held]
                    cl.record_sent(session, ctx, held, flow="products", unmarked=unmarked)
                cl.forget_sent(session, ctx.shop_id, seqs)
        client.bulk.mark_settled(identifier, left)
    finally:
        if owned:
            client.close()


def _mark_leftover(
    ctx: cl.CatalogContext, client: AdminClient, left: Leftover
) -> list[tuple[MappedProduct, ProductRef, int | None]]:
    """The custom id on the products the leftover operation created without it, read from its
    result file (client.bulk.leftover_lines): productSet need not set it on the products it
    creates, and such a product, unbound, would be created a second time by the next send of it.
    Nothing is bound otherwise: a run of the same file adopts the operation and records its
    results as any part's; another file finds each product by its custom id.

    Returns the products whose id Shopify refused (a duplicate holds it: CUSTOM_ID_TAKEN...), to
    bind with MISSING, so their messages say why and they are not sent before it is set
    (catalog_custom_id); one the cache cannot map is only logged. A transient failure raises: the
    leftover stays unsettled and the next sync sets the ids again (setting one twice is harmless)."""
    lacking: dict[int, ProductRef] = {}
    for line in client.bulk.leftover_lines(left):
        unit = left.units[line.line_number] if 0 <= line.line_number < len(left.units) else ""
        if unit.isdigit() and line.ok and (line.payload or {}).get("product"):
            product = parse_product_set(line.payload or {}).product
            if product.custom_id != unit:
                lacking[int(unit)] = product
    if not lacking:
        return []
    failures = catalog_custom_id.set_ids(client, {seq: product.id for seq, product in lacking.items()})
    log.info("catalog: custom id set on %s products a bulk operation left by a dead pass created without it "
             "(%s)", len(lacking) - len(failures), ctx.shop_domain)  # fmt: skip
    retry = next((e for e in failures.values() if isinstance(e, Transient)), None)
    if retry is not None:
        raise retry
    refused = {seq: exc for seq, exc in failures.items() if not catalog_custom_id.gone(exc)}
    if not refused:
        return []
    with session_scope() as session:
        mapped = {p.seq_produto: p.mapped for p in cl.plan(session, ctx, list(refused), force=True)}
    for seq, exc in refused.items():
        if mapped.get(seq) is None:
            log.warning("catalog: product %s, created by a bulk operation left by a dead pass, is in Shopify "
                        "without its custom id: %s", seq, exc)  # fmt: skip
    return [(m, lacking[seq], None) for seq, m in mapped.items() if m is not None]


def reset_progress(shop_id: int, flows: Sequence[str]) -> None:
    """A pass of these flows starts: the dashboard's bar no longer shows the last pass's count."""
    with session_scope() as session:
        session.execute(
            update(Schedule)
            .where(Schedule.shop_id == shop_id, Schedule.flow.in_(list(flows)))
            .where(Schedule.progress.is_not(None))
            .values(progress=null())
            .execution_options(synchronize_session=False)
        )


def sync(
    ctx: cl.CatalogContext,
    flow: str,
    seqs: Sequence[int],
    *,
    client: AdminClient | None = None,
    force: bool = False,
    bulk: bool | None = None,
    accepted: Accepted | None = None,
    progress: Progress | None = None,
    job_id: str | None = None,
    planned: Sequence[cl.Planned] | None = None,
    message_ids: Mapping[int, int] | None = None,
) -> SyncResult:
    """Bring these products (in this order) to Shopify; `bulk=None` decides by the threshold.

    `force` re-sends unchanged products (replay). `accepted(session, seqs)` runs in the commit
    of each answered batch (the caller's watermark). `planned` + `message_ids`: the plan
    already made and the messages already begun (committed) for it, by the initial load
    during its read (jobs/catalog_initial.py, which settles first); a bulk push then begins
    nothing again.
    """
    result = SyncResult()
    if planned is None:
        settle_leftover(ctx, client)
        with session_scope() as session:
            planned = cl.plan(session, ctx, seqs, force=force)
    to_send: list[MappedProduct] = []
    unchanged: dict[int, str] = {}  # {seqProduto: the digest Shopify has}: their open messages close
    still_held: set[int] = set()  # ... but for the message saying a packaging is held (catalog_messages)
    unsendable: list[MappedProduct] = []  # no packaging to send: their messages fail, nothing sent
    for item in planned:
        if item.verdict == "waiting":
            result.waiting += 1
            if item.held is not None:
                unsendable.append(item.held)
        elif item.verdict == "unchanged":
            result.unchanged += 1
            assert item.mapped is not None
            unchanged[item.seq_produto] = item.mapped.digest
            if item.mapped.held:
                still_held.add(item.seq_produto)
        else:
            assert item.mapped is not None
            to_send.append(item.mapped)
            if item.verdict == "create":
                result.created += 1
            else:
                result.changed += 1
    if unsendable:
        with session_scope() as session:
            _fail_unsendable(session, ctx, flow, result, unsendable, job_id)
    if not to_send:
        if unchanged or (accepted is not None and seqs):
            with session_scope() as session:
                catalog_messages.close_settled(session, ctx.shop_id, unchanged, held=still_held)
                if accepted is not None and seqs:
                    accepted(session, seqs)
        return result
    if unchanged:
        with session_scope() as session:
            catalog_messages.close_settled(session, ctx.shop_id, unchanged, held=still_held)
    owned = client is None
    client = client or for_shop(ctx.shop_domain, lane="background")
    try:
        ensure_definition(ctx, client)
        planned = _existing_first(ctx, flow, planned, client, result, job_id, message_ids)
        to_send = [p.mapped for p in planned if p.mapped is not None and p.verdict in ("create", "change")]
        held = _unmarked_first(ctx, flow, planned, client, result, job_id, message_ids)
        if held:  # not sent: productSet would create a second product
            planned = [p for p in planned if p.seq_produto not in held]
            to_send = [m for m in to_send if m.seq_produto not in held]
        quota = variant_quota.Quota.read(ctx.shop_id, ignore=force)  # a person's Retry sends anyway
        waiting = [m for m in to_send if quota.holds(m)]
        if waiting:  # Shopify's daily limit on new variants: they wait for the hold's end
            _wait_for_quota(ctx, flow, result, quota, waiting, message_ids, job_id)
            later = {m.seq_produto for m in waiting}
            planned = [p for p in planned if p.seq_produto not in later]
            to_send = [m for m in to_send if m.seq_produto not in later]
        result.bulk = len(to_send) > ctx.bulk_threshold if bulk is None else bulk
        if message_ids is not None:
            result.bulk = True  # begun for a bulk operation (catalog_initial decided it)
        if result.bulk:
            if to_send:
                _push_bulk(ctx, flow, to_send, client, result, quota, progress, job_id, message_ids)
            if accepted is not None:
                with session_scope() as session:
                    accepted(session, seqs)
        else:
            _push_direct(ctx, flow, planned, client, result, quota, accepted, progress, job_id)
        quota.settle()
        retry = next((e for e in held.values() if isinstance(e, Transient)), None)
        if retry is not None:
            raise retry
    finally:
        if owned:
            client.close()
    log.info(
        "catalog: %s for %s: %s created, %s changed, %s unchanged, %s waiting, %s failed, %s held for the "
        "daily variant limit%s",
        flow, ctx.shop_domain, result.created, result.changed, result.unchanged, result.waiting,
        result.failed, result.quota_held, " (bulk)" if result.bulk else "",
        extra={"shop": ctx.shop_domain, "flow": flow},
    )  # fmt: skip
    return result


def _fail_unsendable(
    session: Session,
    ctx: cl.CatalogContext,
    flow: str,
    result: SyncResult,
    products: Sequence[MappedProduct],
    job_id: str | None,
) -> None:
    """Products with no packaging to send (every one a weighed packaging held out of the sale:
    jobs.catalog_map.not_kg): nothing goes to Shopify, and each fails its message saying which and
    why; the other catalog flow's message saying so closes, so one message tells it."""
    ids = cl.begin_many(session, ctx, flow, products, job_id)
    for mapped in products:
        error = cl.held_error(mapped)
        assert error is not None
        _fail(session, result, mapped, ids[mapped.seq_produto], error)
    catalog_messages.close_settled(
        session,
        ctx.shop_id,
        {m.seq_produto: m.digest for m in products},
        flows=catalog_messages.other_flows(flow),
        note=catalog_messages.held_note(flow),
    )


def _held_out(outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]]) -> dict[int, Rejected]:
    """{seqProduto: why} of the products sent without a weighed packaging the ERP sells that is not
    their KG packaging of quantity 1 (jobs.catalog_map.not_kg): recorded with their digest (the other
    flow and the full sync send nothing more), their message failed naming it (cl.held_error)."""
    found: dict[int, Rejected] = {}
    for mapped, _, _ in outcomes:
        error = cl.held_error(mapped)
        if error is not None:
            found[mapped.seq_produto] = error
    return found


def _push_direct(
    ctx: cl.CatalogContext,
    flow: str,
    planned: Sequence[cl.Planned],
    client: AdminClient,
    result: SyncResult,
    quota: variant_quota.Quota,
    accepted: Accepted | None,
    progress: Progress | None,
    job_id: str | None,
) -> None:
    total = sum(1 for p in planned if p.verdict in ("create", "change"))
    done = 0
    for start in range(0, len(planned), BATCH_SIZE):
        batch = planned[start : start + BATCH_SIZE]
        sending = [p.mapped for p in batch if p.mapped is not None and p.verdict in ("create", "change")]
        creating = {p.seq_produto for p in batch if p.verdict == "create"}
        # Shopify's daily limit on new variants, reached earlier in this pass: these wait, unsent
        waiting = [m for m in sending if quota.holds(m)]
        sending = [m for m in sending if not quota.holds(m)] if waiting else sending
        with session_scope() as session:
            ids = cl.begin_many(session, ctx, flow, sending, job_id)
        outcomes = []
        failures: list[tuple[MappedProduct, BaseException]] = []
        transient: Transient | None = None
        for mapped in sending:
            if quota.holds(mapped):
                waiting.append(mapped)
                continue
            try:
                sent, product = _send(client, mapped, create=mapped.seq_produto in creating)
            except VariantThrottled:
                quota.refuse()
                waiting.append(mapped)
                continue
            except Transient as exc:
                failures.append((mapped, exc))
                transient = exc
                break
            except Exception as exc:  # rejected or a bug: this product only, the others go on
                failures.append((mapped, exc))
                continue
            outcomes.append((sent, product, ids.get(mapped.seq_produto)))
        marks = _set_custom_ids(client, outcomes)
        kept = catalog_custom_id.still_there(outcomes, marks)
        short = unanswered(kept)
        quota.sent([m for m, _, _ in outcomes])
        with session_scope() as session:
            new = cl.record_sent(session, ctx, kept, flow=flow, unmarked=marks, incomplete=short)
            failures += [
                (mapped, short[mapped.seq_produto]) for mapped, _, _ in kept if mapped.seq_produto in short
            ]
            held = _held_out(kept)
            failures += [
                (m, held[m.seq_produto])
                for m, _, _ in kept
                if m.seq_produto in held and m.seq_produto not in short
            ]
            for mapped, exc in failures:
                _fail(session, result, mapped, ids[mapped.seq_produto], exc)
            _wait_for_quota(ctx, flow, result, quota, waiting, ids, job_id, session=session)
            transient = _hold_unmarked(session, ctx, result, outcomes, marks, ids) or transient
            if transient is None and accepted is not None:
                accepted(session, [p.seq_produto for p in batch])
        _publish(ctx, client, result, kept, new, ids)
        if transient is not None:
            raise transient
        done += len(sending)
        if progress is not None:
            progress(done, total)


def _send(
    client: AdminClient, mapped: MappedProduct, *, create: bool = False
) -> tuple[MappedProduct, ProductRef]:
    """productSet of one product: (what was sent, Shopify's product). A variant id Shopify does
    not know for the product (the merchant deleted that variant, or the whole product, by hand:
    PRODUCT_VARIANT_DOES_NOT_EXIST) sends it again without that id, the variant matched by option
    value as before ids were sent (jobs.catalog_map), the others still by their ids (one whose
    label changed meanwhile would be made anew, matched by option value); again while Shopify
    names another (its userErrors name one at a time), at most once per variant; an error naming
    no position drops every id. The bindings then name the variants Shopify made
    (catalog_ledger.record_sent, which has them repriced and their stock rechecked).

    A `create` (no Shopify product bound) is not sent again after a lost answer: it may have made
    the product without its custom id, which a second call would make again; the run retries and
    its look-up finds that product first (jobs/catalog_adopt.py)."""
    sending = mapped
    for _ in range(len(mapped.input.get("variants") or ()) + 1):
        try:
            return sending, client.product_set(
                sending.input, custom_id=custom_id(sending.seq_produto), resend=not create
            ).product
        except ShopifyUserErrors as exc:
            if not _stale_ids(sending, exc):
                raise
            log.info("catalog: product %s names a variant Shopify no longer has; sent again without its id",
                     sending.seq_produto)  # fmt: skip
            sending = sending.without_variant_ids(stale_positions(exc))
    plain = sending.without_variant_ids()
    return plain, client.product_set(
        plain.input, custom_id=custom_id(plain.seq_produto), resend=not create
    ).product


def unanswered(outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]]) -> dict[int, Rejected]:
    """{seqProduto: why} of the products whose productSet answer lacks a packaging sent: Shopify
    took the call but made no variant of it (merged it into another by option value, or dropped it).
    Recorded as done, that packaging would go unbound, unpriced and unstocked, and its digest would
    have every later pass skip the product; it fails instead, naming the SKUs (its digest not
    recorded: the daily full sync and its Retry send it again)."""
    found: dict[int, Rejected] = {}
    for mapped, product, _ in outcomes:
        answered = {variant.sku for variant in product.variants if variant.sku}
        lost = [sku["id_sku"] for sku in mapped.skus if sku["id_sku"] not in answered]
        if not lost:
            continue
        named = ", ".join(lost)
        found[mapped.seq_produto] = Rejected(
            f"Shopify took product {mapped.seq_produto} ({product.id}) but its answer has no variant for "
            f"packaging(s) {named}: no variant was made for them (one may have been merged into another "
            "by its option value). Check the product's variants in the Shopify admin, then retry this "
            "message",
            system="shopify",
            code="VARIANTS_NOT_MADE",
            detail={"seq_produto": mapped.seq_produto, "product_id": product.id, "skus": lost},
            words=("catalog_variants_not_made", {"product": mapped.seq_produto, "skus": named}),
        )
    return found


def _stale_ids(mapped: MappedProduct, exc: BaseException) -> bool:
    """Shopify refused a variant id this product's input carried (see _send)."""
    return mapped.sends_variant_ids and isinstance(exc, ShopifyUserErrors) and STALE_VARIANT in exc.codes


def stale_positions(exc: ShopifyUserErrors) -> set[int] | None:
    """The positions in the input's variants of the ids Shopify does not know (its userErrors'
    field: input.variants.<i>.id); None when one of them names no position (every id dropped)."""
    found: set[int] = set()
    for error in exc.errors:
        if error.code != STALE_VARIANT:
            continue
        field = [str(part) for part in error.field]
        at = field.index("variants") + 1 if "variants" in field else len(field)
        if at >= len(field) or not field[at].isdigit():
            return None
        found.add(int(field[at]))
    return found or None


def _publish(
    ctx: cl.CatalogContext,
    client: AdminClient,
    result: SyncResult,
    outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]],
    new: Sequence[int],
    ids: Mapping[int, int],
    *,
    bulk: bool = False,
) -> None:
    """Publish the products just created to the sales channels (jobs/catalog_publish.py), after
    their bindings committed: a publish that fails leaves the product in Shopify and bound."""
    wanted = set(new)
    products = {m.seq_produto: product.id for m, product, _ in outcomes if m.seq_produto in wanted}
    result.failed += catalog_publish.publish_new(ctx, client, products, ids, bulk=bulk)


def _fail(
    session: Session, result: SyncResult, mapped: MappedProduct, message_id: int, exc: BaseException
) -> None:
    exc = _naming_skus(exc, mapped)
    status = cl.record_failure(session, message_id, exc)
    if not isinstance(exc, Transient):
        result.failed += 1
        result.failures.append({"seq_produto": mapped.seq_produto, "status": status.value, "error": str(exc)})


def _naming_skus(exc: BaseException, mapped: MappedProduct) -> BaseException:
    """Shopify's userErrors with the SKU of each variant they are about, in the text and in the
    detail ("sku"): Shopify names a refused variant by its index (input.variants.1.barcode), the
    index of the input's variants, which only the input knows; the merchant needs the packaging."""
    if not isinstance(exc, ShopifyUserErrors):
        return exc
    variants = mapped.input.get("variants") or []
    skus = [_variant_sku(e.field, variants) for e in exc.errors]
    if not any(skus):
        return exc
    named = ShopifyUserErrors(exc.operation, exc.errors, request_id=exc.request_id)
    fields = [".".join(e.field) or "-" for e in exc.errors]
    text = "; ".join(
        (f"SKU {sku} ({where})" if sku else where) + f": {e.message}" + (f" ({e.code})" if e.code else "")
        for e, sku, where in zip(exc.errors, skus, fields, strict=True)
    )
    named.message = f"{exc.operation} rejected: {text}"
    named.args = (named.message,)
    named.words = refused_words(exc.operation, text)  # they say the text as it now reads
    named.detail["user_errors"] = [
        {**e.as_dict(), "sku": sku} if sku else e.as_dict() for e, sku in zip(exc.errors, skus, strict=True)
    ]
    return named


def _variant_sku(path: Sequence[str], variants: Sequence[dict[str, Any]]) -> str | None:
    """The SKU of the variant a userError field path (["input", "variants", "1", ...]) points at."""
    for at, part in enumerate(path[:-1]):
        index = path[at + 1]
        if part == "variants" and str(index).isdigit() and int(index) < len(variants):
            return (variants[int(index)].get("inventoryItem") or {}).get("sku")
    return None


def _push_bulk(
    ctx: cl.CatalogContext,
    flow: str,
    to_send: list[MappedProduct],
    client: AdminClient,
    result: SyncResult,
    quota: variant_quota.Quota,
    progress: Progress | None,
    job_id: str | None,
    message_ids: Mapping[int, int] | None = None,
) -> None:
    """The bulk operations of these products: one per part of the JSONL under Shopify's upload
    limit (client.bulk.parts), one after the other, each recorded (bindings, messages, publish)
    before the next starts; a line Shopify did not answer for ends the pass transient once
    every part went. A product whose line alone is over the limit is refused, the others go.
    Once a part met Shopify's daily limit on new variants, the later parts leave out the products
    that would create one: they wait for the hold's end (jobs.variant_quota), unsent."""
    if message_ids is not None:
        ids = {m.seq_produto: message_ids[m.seq_produto] for m in to_send}
    else:
        with session_scope() as session:
            ids = cl.begin_many(session, ctx, flow, to_send, job_id)
    limit = client.bulk.max_upload_bytes
    if any(len(m.line) + 1 > limit for m in to_send):
        with session_scope() as session:
            for mapped in (m for m in to_send if len(m.line) + 1 > limit):
                _fail(session, result, mapped, ids[mapped.seq_produto], _too_large(mapped, limit))
        to_send = [m for m in to_send if len(m.line) + 1 <= limit]
    total = len(to_send)
    encoded = [m.line for m in to_send]  # made at mapping time, not a second encoding
    unknown: Transient | None = None
    for part in client.bulk.parts(encoded):
        sending = to_send[part.start : part.stop]
        lines = encoded[part.start : part.stop]
        if any(quota.holds(m) for m in sending):  # an earlier part met the daily variant limit
            held = [m for m in sending if quota.holds(m)]
            lines = [line for m, line in zip(sending, lines, strict=True) if not quota.holds(m)]
            sending = [m for m in sending if not quota.holds(m)]
            _wait_for_quota(ctx, flow, result, quota, held, ids, job_id)
            if not sending:
                if progress is not None:
                    progress(part.stop, total)
                continue

        def on_progress(operation: object, before: int = part.start, size: int = len(sending)) -> None:
            if progress is not None:
                count = int(getattr(operation, "object_count", 0) or 0)
                completed = getattr(operation, "status", None) == "COMPLETED"  # not FAILED, CANCELED...
                progress(before + (size if completed else min(count, size)), total)

        try:
            answer = client.bulk.run(
                "ProductSet",
                [m.variables for m in sending],
                client_identifier=bulk_identifier(ctx.shop_id),
                progress=on_progress,
                encoded=lines,
                units=[str(m.seq_produto) for m in sending],  # what settle_leftover marks and sends again
                keep_record=True,  # until the part is recorded (_record_part forgets it)
            )
        except IntegrationError as exc:  # this part as a whole: it and the parts after it say why
            with session_scope() as session:
                cl.fail_many(session, [ids[m.seq_produto] for m in to_send[part.start :]], exc)
            raise
        unanswered = _record_part(
            ctx, flow, client, result, quota, sending, answer.lines, ids, answer.operation.id
        )
        unknown = unknown or unanswered
        if progress is not None:
            progress(part.stop, total)
    if unknown is not None:  # the watermark stays: the retry re-plans, the products taken cost nothing
        raise unknown


def _too_large(mapped: MappedProduct, limit: int) -> Rejected:
    size = len(mapped.line) + 1
    return Rejected(
        f"product {mapped.seq_produto} was not sent: its productSet line is {size:,} bytes, over the "
        f"{limit:,} bytes Shopify takes in one bulk upload; shorten what the ERP has for it (its "
        "description, its packagings), then retry this message",
        system="app",
        code="BULK_LINE_TOO_LARGE",
        detail={"seq_produto": mapped.seq_produto, "bytes": size, "limit": limit},
    )


def _record_part(
    ctx: cl.CatalogContext,
    flow: str,
    client: AdminClient,
    result: SyncResult,
    quota: variant_quota.Quota,
    sending: Sequence[MappedProduct],
    lines: Sequence[BulkLineResult],
    ids: Mapping[int, int],
    operation_id: str,
) -> Transient | None:
    """One operation's result lines (numbered in its own file) mapped back to its products and
    recorded, its new products published; the first line whose fate is unknown, if any.

    The operation's record (client.bulk.run(keep_record=True)) is forgotten once the custom ids
    are set and the bindings committed, not before: a worker killed in between leaves it to the
    next sync (settle_leftover), which reads its results again, so the products it created
    without their custom id are never created a second time."""
    by_line = {line.line_number: line for line in lines}
    outcomes = []
    failures: list[tuple[MappedProduct, Exception]] = []
    stale: list[tuple[MappedProduct, set[int] | None]] = []  # a variant id Shopify no longer has (_send)
    waiting: list[MappedProduct] = []  # refused for Shopify's daily limit on new variants
    unknown: Transient | None = None
    for number, mapped in enumerate(sending):
        line = by_line.get(number)
        message_id = ids[mapped.seq_produto]
        if line is not None and line.ok and (line.payload or {}).get("product"):
            outcomes.append((mapped, parse_product_set(line.payload or {}).product, message_id))
            continue
        if line is None:  # Shopify did not say whether it took it: tried again, not given up on
            exc: Exception = Transient(
                f"the bulk operation has no result line for product {mapped.seq_produto}"
            )
            unknown = unknown or exc
        elif line.user_errors:
            exc = ShopifyUserErrors("productSet", line.user_errors)
            if _stale_ids(mapped, exc):
                stale.append((mapped, stale_positions(exc)))
                continue
        elif line.variant_throttled:  # the day's new variants spent: waits for the hold's end
            waiting.append(mapped)
            continue
        elif line.shopify_side:  # what the direct call would have raised: sent again, not refused
            exc = ShopifyServerError(f"productSet failed on Shopify's side: {_texts(line.errors)}")
            unknown = unknown or exc
        else:
            errors = list(line.errors) or [{"message": "no product returned"}]
            exc = ShopifyGraphQLError("productSet", errors)
        failures.append((mapped, exc))
    # Sent again at once, alone and without the stale ids (a few: what the merchant deleted by hand).
    down: Transient | None = None  # a resend met Shopify down: the rest wait for the retry too
    for mapped, positions in stale:
        if down is not None:
            failures.append((mapped, down))
            continue
        try:
            sent, product = _send(client, mapped.without_variant_ids(positions))
        except VariantThrottled:
            waiting.append(mapped)
        except Transient as exc:
            failures.append((mapped, exc))
            down = exc
            unknown = unknown or exc
        except Exception as exc:  # rejected for another reason, or a bug: this product only
            failures.append((mapped, exc))
        else:
            outcomes.append((sent, product, ids[mapped.seq_produto]))
    marks = _set_custom_ids(client, outcomes)
    kept = catalog_custom_id.still_there(outcomes, marks)
    short = unanswered(kept)
    failures += [(mapped, short[mapped.seq_produto]) for mapped, _, _ in kept if mapped.seq_produto in short]
    held = _held_out(kept)
    failures += [
        (m, held[m.seq_produto]) for m, _, _ in kept if m.seq_produto in held and m.seq_produto not in short
    ]
    quota.sent([m for m, _, _ in outcomes])
    if waiting:
        quota.refuse()
    with session_scope() as session:
        for mapped, exc in failures:
            _fail(session, result, mapped, ids[mapped.seq_produto], exc)
        _wait_for_quota(ctx, flow, result, quota, waiting, ids, None, session=session)
        new = cl.record_sent(session, ctx, kept, flow=flow, unmarked=marks, incomplete=short)
        unknown = unknown or _hold_unmarked(session, ctx, result, outcomes, marks, ids)
    # Recorded: the operation is forgotten. The publish after it owes itself (publish_pending).
    client.bulk.forget(bulk_identifier(ctx.shop_id), operation_id)
    _publish(ctx, client, result, kept, new, ids, bulk=True)
    return unknown


def _wait_for_quota(
    ctx: cl.CatalogContext,
    flow: str,
    result: SyncResult,
    quota: variant_quota.Quota,
    waiting: Sequence[MappedProduct],
    ids: Mapping[int, int] | None,
    job_id: str | None,
    *,
    session: Session | None = None,
) -> None:
    """These products wait for the end of the shop's hold on new variants (jobs.variant_quota):
    their messages say so, retrying, and the next products pass after it sends them again."""
    if not waiting:
        return
    assert quota.until is not None
    result.quota_held += len(waiting)
    if session is not None:
        variant_quota.defer(session, ctx, flow, waiting, quota.until, ids, job_id)
        return
    with session_scope() as own:
        variant_quota.defer(own, ctx, flow, waiting, quota.until, ids, job_id)


def _set_custom_ids(
    client: AdminClient, outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]]
) -> dict[int, IntegrationError]:
    """The custom id on the products Shopify answered without it (jobs/catalog_custom_id.py), before
    their bindings are recorded; {seqProduto: why} of those it could not be set on."""
    lacking = catalog_custom_id.missing(outcomes)
    return catalog_custom_id.set_ids(client, lacking) if lacking else {}


def _hold_unmarked(
    session: Session,
    ctx: cl.CatalogContext,
    result: SyncResult,
    outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]],
    marks: Mapping[int, IntegrationError],
    ids: Mapping[int, int],
) -> Transient | None:
    """The messages of the products left without their custom id say why (record_sent bound them
    with no digest); a re-plan is asked for those to try again. The first transient failure."""
    if not marks:
        return None
    catalog_custom_id.ask_replan(session, ctx.shop_id, marks)
    for mapped, _, _ in outcomes:
        exc = marks.get(mapped.seq_produto)
        if exc is not None:
            _fail(session, result, mapped, ids[mapped.seq_produto], exc)
    return next((e for e in marks.values() if isinstance(e, Transient)), None)


def _existing_first(
    ctx: cl.CatalogContext,
    flow: str,
    planned: Sequence[cl.Planned],
    client: AdminClient,
    result: SyncResult,
    job_id: str | None,
    message_ids: Mapping[int, int] | None,
) -> list[cl.Planned]:
    """The products to create that Shopify holds already without their custom id (jobs/catalog_adopt.py):
    those adopted are planned again as changes of the product they are bound to (their custom id
    set first: `Planned.unmarked`), those in conflict are not sent and their messages say why.
    The plan to go on with."""
    creates = [p.mapped for p in planned if p.verdict == "create" and p.mapped is not None]
    with session_scope() as session:
        found = catalog_adopt.look_up(client, session, ctx.shop_id, creates)
    if not found.adopted and not found.conflicts:
        return list(planned)
    with session_scope() as session:
        replanned: list[cl.Planned] = []
        for item in planned:
            adoption = found.adopted.get(item.seq_produto)
            if adoption is not None and item.mapped is not None:
                mapped = item.mapped.with_variant_ids(adoption.variants)
                pid = adoption.product_id
                item = dataclasses.replace(item, mapped=mapped, verdict="change", unmarked=pid)
            if item.seq_produto not in found.conflicts:
                replanned.append(item)
        catalog_adopt.bind(session, ctx.shop_id, found.adopted)
        # (messages begun as creates keep their request: the SKU facts, the same as a change's)
        _fail_unsent(session, ctx, flow, planned, found.conflicts, result, job_id, message_ids)
    result.created -= len(found.adopted) + len(found.conflicts)
    result.changed += len(found.adopted)
    result.adopted += len(found.adopted)
    return replanned


def _unmarked_first(
    ctx: cl.CatalogContext,
    flow: str,
    planned: Sequence[cl.Planned],
    client: AdminClient,
    result: SyncResult,
    job_id: str | None,
    message_ids: Mapping[int, int] | None,
) -> dict[int, IntegrationError]:
    """Products bound to a Shopify product that lacks its custom id get it before they are sent
    (catalog_custom_id); {seqProduto: why} of those it could not be set on, whose messages say so:
    they are not sent this pass. One whose Shopify product was deleted is unbound and sent as new."""
    bound = {p.seq_produto: p.unmarked for p in planned if p.unmarked and p.verdict in ("create", "change")}
    if not bound:
        return {}
    held = catalog_custom_id.set_ids(client, bound)
    gone = [seq for seq, exc in held.items() if catalog_custom_id.gone(exc)]
    if gone:  # deleted in Shopify: sent again as new (productSet finds no product by its id)
        with session_scope() as session:
            catalog_custom_id.unbind(session, ctx.shop_id, gone)
        held = {seq: exc for seq, exc in held.items() if seq not in gone}
    if held:
        with session_scope() as session:
            catalog_custom_id.ask_replan(session, ctx.shop_id, held)
            _fail_unsent(session, ctx, flow, planned, held, result, job_id, message_ids)
    return held


def _fail_unsent(
    session: Session,
    ctx: cl.CatalogContext,
    flow: str,
    planned: Sequence[cl.Planned],
    why: Mapping[int, IntegrationError],
    result: SyncResult,
    job_id: str | None,
    message_ids: Mapping[int, int] | None,
) -> None:
    """The messages of these planned products, not sent (`why`: {seqProduto: the reason}), say why:
    begun now when the pass had not begun them (`message_ids`: those it had)."""
    mapped = {p.seq_produto: p.mapped for p in planned if p.seq_produto in why and p.mapped is not None}
    ids = dict(message_ids or {})
    ids.update(cl.begin_many(session, ctx, flow, [m for s, m in mapped.items() if s not in ids], job_id))
    for seq, exc in why.items():
        _fail(session, result, mapped[seq], ids[seq], exc)


def _texts(errors: Sequence[Any]) -> str:
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)


def schedule_progress(shop_id: int, flow: str, *, every: float = 1.0) -> Progress:
    """A progress callback writing Schedule.progress {"done", "total"} (the dashboard's bar).

    Writes at most once per `every` seconds, and always the final count.
    """
    last = [0.0]

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        with session_scope() as session:
            row = session.scalars(
                select(Schedule).where(Schedule.shop_id == shop_id, Schedule.flow == flow)
            ).one_or_none()
            if row is not None:
                row.progress = {"done": done, "total": total, "at": utcnow().isoformat()}

    return update

"""One incremental pass of a catalog flow (products or skus), the initial load, and replay.

The two flows share this runner and never fight:
- each holds its own flow_lock(shop, flow) AND the shop's catalog lock, so the products and
  skus flows (and replays, and `catalog sync`) never build and push the same product at once;
- each merges what it read into the ledger cache first (jobs/catalog_cache.py), then pushes the
  touched products through the same `catalog_load.sync`, building each product from the cache:
  whichever flow runs last sends the newest product + SKU records, and the digest makes the
  other one's pass free;
- a product whose other half was never read (new product, SKUs not read yet, or the reverse)
  waits: the flow that reads the other half creates it (ProdutoSku's change time includes
  the product's, so a new product always shows up in both streams).

Watermark: the read is taken whole, the cache committed, then products are pushed in the order
of their latest change time; after each answered batch the watermark moves to that batch's
latest change time (records of the same instant not yet sent are re-read: the ERP read is
inclusive and overlaps), and to the read's snapshot at the end; never past a record the client
could not read (it fails a message of its own, the rest goes on: jobs.catalog_malformed). A flow
that never ran, on a shop whose cache is empty, does the initial load instead: both streams, one
bulk operation.

Packagings the ERP stops listing (a product moved to another family) are retired (kept as
inactive variants, never deleted, off sale) by a full sync (`catalog sync --full`, and daily by
the `catalog_full` schedule: jobs.catalog_full), which reads every packaging, once their absence
is proven: not listed either by a read of the changes since
its snapshot (a row changed mid-read left its window), on a read the client can prove whole, and
not too many of them; else they stay as they were and one message asks a person, whose Retry
runs the full sync again `confirmed` for the packagings it named, and only those
(jobs.catalog_unlisted). The skus pass retires them too for a product whose own record changed
since its read: the move changes the product, and ProdutoSku's change time includes the
product's, so that read returns every packaging the product still has
(catalog_cache.moved_away); unless the product changed again while the read ran, so the pass
checks the absence first by the same rule (a re-read of the changes since its snapshot; an
unsure read retires nothing; many missing, a large share of the catalog, are held for a person
in the same message, jobs.catalog_unlisted.moved). A changed `inactive_sku_status` setting is applied
by the next products pass to the products Shopify holds in the other inactive status.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from rq import get_current_job
from sqlalchemy import delete, select

import erp
from erp.names import Names
from jobs import (
    absence,
    catalog_cache,
    catalog_initial,
    catalog_malformed,
    catalog_publish,
    catalog_tracking,
    catalog_unlisted,
)
from jobs import catalog_ledger as cl
from jobs.catalog_load import Progress, SyncResult, reset_progress, settle_leftover, sync
from jobs.catalog_map import INACTIVE_STATUSES, cache_product, cache_sku
from jobs.locks import LockBusy, flow_lock
from ledger import bindings, trace, watermarks
from ledger.bindings import CATALOG_RECHECK_KIND, PRODUCT_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, utcnow
from shopify_app.admin_api import AdminClient

log = logging.getLogger(__name__)

CATALOG_LOCK = "catalog"
INITIAL_PAGE_SIZE = 1000  # the API's largest page: a whole-catalog read takes the fewest round trips
SKU_PREFETCH_PAGES = 16  # SKU pages held ahead during an initial load (~1.5 MB of records each)
PREMAP_EVERY = 500  # SKU records per mid-read batch of cache + mapping + messages (jobs/catalog_initial.py)
FLOWS = ("products", "skus")
READERS: dict[str, Callable[[erp.ErpClient, datetime | None], Any]] = {
    "products": lambda client, since: client.products(since),
    "skus": lambda client, since: client.skus(since),
}
CACHERS: dict[str, Callable[[Any], dict[str, Any]]] = {"products": cache_product, "skus": cache_sku}


@contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """Pause Python's cyclic garbage collector while a whole catalog is read and staged.

    Why: an initial load keeps ~10 objects per SKU alive until it ends (records, cache rows,
    mapped inputs); the collector's full passes rescan all of them again and again as they
    grow, which measured 2x the whole load at 50,000 SKUs. Reference counting still frees
    everything acyclic at once. Yields `resume`, called once the read is over: what is alive
    then is frozen out of the collector's passes (`gc.freeze`) and the collector runs again for
    the rest (the bulk operation's upload and poll can take minutes); the freeze is undone when
    the load ends.
    """
    was_enabled = gc.isenabled()
    frozen = False

    def resume() -> None:
        nonlocal frozen
        if was_enabled and not frozen:
            gc.freeze()
            frozen = True
            gc.enable()

    gc.disable()
    try:
        yield resume
    finally:
        if frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def read_both(client: erp.ErpClient) -> tuple[erp.ChangeRead, erp.ChangeRead]:
    """The two whole-catalog reads of an initial load; the SKU read fetches far ahead, so the
    ERP keeps serving its pages while this process parses the products (see below)."""
    products_read, skus_read = client.products(None), client.skus(None)
    skus_read.prefetch = SKU_PREFETCH_PAGES
    products_read.keep_malformed = skus_read.keep_malformed = True
    return products_read, skus_read


def read_pages(products_read: erp.ChangeRead, skus_read: erp.ChangeRead) -> Iterator[tuple[str, list[Any]]]:
    """("products" | "skus", the records of one page), taking whichever read has a page in.

    Why: the ERP builds both streams at once. Started first, the SKU read fetches ahead while
    the products are parsed; a SKU page already in is taken whenever the next product page is
    not, so the time spent waiting on product pages parses SKUs instead, and the SKU read
    never stalls behind its full prefetch queue. Product pages go first when both are in.
    """
    sku_pages = skus_read.by_page()
    first = next(sku_pages, None)  # starts the SKU read's prefetch worker
    if first is not None:
        yield "skus", first
    skus_left = first is not None
    for page in products_read.by_page():
        yield "products", page
        while skus_left and skus_read.next_page_ready() and not products_read.next_page_ready():
            page = next(sku_pages, None)
            if page is None:
                skus_left = False
            else:
                yield "skus", page
    if skus_left:
        for page in sku_pages:
            yield "skus", page


def run_flow(
    shop_id: int,
    flow: str,
    *,
    progress: Progress | None = None,
    client: AdminClient | None = None,
    job_id: str | None = None,
) -> SyncResult:
    """One scheduled pass of `flow` ("products" | "skus"); skipped when this flow already runs.

    The catalog held by something else (the other flow: both are due the same minute by default,
    or a replay) raises Transient: RQ's Retry runs the pass again shortly. A silent skip would
    starve it, meeting the other flow again at every due time. On the job's last try it is
    skipped after all (logged): the next due time runs it, and a catalog busy for hours (an initial
    load) does not fill the failed-job registry.
    """
    with ExitStack() as held:
        try:
            held.enter_context(flow_lock(shop_id, flow))
        except LockBusy:
            log.info("catalog: %s for shop %s skipped, it is already running", flow, shop_id)
            return SyncResult(busy=True)
        reset_progress(shop_id, [flow])  # shown running from here: not with the last pass's bar
        try:
            held.enter_context(flow_lock(shop_id, CATALOG_LOCK))
        except LockBusy as exc:
            if _last_try():
                log.warning("catalog: %s for shop %s skipped, the catalog stayed busy through its retries",
                            flow, shop_id)  # fmt: skip
                return SyncResult(busy=True)
            raise Transient(f"catalog of shop {shop_id} is busy; {flow} pass retried later").worded(
                "catalog_busy", flow=flow
            ) from exc
        with session_scope() as session:
            state = watermarks.read(session, shop_id, flow)
            empty = not catalog_cache.all_seqs(session, shop_id)
        if state.last_changed_at is None and empty:
            return _initial_load(shop_id, progress=progress, client=client, bulk=None, job_id=job_id)
        since, reread = state.last_changed_at, None
        if flow == "skus":  # products the products pass found changed behind this flow's watermark
            with session_scope() as session:
                reread = _skus_reread(session, shop_id)
            since = reread if since is not None and reread is not None and reread < since else since
        result = _incremental(shop_id, flow, since, progress, client, job_id)
        if reread is not None:
            with session_scope() as session:
                _forget_skus_reread(session, shop_id, reread, state.last_changed_at)
        return result


def _last_try() -> bool:
    """Whether this runs as an RQ job with no retry left (outside RQ: not, the caller decides)."""
    job = get_current_job()
    return job is not None and not job.retries_left


def initial_load(
    shop_id: int,
    *,
    progress: Progress | None = None,
    client: AdminClient | None = None,
    bulk: bool | None = True,
    job_id: str | None = None,
    confirmed: Collection[str] = (),
) -> SyncResult:
    """Read both streams whole and push every product (bulk by default): the first publish,
    or `catalog sync --full`. `confirmed`: the idSkus a person asked to retire if the read does
    not list them (those the held message named: its Retry, jobs.catalog_unlisted). Raises
    LockBusy when a catalog flow is running."""
    with flow_lock(shop_id, "products"), flow_lock(shop_id, "skus"), flow_lock(shop_id, CATALOG_LOCK):
        reset_progress(shop_id, FLOWS)
        return _initial_load(shop_id, progress=progress, client=client, bulk=bulk, job_id=job_id,
                             confirmed=confirmed)  # fmt: skip


def _initial_load(
    shop_id: int,
    *,
    progress: Progress | None,
    client: AdminClient | None,
    bulk: bool | None = True,
    job_id: str | None = None,
    confirmed: Collection[str] = (),
) -> SyncResult:
    with collector_paused() as resume:
        return _load_whole(shop_id, progress=progress, client=client, bulk=bulk, job_id=job_id,
                           read_done=resume, confirmed=confirmed)  # fmt: skip


def _load_whole(
    shop_id: int,
    *,
    progress: Progress | None,
    client: AdminClient | None,
    bulk: bool | None,
    job_id: str | None,
    read_done: Callable[[], None] = lambda: None,
    confirmed: Collection[str] = (),
) -> SyncResult:
    started = utcnow()
    erp_client = erp.for_shop(shop_id, page_size=INITIAL_PAGE_SIZE)
    with session_scope() as session:
        ctx = cl.load_context(session, shop_id)
    settle_leftover(ctx, client)  # before anything is planned (the Stager plans during the read)
    products_read, skus_read = read_both(erp_client)
    fresh = catalog_cache.FreshRecords()
    writer = catalog_initial.LedgerWriter()
    try:
        stager = catalog_initial.Stager(ctx, fresh, writer, flow="products", bulk=bulk, job_id=job_id)
        touched: set[int] = set()  # products with new packagings, staged every PREMAP_EVERY
        held: set[int] = set()  # ... whose product record has not come in yet
        for kind, page in read_pages(products_read, skus_read):
            if kind == "products":
                for record in page:
                    seq = fresh.add_product(cache_product(record))
                    if seq in held:
                        held.discard(seq)
                        touched.add(seq)
            else:
                for record in page:
                    seq = fresh.add_sku(cache_sku(record))
                    (touched if seq in fresh.products else held).add(seq)
            if held and products_read.complete:  # the others will never have one: stage them as they are
                touched |= held
                held.clear()
            if len(touched) >= PREMAP_EVERY:
                stager.stage(touched)  # while the next pages are in flight
                touched.clear()
        stager.stage(touched | held)
        unread = catalog_malformed.unread_products(skus_read, erp_client.names)
        if skus_read.complete and None not in unread:  # retired only once their absence is proven
            missing = stager.missing(spare=unread)
            found = catalog_unlisted.sweep(shop_id, erp_client, skus_read, missing, stager.entries,
                                           confirmed=confirmed)  # fmt: skip
            stager.retire(found.gone)
            writer.submit(found.record)  # committed with the plan
        else:  # nothing can be retired: a person's Retry says so on its message
            writer.submit(catalog_unlisted.untold(shop_id, confirmed).record)
        planned = stager.finish()  # commits the begun messages
    except BaseException:
        writer.abandon()
        raise
    holds = {
        flow: _set_aside(shop_id, flow, read, erp_client.names, None, job_id)
        for flow, read in (("products", products_read), ("skus", skus_read))
        if read.complete
    }
    read_done()
    cache = _CacheWrites(stager, progress)
    seqs = [p.seq_produto for p in planned]
    message_ids = stager.message_ids if stager.begins_messages else None
    try:
        result = sync(ctx, "products", seqs, client=client, bulk=bulk, progress=cache.progress,
                      job_id=job_id, planned=planned, message_ids=message_ids)  # fmt: skip
    finally:
        cache.join()  # committed before any watermark moves
    with session_scope() as session:
        for flow, read in (("products", products_read), ("skus", skus_read)):
            at = holds[flow].cap(read.snapshot) if flow in holds and read.snapshot is not None else None
            if at is not None:
                watermarks.advance(session, shop_id, flow, "", at, 0, started)
        catalog_tracking.write_mark(session, shop_id)  # every product went with its items tracked
    return result


class _CacheWrites:
    """The initial load's ERP cache rows (`Stager.write_cache`), started once Shopify reports the
    push's first progress (the bulk operation uploaded and running, or the first direct batch
    answered), so their encoding does not compete with building the JSONL for this process's
    GIL; the push then mostly waits on Shopify. Started at `join` if no report came."""

    def __init__(self, stager: catalog_initial.Stager, progress: Progress | None) -> None:
        self._stager, self._progress = stager, progress
        self._writer: catalog_initial.LedgerWriter | None = None

    def progress(self, done: int, total: int) -> None:
        self._start()
        if self._progress is not None:
            self._progress(done, total)

    def join(self) -> None:
        self._start().join()

    def _start(self) -> catalog_initial.LedgerWriter:
        if self._writer is None:
            self._writer = self._stager.write_cache()
        return self._writer


def _incremental(
    shop_id: int,
    flow: str,
    since: datetime | None,
    progress: Progress | None,
    client: AdminClient | None,
    job_id: str | None,
) -> SyncResult:
    started = utcnow()
    erp_client = erp.for_shop(shop_id)
    read = READERS[flow](erp_client, since)
    read.keep_malformed = True
    records = [CACHERS[flow](record) for record in read]
    hold = _set_aside(shop_id, flow, read, erp_client.names, since, job_id)
    latest: dict[int, datetime] = {}
    for record in records:
        changed = datetime.fromisoformat(record["changed_at"])
        seq = int(record["seq_produto"])
        latest[seq] = max(changed, latest.get(seq, changed))
    missing: dict[int, list[str]] = {}
    with session_scope() as session:
        # Products whose sale status in the store flipped (the prices flow asks for it): read before
        # the off-sale set (load_context), so a flip written after this read is newer than both
        # and its request stays for the next pass (_forget_rechecks).
        rechecks = _catalog_rechecks(session, shop_id) if flow == "products" else {}
        ctx = cl.load_context(session, shop_id)
        if flow == "products":
            cached = catalog_cache.load(session, shop_id, latest)  # before this read's records
            catalog_cache.merge(session, shop_id, products=records)
            _note_skus_reread(session, shop_id, records, cached)
        else:
            merged = catalog_cache.merge(session, shop_id, skus=records)
            missing = _moved_away(merged, records, since, read, erp_client.names)
        # Products left in the other inactive status (the merchant changed `inactive_sku_status`)
        # are re-planned with this pass, although the ERP did not change them.
        restatus = _other_inactive_status(session, shop_id, ctx.inactive_status) if flow == "products" else []
        # Until every product was planned with its items tracked (jobs/catalog_tracking.py), once.
        retrack = catalog_tracking.products_to_retrack(session, shop_id) if flow == "products" else []
    if missing:  # checked outside the transaction: the check reads the ERP again
        _retire_moved(shop_id, merged, missing, read, erp_client)
    again = set(restatus).union(rechecks, retrack) - set(latest)
    seqs = sorted(latest, key=lambda s: (latest[s], s)) + sorted(again)

    def accepted(session: Any, batch: Sequence[int]) -> None:
        read_in_batch = [latest[s] for s in batch if s in latest]
        at = hold.cap(max(read_in_batch)) if read_in_batch else None
        if at is not None:
            watermarks.advance(session, shop_id, flow, "", at, 0, started)

    result = sync(ctx, flow, seqs, client=client, accepted=accepted if seqs else None, progress=progress,
                  job_id=job_id)  # fmt: skip
    if flow == "products":  # publishes that failed for a transient reason in an earlier pass
        result.failed += catalog_publish.publish_again(ctx, client, tried_before=started)
    if rechecks:  # planned (sent or recorded on its message): asked for no more
        with session_scope() as session:
            _forget_rechecks(session, shop_id, rechecks)
    if retrack:  # every product planned with its items tracked: not again
        with session_scope() as session:
            catalog_tracking.write_mark(session, shop_id)
    at = hold.cap(read.snapshot) if read.complete and read.snapshot is not None else None
    if at is not None:
        with session_scope() as session:
            watermarks.advance(session, shop_id, flow, "", at, 0, started)
    return result


SKUS_REREAD_KIND = "skus_reread"  # erp_id "": data {"since": the earliest change time to read again}


def _note_skus_reread(
    session: Any,
    shop_id: int,
    records: Sequence[dict[str, Any]],
    cached: Mapping[int, catalog_cache.CachedProduct],
) -> None:
    """A product record this products pass read that is newer than the one cached (the product
    changed; not one the read's overlap brought again) and older than the skus flow's watermark:
    the skus pass ran first (both are due the same minute) and read the product's packagings with
    its old record cached, so it could not tell a packaging gone (it moved to a family that lacks
    it: catalog_cache.moved_away checks a product whose cached record changed since its read). The
    next skus pass reads again from that change time (`run_flow`), its record cached now."""
    skus_at = watermarks.read(session, shop_id, "skus").last_changed_at
    if skus_at is None:
        return
    changed = [
        at
        for r in records
        if (at := datetime.fromisoformat(r["changed_at"])) < skus_at
        and ((old := cached.get(int(r["seq_produto"]))) is None or old.product is None
             or datetime.fromisoformat(old.product["changed_at"]) < at)
    ]  # fmt: skip
    if not changed:
        return
    earliest = min(changed)
    noted = _skus_reread(session, shop_id)
    if noted is None or earliest < noted:
        row = bindings.BindingRow("", None, None, {"since": earliest.isoformat()})
        bindings.upsert_many(session, shop_id, SKUS_REREAD_KIND, [row])


def skus_read_from(session: Any, shop_id: int) -> datetime | None:
    """Where the next skus pass reads from: its watermark, or the products pass's re-read mark when
    earlier (`_note_skus_reread`: products found moved behind the watermark). The dry run reads the
    same (jobs.catalog_diff), so it says what that pass will retire."""
    since, reread = watermarks.read(session, shop_id, "skus").last_changed_at, _skus_reread(session, shop_id)
    return reread if since is not None and reread is not None and reread < since else since


def _skus_reread(session: Any, shop_id: int) -> datetime | None:
    """The change time the next skus pass reads again from (`_note_skus_reread`), None: none."""
    row = bindings.get_many(session, shop_id, SKUS_REREAD_KIND, [""]).get("")
    since = (row.data or {}).get("since") if row is not None else None
    return datetime.fromisoformat(since) if since else None


def _forget_skus_reread(session: Any, shop_id: int, read_from: datetime, before: datetime | None) -> None:
    """The skus pass read again from `read_from` and its watermark moved on from `before`: the mark
    goes, unless a products pass moved it earlier meanwhile (read again by the next pass). A pass
    whose watermark stayed (a failure) keeps it: the next one reads again from there."""
    now = watermarks.read(session, shop_id, "skus").last_changed_at
    if _skus_reread(session, shop_id) == read_from and now is not None and (before is None or now > before):
        mark = (Binding.shop_id == shop_id, Binding.kind == SKUS_REREAD_KIND, Binding.erp_id == "")
        session.execute(delete(Binding).where(*mark))


def _moved_away(
    merged: dict[int, catalog_cache.CachedProduct],
    records: Sequence[dict[str, Any]],
    since: datetime | None,
    read: erp.ChangeRead,
    names: Names,
) -> dict[int, list[str]]:
    """The cached packagings a changed product no longer lists (it moved to another family:
    catalog_cache.moved_away), to retire once their absence is checked (`_retire_moved`). Products
    with an unreadable packaging record are left alone, and none is missing when one's product
    cannot be told (as a full sync)."""
    unread = catalog_malformed.unread_products(read, names)
    if None in unread:
        return {}
    ids_read: dict[int, set[str]] = {}
    for record in records:
        ids_read.setdefault(int(record["seq_produto"]), set()).add(record["id_sku"])
    return catalog_cache.moved_away(merged, ids_read, since, spare=unread)


def _retire_moved(
    shop_id: int,
    merged: dict[int, catalog_cache.CachedProduct],
    missing: dict[int, list[str]],
    read: erp.ChangeRead,
    erp_client: erp.ErpClient,
) -> None:
    """Packagings a changed product no longer has (`missing`: `_moved_away`), retired in the cache
    as a full sync retires them: the product is in this pass's push already (its packagings were
    read), so its retired variants go off sale with it (inventoryPolicy DENY, binding inactive).

    Their absence is checked first, as the full sync checks it (jobs.catalog_unlisted): a product
    changed again while the read ran left its window (ProdutoSku's change time includes the
    product's), and its packagings not served yet are missing from the read though the ERP has
    them. So the SKU changes since the read's snapshot are read again: a packaging it lists is
    kept (its new record comes with the next pass, which reads from that snapshot); a read the
    client cannot prove whole (`ChangeRead.unsure`, the pass's or the check's) retires nothing,
    and the full sync settles them (jobs.catalog_full). Many of them, a large share of the catalog,
    are held for a person as a full sync holds them (jobs.catalog_unlisted.moved): one failed
    message of their own ("catalog:unlisted:moved", still naming those an earlier pass held), none
    retired."""
    gone = _still_missing(erp_client, read, missing)
    if not gone:
        return
    with session_scope() as session:
        known = catalog_cache.known_packagings(session, shop_id)
    found = catalog_unlisted.moved(shop_id, gone, merged, known)
    changed = catalog_cache.retire(merged, found.gone)
    if found.held:
        log.warning("catalog: %d packaging(s) of changed products missing from the SKU read held for a "
                    "person: %s", len(found.held), found.why)  # fmt: skip
    if changed:
        log.info("catalog: %d changed product(s) lost packagings the ERP no longer lists", len(changed))
    with session_scope() as session:
        if changed:
            catalog_cache.write(session, shop_id, [merged[seq] for seq in changed])
        found.record(session)


def _still_missing(
    erp_client: erp.ErpClient, read: erp.ChangeRead, missing: dict[int, list[str]]
) -> dict[int, list[str]]:
    """Those of `missing` (idSkus per product) a read of the SKU changes since `read`'s snapshot
    does not list either; none when either read cannot prove a row absent."""
    held = sum(len(ids) for ids in missing.values())
    if read.snapshot is None or not read.complete or read.unsure:
        log.warning("catalog: %d packaging(s) missing from the SKU read kept, the read proves no absence: %s",
                    held, read.unsure or "no snapshot")  # fmt: skip
        return {}
    meanwhile = erp_client.skus(read.snapshot)  # rows that left the read's window
    meanwhile.keep_malformed = True  # (its unreadable records are the next pass's to tell)
    listed = {record.id_sku for record in meanwhile}
    unread = catalog_malformed.unread_products(meanwhile, erp_client.names)
    if None in unread or meanwhile.unsure:
        why = meanwhile.unsure or "an unreadable record names no product"
        log.warning("catalog: %d packaging(s) missing from the SKU read kept, the re-check proves no "
                    "absence: %s", held, why)  # fmt: skip
        return {}
    return {
        seq: left
        for seq, ids in missing.items()
        if seq not in unread
        if (left := [i for i in ids if i not in listed])
    }


def _set_aside(
    shop_id: int,
    flow: str,
    read: erp.ChangeRead,
    names: Names,
    since: datetime | None,
    job_id: str | None,
) -> catalog_malformed.Hold:
    """The records of a whole read that could not be read: a failed message each (jobs.catalog_malformed),
    and how far the flow's watermark may move."""
    malformed = [catalog_malformed.describe(flow, raw, exc, names) for raw, exc in read.malformed]
    with session_scope() as session:
        catalog_malformed.record(session, shop_id, flow, malformed, job_id)
    return catalog_malformed.hold(malformed, since)


def _other_inactive_status(session: Any, shop_id: int, inactive_status: str) -> list[int]:
    """Products Shopify holds as DRAFT or ARCHIVED, but not as the shop's setting says now."""
    other = [s for s in INACTIVE_STATUSES if s != inactive_status]
    rows = session.scalars(
        select(Binding.erp_id).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRODUCT_KIND,
            Binding.data["status"].as_string().in_(other),
        )
    )
    return [int(seq) for seq in rows if seq.isdigit()]


def _catalog_rechecks(session: Any, shop_id: int) -> dict[int, datetime]:
    """The products the prices flow asked to re-plan: {seqProduto: when it last asked}."""
    found = bindings.read_requests(session, shop_id, CATALOG_RECHECK_KIND)
    return {int(seq): at for seq, at in found.items() if seq.isdigit()}


def _forget_rechecks(session: Any, shop_id: int, read: dict[int, datetime]) -> None:
    """Done with the requests this pass read, and only those: the prices flow runs under its own
    lock and may ask again for a product while the pass pushes (its sale status flipped back); that
    request, written later (a newer updated_at), was not planned from and stays for the next pass."""
    bindings.forget_requests(
        session, shop_id, CATALOG_RECHECK_KIND, {str(seq): at for seq, at in read.items()}
    )


def replay(message_id: int, *, client: AdminClient | None = None) -> SyncResult:
    """Re-send one product from the ledger cache (its last ERP records), even if unchanged.

    The ERP API has no by-id filter, so replay does not re-read the ERP: the cache holds the
    newest records the flows have read, and anything newer arrives with the next scheduled pass.
    A held "catalog:unlisted" message (a full sync's, or the skus pass's "catalog:unlisted:moved")
    runs the full sync again, `confirmed` for the packagings it names while it is failed
    (absence.confirmed_by); done (a later full sync closed it), its Replay is an ordinary full sync
    that confirms nothing (jobs.catalog_unlisted).
    Raises Transient while a catalog flow holds the catalog (RQ retries the replay later).
    """
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, flow, key = message.shop_id, message.flow, message.unit_key
        confirmed = absence.confirmed_by(message)
    if flow in FLOWS and key.startswith(catalog_malformed.UNIT_PREFIX):
        # An ERP record that could not be read: the API has no by-id read, but the flow's watermark
        # held it, so a pass of its flow reads it again (and closes its message once readable).
        result = run_flow(shop_id, flow, client=client)
        if result.busy:
            raise Transient(f"catalog of shop {shop_id} is busy; replay of {key} retried later")
        return result
    if flow == catalog_unlisted.FLOW and key in catalog_unlisted.UNITS:
        # Packagings a full sync (or the skus pass) held for a person: they checked those the
        # message names, so a new full sync retires those of them its read still does not list
        # (mid-read changes still checked); anything else it misses follows the ordinary rule.
        try:
            return initial_load(shop_id, client=client, bulk=None, confirmed=confirmed)
        except LockBusy as exc:
            raise Transient(f"catalog of shop {shop_id} is busy; replay of {key} retried later") from exc
    if flow not in FLOWS or not key.startswith("product:"):
        raise ValueError(f"message {message_id} is not a catalog product message ({flow} {key})")
    seq = int(key.split(":", 1)[1])
    try:
        with flow_lock(shop_id, CATALOG_LOCK):
            with session_scope() as session:
                ctx = cl.load_context(session, shop_id)
            return sync(ctx, flow, [seq], client=client, force=True, bulk=False)
    except LockBusy as exc:
        raise Transient(f"catalog of shop {shop_id} is busy; replay of {key} retried later") from exc

"""The initial load's ledger work, done while the ERP pages are still in flight.

Why: a whole-catalog read keeps this process waiting on the ERP (the pages are prefetched in a
worker thread), so the products whose packagings just arrived are merged into the cache,
mapped, planned and their messages begun batch by batch during the read, and only a short
tail is left once the last page is in. The writes themselves go to a thread of their own
(`LedgerWriter`, one transaction): SQLite and PostgreSQL do their work without the GIL, so
they overlap the parsing and mapping of the next pages.

The rules hold as in `catalog_load.sync`:
- the writer commits the begun messages before anything is handed to Shopify, and a failed read
  rolls them back (nothing was sent, nothing is kept); the ERP cache rows, which nothing sent
  needs, are written after the read, once per product, while Shopify runs the push, and
  committed before the watermark moves (`Stager.write_cache`, started by catalog_flow);
- one attempt per product per run: a product whose packagings span batches is mapped again,
  and its message, already begun, gets the new request in place (`trace_bulk.restate_many`);
- messages are begun mid-read only when the push will be a bulk operation (`bulk=True`, or
  more products to send than the shop's bulk_threshold, decided as soon as that is passed);
  otherwise the direct path begins them batch by batch, as before.
A product the cache held other records for is mapped from the merged entry, never from the
read alone, so what is sent is what `catalog_ledger.plan` would send.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import catalog_cache
from jobs import catalog_ledger as cl
from jobs.catalog_cache import CachedProduct, FreshRecords
from ledger import bindings, trace_bulk
from ledger.bindings import PRODUCT_KIND
from ledger.db import session_scope
from ledger.models import Binding

SEND = ("create", "change")
UNCHANGED = "unchanged: Shopify already has this product"
Job = Callable[[Session], None]
_COMMIT, _ROLLBACK = object(), object()

log = logging.getLogger(__name__)


class LedgerWriter:
    """Runs ledger writes in order, in one transaction on a thread of its own.

    `finish()` commits and re-raises the first error a write met (the transaction is then
    rolled back); `abandon()` rolls back. Either joins the thread.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="catalog-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        if self.error is not None:
            self.finish()  # raises the writer's error here, mid-read, rather than after it
        self._jobs.put(job)

    def finish(self) -> None:
        self.close()
        self.join()

    def close(self) -> None:
        """Commit once the writes queued so far are done, without waiting for it (see `join`)."""
        self._jobs.put(_COMMIT)

    def join(self) -> None:
        """Wait for the commit `close` asked for; re-raises the first error a write met."""
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        self._jobs.put(_ROLLBACK)
        self._thread.join()

    def _run(self) -> None:
        try:
            with session_scope() as session:
                while (job := self._jobs.get()) is not _COMMIT:
                    if job is _ROLLBACK:
                        raise _RolledBack
                    job(session)
        except _RolledBack:
            pass
        except BaseException as exc:  # re-raised in the caller's thread by finish()
            self.error = exc
            while self._jobs.get() not in (_COMMIT, _ROLLBACK):
                pass  # drop the writes queued after the failure


class _RolledBack(Exception):
    pass


class Stager:
    """Cache merge, mapping, plan and message begin for the products of each batch (see above)."""

    def __init__(
        self,
        ctx: cl.CatalogContext,
        fresh: FreshRecords,
        writer: LedgerWriter,
        *,
        flow: str,
        bulk: bool | None,
        job_id: str | None,
    ) -> None:
        self.ctx, self.fresh, self.writer = ctx, fresh, writer
        self.flow, self.job_id = flow, job_id
        self.entries: dict[int, CachedProduct] = {}
        self.planned: dict[int, cl.Planned] = {}
        self.message_ids: dict[int, int] = {}  # filled by the writer: read after finish()
        self.begins_messages = bulk is True
        self._bulk = bulk
        self._begun: set[int] = set()
        self._sending = 0
        with session_scope() as session:  # an empty ledger (the usual first load) needs no lookups
            self._cache_empty = not _any(session, ctx.shop_id, catalog_cache.CACHE_KIND)
            self._sent_empty = not _any(session, ctx.shop_id, PRODUCT_KIND)
        self._sent: dict[str, Binding] = {}
        self._variants: dict[str, cl.BoundVariant] = {}  # variant bindings of bound products' SKUs
        self._variants_read: set[str] = set()
        self._cache_dirty: set[int] = set()  # products whose cache row changed: written by write_cache

    def stage(self, seqs: Iterable[int], *, changed: Iterable[int] = ()) -> None:
        """Fold the newest records of these products into their cache rows, map and plan them
        (`changed`: products whose cache entry the caller changed itself, planned again too)."""
        seqs = list(seqs)
        new = [s for s in seqs if s not in self.entries]
        if new:
            self._load(new)
        dirty = catalog_cache.overlay(
            self.entries,
            {s: self.fresh.products[s] for s in seqs if s in self.fresh.products},
            {s: self.fresh.skus[s] for s in seqs if s in self.fresh.skus},
        ) | set(changed)
        self._cache_dirty |= dirty
        begin: list[cl.MappedProduct] = []
        restate: list[cl.MappedProduct] = []
        dropped: list[int] = []
        self._load_variants([s for s in seqs if s in dirty or s not in self.planned])
        for seq in seqs:
            if seq not in dirty and seq in self.planned:
                continue  # nothing new for this product
            before = self.planned.get(seq)
            item = cl.plan_one(self.ctx, self.entries[seq], self._sent.get(str(seq)), variants=self._variants)
            self.planned[seq] = item
            sending, sent_before = item.verdict in SEND, before is not None and before.verdict in SEND
            self._sending += sending - sent_before
            if seq in self._begun:
                if sending:
                    restate.append(item.mapped)  # type: ignore[arg-type]
                else:  # rare: the later packagings made it equal to what Shopify has
                    dropped.append(seq)
                    self._begun.discard(seq)
            elif sending and self.begins_messages:
                begin.append(item.mapped)  # type: ignore[arg-type]
        if not self.begins_messages and self._bulk is None and self._sending > self.ctx.bulk_threshold:
            self.begins_messages = True  # a bulk operation for sure: begin what is planned so far
            begin = [p.mapped for p in self.planned.values() if p.verdict in SEND]  # type: ignore[misc]
        self._write_messages(begin, restate, dropped)

    def missing(self, spare: Collection[int | None] = ()) -> dict[int, list[str]]:
        """After a complete read of every packaging: the cached packagings of the products read that
        it did not list (catalog_cache.missing; those read with no packaging at all are staged first:
        `finish` would stage them only later). `spare`: products left out (jobs.catalog_malformed)."""
        if self._cache_empty:
            return {}  # a first load: nothing was cached to go missing
        bare = [s for s in self.fresh.products if s not in self.fresh.skus and s not in self.entries]
        if bare:
            self.stage(bare)
        return catalog_cache.missing(self.entries, self.fresh.products, self.fresh.skus, spare)

    def retire(self, packagings: Mapping[int, Collection[str]]) -> None:
        """catalog_cache.retire these packagings (the proven part of `missing`: jobs.catalog_unlisted)
        and plan their products again."""
        changed = catalog_cache.retire(self.entries, packagings)
        if changed:
            log.info("catalog: %d product(s) lost packagings the ERP no longer lists", len(changed))
            self.stage(changed, changed=changed)

    def _write_messages(
        self, begin: list[cl.MappedProduct], restate: list[cl.MappedProduct], dropped: list[int]
    ) -> None:
        if begin:
            self._begun.update(m.seq_produto for m in begin)
            self.writer.submit(self._begin_job(begin))
        if restate:
            self.writer.submit(self._restate_job(restate))
        if dropped:
            ids = self.message_ids
            self.writer.submit(
                lambda session: trace_bulk.skip_many(
                    session, [ids.pop(s) for s in dropped], UNCHANGED, words=("catalog_unchanged", {})
                )
            )

    def _begin_job(self, products: list[cl.MappedProduct]) -> Job:
        ctx, flow, job_id, ids = self.ctx, self.flow, self.job_id, self.message_ids
        units, seqs = cl.unit_starts(products), [m.seq_produto for m in products]

        def job(session: Session) -> None:
            ids.update(zip(seqs, cl.begin_units(session, ctx, flow, units, job_id), strict=True))

        return job

    def _restate_job(self, products: list[cl.MappedProduct]) -> Job:
        ids = self.message_ids
        units, seqs = cl.unit_starts(products), [m.seq_produto for m in products]
        return lambda session: trace_bulk.restate_many(session, [ids[s] for s in seqs], units)

    def _load(self, seqs: list[int]) -> None:
        """The cache rows and product bindings the ledger held before this run, for new products."""
        if self._cache_empty and self._sent_empty:
            self.entries.update((s, CachedProduct(s, None)) for s in seqs)
            return
        with session_scope() as session:
            if self._cache_empty:
                self.entries.update((s, CachedProduct(s, None)) for s in seqs)
            else:
                self.entries.update(catalog_cache.load(session, self.ctx.shop_id, seqs))
            if not self._sent_empty:
                found = bindings.get_many(session, self.ctx.shop_id, PRODUCT_KIND, (str(s) for s in seqs))
                self._sent.update(found)  # detached once the session ends, still loaded

    def _load_variants(self, seqs: list[int]) -> None:
        """The variant bindings of the packagings of these products bound to Shopify, not read yet:
        their ids go in the input (catalog_ledger.plan_one), as `plan` sends them."""
        if self._sent_empty:
            return
        skus = [
            sku
            for seq in seqs
            if cl.in_shopify(self._sent.get(str(seq)))
            for sku in self.entries[seq].skus
            if sku not in self._variants_read
        ]
        if skus:
            with session_scope() as session:
                self._variants.update(cl.bound_variants(session, self.ctx.shop_id, skus))
            self._variants_read.update(skus)

    def finish(self) -> list[cl.Planned]:
        """Stage the products no packaging touched, commit every write; the plan in seq order."""
        self.stage(s for s in self.fresh.products if s not in self.entries)
        self.writer.finish()
        return [self.planned[s] for s in sorted(self.planned)]

    def write_cache(self) -> LedgerWriter:
        """Write the changed cache rows, each product once in its final state, on a writer of their
        own that commits as soon as it is done; `join()` it before any watermark moves.

        Nothing sent to Shopify needs these rows (the plan and the messages are committed by
        `finish`), so they are written while Shopify runs the push (the caller starts this once
        the push reports progress) instead of on the way to it. A crash before their commit
        leaves the watermark where it was: the next run reads the same records again.
        """
        entries, shop_id = self.entries, self.ctx.shop_id
        dirty = sorted(self._cache_dirty)

        def job(session: Session) -> None:
            rows = catalog_cache.encode(entries[s] for s in dirty)
            bindings.write_encoded(session, shop_id, catalog_cache.CACHE_KIND, rows)

        writer = LedgerWriter()
        writer.submit(job)
        writer.close()
        return writer


def _any(session: Session, shop_id: int, kind: str) -> bool:
    stmt = select(Binding.id).where(Binding.shop_id == shop_id, Binding.kind == kind).limit(1)
    return session.scalar(stmt) is not None

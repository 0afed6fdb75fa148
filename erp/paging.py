"""Paged, incremental reads: the envelope loop, the overlap window and its de-duplication.

The contract (docs/consinco-api.md section 3): page 1 fixes `dtaHorSnapshot`; later pages echo
`nextCursor` and `DtaHorSnapshot`; `DtaHorAlteracao` is inclusive. A server that gives no cursor may
page by plain offset (TDN names only Page and PageSize), where a row changed mid-read shifts the
rows after it past a page boundary: the next request then starts at the newest change time served,
Page=1 (erp/page_plan.py: runs of one change time go by page number, each page checked for a shift;
so do servers ordering otherwise or comparing by `>`). Without `hasNext` (the envelope is [assumed])
the read goes on while `total` says rows remain or pages come back full (see
ChangeRead._more_without_flag), and a read that ends short of its `total` for no reason the contract
gives is an error, not a complete read (_Coverage); so is a body without `items` (an error body
answered HTTP 200: ChangeRead._items), never an empty page ending the read. Reads start `overlap`
before the caller's watermark so a clock skew between the ERP's writers and its snapshot, or a
transaction committed after its change time was stamped (Oracle's SYSDATE at the UPDATE; readers see
the row at COMMIT), cannot hide a row: rows may come twice across runs, never be missed within the
overlap (the flows' is the setting ERP_READ_OVERLAP; what commits later is read by the daily full
price and stock sweeps, jobs.prices_full and jobs.stock_full). `ChangeRead.snapshot` is the next
watermark; `ChangeRead.boundary` lists the (key, change time) pairs the next read will see again,
and passing it back as `skip` drops them. `ChangeRead.unsure` says why a complete read may still
have missed rows that did not change (pages asked by number unchecked, an end no envelope attested):
such a read proves no row's absence (jobs.absence: jobs.price_unlisted, jobs.catalog_unlisted).

A change column that holds a date alone (Consinco's DTA columns, e.g. MRL_PRODEMPSEG.DTAALTERACAO,
against DTAHOR date-times) stamps every later change of that day with the same value: a read whose
change times are all at midnight sharp has `snapshot` at the start of its day in the ERP's zone (not
before the day before), so the next read sees the day again (the flows' digests make the re-read
cost no Shopify call); rows at midnight stay out of `boundary`. A read that saw a time of day is of
a date-time column: its rows at midnight sharp are times, and hold nothing back. A read that came
back empty cannot tell: its `snapshot` is the start of its day in the ERP's zone, never before the
caller's watermark (None from no watermark: the next read is whole again, and costs as little).

Within one read a page boundary served twice (an inclusive cursor, offset paging on an older server,
a request restarted at the newest change time served, a page asked again) is dropped by remembering
the keys of the current and previous page: bounded memory even for a 500,000-row initial load. Keys
include the change time, so a row changed again is new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Generic, TypeVar

from erp import fields as f
from erp.errors import ErpFilterIgnored, ErpRejected, ErpTransient, ErpUnexpectedShape
from erp.names import Names
from erp.page_plan import UNCHECKED, PagePlan
from erp.prefetch import Prefetched
from erp.transport import _short

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[Hashable, datetime | None]
FetchPage = Callable[[dict[str, Any]], Any]
PREFETCH_PAGES = 2  # pages fetched ahead of the consumer (bounded memory: 2 x 1,000 records)
# Loop guards: a server that ignores Page/Cursor (a renamed parameter is ignored, not refused)
# would otherwise be paged for ever, holding the flow's lock.
REPEATED_PAGES = 3  # pages in a row holding only records of the page before them
_WARNED: set[tuple[str, str]] = set()  # (endpoint, kind) already warned of (ChangeRead._warn)


@dataclass
class _Page(Generic[T]):
    """One envelope, its items and their records (parsed in the prefetch worker)."""

    body: dict[str, Any]
    items: list[Any]
    records: list[T] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)  # (key, change time) of each record
    marks: list[Any] = field(default_factory=list)  # of each item: its key, or the raw item if unread
    malformed: list[tuple[Any, ErpUnexpectedShape]] = field(default_factory=list)
    # the read ends on it, its request's own `total` served (no hasNext): the end is attested even
    # when the read's first `total` was not reached (rows that left the window mid-read)
    ends_at_total: bool = False


class ChangeRead(Generic[T]):
    """One read of one resource: iterate for typed records, then read `.snapshot`.

    Advance a watermark to `.snapshot` only once `.complete` is true (the whole read was consumed).
    """

    def __init__(
        self,
        *,
        endpoint: str,
        fetch: FetchPage,
        parse: Callable[[Any], T],
        key: Callable[[T], Hashable],
        changed: Callable[[T], datetime | None],
        names: Names,
        since: datetime | None,
        overlap: timedelta,
        page_size: int,
        filters: dict[str, Any],
        skip: Collection[Key] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prefetch: int = PREFETCH_PAGES,
    ) -> None:
        self.endpoint = endpoint
        self._fetch, self._parse, self._key, self._changed = fetch, parse, key, changed
        self._names = names
        self.since = since
        self.read_from = since - overlap if since is not None else None
        self.overlap = overlap
        self.page_size = page_size
        self.filters = filters
        self._skip = skip
        self._clock = clock
        self.prefetch = prefetch  # pages fetched ahead in a worker thread (0: fetch in the caller's thread)
        self.snapshot: datetime | None = None
        self._erp_snapshot = True  # whether the snapshot is the ERP's own (else: see _record_pages)
        self.total: int | None = None
        self.pages = 0
        self.looks = 0  # rows asked alone, to check a page asked by number (erp/page_plan.py)
        self.yielded = 0
        self.dropped = 0
        self.complete = False
        # Why a complete read may still have missed rows that did not change (None: it cannot):
        # pages by number taken unchecked, or an end no envelope attested (see _Coverage.doubt).
        # A complete read proves a row missing from it absent only when this is None.
        self.unsure: str | None = None
        self.boundary: set[Key] = set()
        # When set, a record `parse` cannot read (ErpUnexpectedShape) is kept in `malformed` (with
        # why) and the read goes on; when not, it stops the read.
        self.keep_malformed = False
        self.malformed: list[tuple[Any, ErpUnexpectedShape]] = []
        self._started = False
        self._order_logged = False
        self._prefetched: Prefetched | None = None
        self._plan: PagePlan | None = None

    def __iter__(self) -> Iterator[T]:
        return (record for page in self.by_page() for record in page)

    def by_page(self) -> Iterator[list[T]]:
        """The same records, one list per page: with `next_page_ready()`, a consumer of two
        reads at once takes whichever has a page in, instead of waiting on one of them."""
        if self.pages or self._started:
            raise RuntimeError("a ChangeRead is consumed once: ask the client for a new read")
        self._started = True
        return self._record_pages()

    def next_page_ready(self) -> bool:
        """True when the next page (or the end of the read) is already fetched, so taking it
        does not wait. Only a started read with a prefetch worker can say so."""
        return self._prefetched is not None and self._prefetched.ready()

    def _record_pages(self) -> Iterator[list[T]]:
        pages: Iterator[_Page[T]] = (
            Prefetched(self._pages(), self.prefetch) if self.prefetch > 0 else self._pages()
        )
        self._prefetched = pages if isinstance(pages, Prefetched) else None
        boundary_from: datetime | None = None
        latest_seen: datetime | None = None
        newest_day_only: datetime | None = None  # the newest change time at midnight sharp
        timed = False  # a change time with a time of day: the column is a date-time (DTAHOR)
        seen = False  # any record served (even one dropped or unreadable): the read was not empty
        zone = self._names.zone
        coverage = _Coverage(self.page_size, self._names, self.endpoint)
        previous: set[Key] = set()
        current: set[Key] = set()
        repeats = 0
        try:
            for page in pages:
                if boundary_from is None and self.snapshot is not None:
                    boundary_from = self.snapshot - self.overlap
                previous, current = current, set()
                records: list[T] = []
                self.malformed.extend(page.malformed)
                repeated = 0
                for record, k in zip(page.records, page.keys, strict=True):
                    changed = k[1]
                    day_only = changed is not None and _day_only(changed, zone)
                    if changed is not None and (latest_seen is None or changed > latest_seen):
                        latest_seen = changed
                    if not day_only:
                        timed = timed or changed is not None
                    elif newest_day_only is None or changed > newest_day_only:
                        newest_day_only = changed
                    # A date alone is no version: the row changed again today keeps it, so it is
                    # never skipped by the next read.
                    if (
                        changed is not None
                        and boundary_from is not None
                        and changed >= boundary_from
                        and not day_only
                    ):
                        self.boundary.add(k)  # seen (now or by an earlier read): the next read skips it
                    # The page before served it: an inclusive cursor, offset paging on an older
                    # server, or a request restarted at the newest change time served (PagePlan).
                    if k in current or k in previous:
                        repeated += 1
                        self.dropped += 1
                        current.add(k)  # this page holds it too: a third identical page repeats it
                        continue
                    if k in self._skip:
                        self.dropped += 1
                        continue
                    current.add(k)
                    records.append(record)
                body, items = page.body, page.items
                seen = seen or bool(items)
                coverage.note(body, items, repeated)
                coverage.attested = page.ends_at_total
                repeats = repeats + 1 if items and repeated == len(items) else 0
                if repeats >= REPEATED_PAGES:
                    par = self._names.params
                    raise ErpUnexpectedShape(self.endpoint, self._names.envelope["items"],
                                             f"repeats the records of the page before it, {repeats} pages "
                                             f"in a row: the server is not moving on (is {par['page']} / "
                                             f"{par['cursor']} ignored?)", f"page {self.pages}")  # fmt: skip
                self.yielded += len(records)
                yield records
        finally:
            if isinstance(pages, Prefetched):
                pages.close()
        if not self._erp_snapshot:
            # The ERP gave no snapshot: the app's own clock is no watermark (the ERP's may be
            # hours apart: local time read as UTC), so the next read starts from the newest change
            # this one saw (or where this one started), never past a change not yet read.
            self.snapshot = max((t for t in (latest_seen, self.since) if t is not None), default=None)
        if newest_day_only is not None and self.snapshot is not None and not timed:
            # A date column: a change made later today is stamped with today's date, which is
            # before any time of today: the next read must start at the day's start (in the ERP's
            # zone), and never past the day of the newest dated change seen (a snapshot already
            # into the next day, or written in another zone than the dates), nor before the day
            # before (a stale date, the newest of a quiet read, cannot hold the watermark back).
            day = _day_start(self.snapshot, zone)
            self.snapshot = min(day, max(newest_day_only, day - timedelta(days=1)))
        elif not seen and self._erp_snapshot and self.snapshot is not None:
            # An empty read tells no date column from a date-time one: a change made later today
            # may be stamped with today's date, before the snapshot's time of day. The next read
            # starts no later than the previous day's start (in the ERP's zone), never before where
            # this one started: a date column may hold the server's own local day while its clock
            # is read in another zone (UTC date-times, Brasilia dates: at 22:00 in Sao Paulo the
            # snapshot's day is already tomorrow, and a price changed at 22:30, dated today, sat
            # behind the watermark until the daily sweep), as the dated branch above keeps the day
            # before. A first read (from nothing) that found nothing leaves no watermark: the next
            # one is whole again, as cheap while there is nothing, and misses no row however dated.
            day = _day_start(self.snapshot, zone) - timedelta(days=1)
            self.snapshot = max(self.since, day) if self.since is not None else None
        short = coverage.problem(self.total)
        if short is not None:
            raise ErpUnexpectedShape(self.endpoint, self._names.envelope["total"], short, self.total)
        unchecked = self._plan.unchecked if self._plan is not None else 0
        self.unsure = coverage.doubt(self.total) or (
            f"{unchecked} page(s) asked by number went unchecked (a row that left the read mid-way may "
            f"have pushed another past a page boundary)" if unchecked else None
        )  # fmt: skip
        self.complete = True
        logger.debug("consinco: read %s: %s records, %s dropped, %s pages", self.endpoint, self.yielded,
                     self.dropped, self.pages)  # fmt: skip

    def _pages(self) -> Iterator[_Page[T]]:
        """The pages in order, parsed (in the prefetch worker: the next request may depend on the
        change times of this page, see PagePlan); the snapshot and total are set from the first."""
        env = self._names.envelope
        started = self._clock()
        plan = self._plan = PagePlan(self.read_from, self._look)
        cursor: str | None = None
        cursors: set[str] = set()
        unit = self.page_size  # the page size the server serves (it may cap the one asked)
        empty = 0  # pages in a row with no record that say more follow
        while True:
            body = f.obj(self._fetch(self._params(plan, cursor)), self.endpoint, "(envelope)")
            self.pages += 1
            page = self._parse_page(body)
            count = len(page.items)
            if self.pages == 1:
                given = f.opt_when(body, env["snapshot"], self.endpoint, self._names.zone)
                self._erp_snapshot = given is not None
                self.snapshot = given or started  # pins the pages (a parameter); not the watermark then
                self.total = f.opt_int(body, env["total"], self.endpoint)
                said = f.opt_int(body, env["page_size"], self.endpoint)
                unit = plan.unit = min(n for n in (self.page_size, said, count) if n is not None and n > 0)
            if cursor is not None or body.get(env["next_cursor"]) is not None:
                plan.by_cursor(count)
            elif not plan.keep(page.marks, count):  # dropped: the plan asks another page instead
                self._log_order(plan.why)
                self._guard_pages(unit, plan.shifts)
                continue
            if env["has_next"] in body:
                has_next = f.flag(body, env["has_next"], self.endpoint, default=False)
            else:
                has_next = self._more_without_flag(body, count, plan.served)
                total = f.opt_int(body, env["total"], self.endpoint)
                page.ends_at_total = not has_next and total is not None and plan.served >= total
            empty = empty + 1 if has_next and not count else 0
            if empty >= REPEATED_PAGES:  # (no total to guard the count of pages by, or one that lies)
                raise ErpUnexpectedShape(self.endpoint, env["has_next"],
                                         f"is true on {empty} pages in a row with no records: the server "
                                         "is not moving on", f"page {self.pages}")  # fmt: skip
            if has_next:  # the next request, before this page is handed on
                next_cursor = f.opt_str(body, env["next_cursor"], self.endpoint)
                if next_cursor is not None:
                    if next_cursor in cursors:
                        raise ErpUnexpectedShape(self.endpoint, env["next_cursor"],
                                                 "repeats a cursor of this read (the pages loop)",
                                                 next_cursor)  # fmt: skip
                    cursors.add(next_cursor)
                    cursor = next_cursor
                    plan.advance()  # (the page a server that drops its cursor is asked for)
                else:
                    cursor = None
                    self._log_order(plan.why)
                    plan.advance()
                    self._guard_pages(unit, plan.shifts)
            yield page
            if not has_next:
                return

    def _params(self, plan: PagePlan, cursor: str | None) -> dict[str, Any]:
        """The next request's query: the filters, PageSize, and where it starts (a cursor, or
        DtaHorAlteracao and Page); DtaHorSnapshot from page 2 on."""
        par, zone = self._names.params, self._names.zone
        params = dict(self.filters)
        params[par["page_size"]] = self.page_size
        if plan.since is not None:
            params[par["since"]] = f.iso(plan.since, zone)
        if cursor is not None:
            params[par["cursor"]] = cursor
        elif plan.page > 1 or plan.restarted:
            params[par["page"]] = plan.page
        if self.pages and self.snapshot is not None:
            params[par["snapshot"]] = f.iso(self.snapshot, zone)
        return params

    def _items(self, body: dict[str, Any]) -> list[Any]:
        """The envelope's records ([] when it lists none). An envelope without its `items` is no
        page, never an empty one: read so, it would end the read complete and its snapshot would
        move the watermark past every row not served yet (pages 2..n of a read cut off mid-way).

        A body with the ERP's error fields instead (a gateway wrapping a failure in HTTP 200, an
        ORA-01555 "snapshot too old" on a long read) is ErpTransient with the ERP's words: the
        status that would tell a refusal from a failure is lost, and a read tried again costs
        nothing (the watermark stays). Any other body is a shape this client cannot read."""
        key = self._names.envelope["items"]
        if key in body:
            return f.seq(body, key, self.endpoint)
        e = self._names.error
        mensagem, codigo = _short(body.get(e["mensagem"])), _short(body.get(e["codigo"]))
        if mensagem is None and codigo is None:
            raise ErpUnexpectedShape(self.endpoint, key, "is missing from the envelope", body)
        said = mensagem or codigo
        raise ErpTransient(f"Consinco {self.endpoint} answered HTTP 200 with an error, not a page: {said}",
                           status=200, codigo=codigo, endpoint=self.endpoint, maybe_taken=False).worded(
            "erp_answered", endpoint=self.endpoint, status=200, message=said)  # fmt: skip

    def _parse_page(self, body: dict[str, Any]) -> _Page[T]:
        items = self._items(body)
        page: _Page[T] = _Page(body, items)
        for raw in items:
            try:
                record = self._parse(raw)
            except ErpUnexpectedShape as exc:
                if not self.keep_malformed or isinstance(exc, ErpFilterIgnored):
                    raise
                page.malformed.append((raw, exc))
                page.marks.append(raw)
                continue
            page.records.append(record)
            page.keys.append((self._key(record), self._changed(record)))
            page.marks.append(page.keys[-1])
        return page

    def _look(self, since: datetime | None, offset: int) -> Any:
        """The row at `offset` of the request from `since` (PageSize=1, Page=offset+1): its mark
        (as _parse_page's), None past the end; UNCHECKED if the server serves more than asked, or
        refuses to serve one row alone."""
        par, zone = self._names.params, self._names.zone
        params = {**self.filters, par["page_size"]: 1, par["page"]: offset + 1}
        if since is not None:
            params[par["since"]] = f.iso(since, zone)
        if self.snapshot is not None:
            params[par["snapshot"]] = f.iso(self.snapshot, zone)
        self.looks += 1
        try:
            body = f.obj(self._fetch(params), self.endpoint, "(envelope)")
        except ErpRejected as exc:  # a minimum PageSize, say: the pages go unchecked, as before the check
            if type(exc) is not ErpRejected:  # (a login or address refused: no paging matter)
                raise
            why = f"refuses {par['page_size']}=1 ({exc.mensagem})"
        else:
            items = self._items(body)
            if len(items) <= 1:
                page = self._parse_page(body)
                return page.marks[0] if page.marks else None
            why = f"serves {len(items)} records for {par['page_size']}=1"
        self._warn("look", f"{why}: pages asked by number go unchecked (a row changed mid-read may push "
                   f"another past a page boundary, lost)")  # fmt: skip
        return UNCHECKED

    def _guard_pages(self, unit: int, shifts: int) -> None:
        """A server that says there is more for ever: stopped past twice the pages the first
        page's total needs (each request counts: one restarted at a change time too), and two
        more per shift found (PagePlan: one page dropped, one asked again), one per row at most."""
        asked = self.pages + 1
        if self.total is not None and asked > -(-self.total // unit) * 2 + 2 + 2 * min(shifts, self.total):
            raise ErpUnexpectedShape(self.endpoint, self._names.envelope["has_next"],
                                     f"is still true at page {asked} of a read of {self.total} records",
                                     True)  # fmt: skip

    def _log_order(self, why: str | None) -> None:
        """Once per read: why the rest of it goes by page number (PagePlan.why)."""
        if why is not None and not self._order_logged:
            self._order_logged = True
            self._warn("order", f"{why}: paging by page number for the rest of the read")

    def _warn(self, kind: str, message: str) -> None:
        """Warned once per endpoint and kind in this process; the rest at info (a flow reads
        every few minutes)."""
        level = logging.INFO if (self.endpoint, kind) in _WARNED else logging.WARNING
        _WARNED.add((self.endpoint, kind))
        logger.log(level, "consinco: %s %s", self.endpoint, message)

    def _more_without_flag(self, body: dict[str, Any], count: int, served: int) -> bool:
        """No `hasNext` in the envelope: whether to ask for the next page, never stopping short.

        A server may cap PageSize below the size asked (100 of 500) and say so only in the
        envelope's `pageSize`, or not at all: a page shorter than asked is no end while `total`
        says rows remain. So: go on while fewer records than `total` came (when given), or while
        the page is full against the envelope's `pageSize` (when given; else the size asked). An
        empty page ends the read (rows that left the window mid-read make `total` unreachable).
        """
        if count == 0:
            return False
        total = f.opt_int(body, self._names.envelope["total"], self.endpoint)
        if total is not None and served < total:
            return True
        said = f.opt_int(body, self._names.envelope["page_size"], self.endpoint)
        return count >= (said if said is not None and said > 0 else self.page_size)


def _day_only(moment: datetime, zone: tzinfo) -> bool:
    """A change time at midnight sharp in the ERP's zone: a date column (DTA, not DTAHOR) served
    as a date alone ("2026-11-28", read as midnight by fields.when) or with a zero time, unless the
    read sees a time of day too (ChangeRead._record_pages): then it is a date-time at midnight."""
    if moment.microsecond or moment.second:
        return False
    local = moment if zone is UTC else moment.astimezone(zone)
    if local.hour == 0 and local.minute == 0:
        return True
    if local.minute or local.hour != 1 or zone is UTC:
        return False
    # A midnight the clock skipped (Brazil's summer time began at 00:00 until 2018: 2018-11-04's
    # midnight reads back as 01:00) is still the day's start: compared as an instant.
    return moment == _day_start(moment, zone)


def _day_start(moment: datetime, zone: tzinfo) -> datetime:
    """The start of `moment`'s day in `zone`, as UTC."""
    return moment.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


class _Coverage:
    """Whether a read without `hasNext` ended short of the `total` it announced, unexplained.

    Fewer records than `total` is normal when rows left the window mid-read (the contract's
    keyset paging: the last page comes back short, then nothing) or when `total` counts more
    than the window. What no such reason explains: pages shorter than the size asked (the server
    caps PageSize), the last of them as full as the first (the envelope's `pageSize`, else page
    1), then nothing more. That server stopped serving (an offset computed from the size asked, a
    Page it ignores); marked complete, the rest of the window would be lost for good.
    """

    def __init__(self, asked: int, names: Names, endpoint: str) -> None:
        self.asked = asked
        self.envelope = names.envelope
        self.endpoint = endpoint
        self.fresh = 0  # records served, repeats within the read left out
        self.full: int | None = None  # a full page's size, from the first page
        self.last = 0  # records in the last page that had any
        self.capped = False  # a page with records came back shorter than asked
        self.whole = False  # a page came back as full as asked: the server serves the size asked
        self.flagless = False  # the last envelope had no hasNext
        # the last page held the rest of its own request's `total` (a restarted request's, whose
        # window rows left mid-read: fewer than the first page announced, yet the end proven)
        self.attested = False

    def note(self, body: dict[str, Any], items: list[Any], repeated: int) -> None:
        count = len(items)
        self.fresh += count - repeated
        self.flagless = self.envelope["has_next"] not in body
        if count:
            if self.full is None:
                said = f.opt_int(body, self.envelope["page_size"], self.endpoint)
                self.full = said if said is not None and said > 0 else count
            self.last = count
            self.capped = self.capped or count < self.asked
            self.whole = self.whole or count >= self.asked

    def doubt(self, total: int | None) -> str | None:
        """Why a read that ended without error may still have stopped early, or None.

        The end is attested by the last envelope's `hasNext`, by `total` reached, or, with
        neither, by a page shorter than a size the server is known to serve: one page came as
        full as asked. Otherwise (every page shorter than asked, no `hasNext`, `total` not
        reached) the client cannot tell the end of the rows from a server that caps PageSize and
        stops, or pages by the size asked (a single short page 1 of a small table looks the same).
        The read stays complete (an incremental read of a few rows is one such page: held back,
        it would be read for ever), but proves no row missing from it absent.
        """
        if not self.flagless or self.whole or self.attested or (total is not None and self.fresh >= total):
            return None
        said = "no" if total is None else f"{total} announced, {self.fresh} served,"
        return (
            f"no {self.envelope['has_next']}, {said} pages shorter than the {self.asked} "
            f"asked: the end of the rows cannot be told from a server capping its pages"
        )

    def problem(self, total: int | None) -> str | None:
        """Why the read cannot count as complete, or None."""
        if not self.flagless or total is None or self.fresh >= total or self.attested:
            return None
        if not self.capped or self.full is None or self.last < self.full:
            return None
        return (f"announced {total} records but the read ended after {self.fresh}: pages of "
                f"{self.last} where {self.asked} were asked, no {self.envelope['has_next']}, then "
                f"nothing: the server caps PageSize and stopped serving (does it page by the size "
                f"asked?). Nothing was marked read; check the ERP's paging, or map its has-next "
                f"flag in CONSINCO_FIELD_MAP envelope.has_next")  # fmt: skip

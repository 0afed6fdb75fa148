"""Where the next page of a read without cursor starts: by change time, or by page number.

TDN documents `DtaHorAlteracao`, `Page` and `PageSize` only: a real installation most likely
pages by OFFSET over rows ordered by change time. Then `Page=n+1` is unsafe: a row served on an
earlier page that changes mid-read leaves its slot (its new time is past the snapshot, or later in
the order), every later row moves up one, and the first row of the next page is never served; its
change time is behind the new watermark, so the next read misses it too (MRL_PRODUTOEMPRESA's
DTAALTERACAO moves with every sale). Continuing by change time is immune: the next request asks
`DtaHorAlteracao` = the newest change time served (inclusive) with `Page=1`; the rows it serves
again at exactly that (key, change time) are the tail of the page before, which the read drops.

Where page numbers are still needed, each page asked by number is checked against a shift:
- a run of rows sharing one change time (a DTA column's day, a bulk import's second): while every
  row of the current request's window served so far has the same time, restarting at that time
  would serve the same page again, so it goes on with `Page=n+1` (same `DtaHorAlteracao`). After
  such a page comes, the last row of the page before is asked again alone (`PageSize=1`,
  `Page=n*p`: offset n*p-1, p the page size served). The same (key, change time) there: nothing
  left ahead of it between the two pages (rows of a run only leave it, or only enter it: a slot
  kept over a time span was kept all along), so the page follows on. Anything else: rows left,
  the page may have jumped over some; it is dropped and the page before asked again (then the
  one before that, until one holds a row of the last two pages kept, or page 1), whose rows past
  the old boundary are the ones that slid back (its repeats are dropped by the read), and the
  read goes on from there;
- a server that orders otherwise (by key, or not at all): the continuation is only right if rows
  come in change-time order, so each page is checked (non-decreasing change times, none before the
  `DtaHorAlteracao` a restart asked). Once one is not, the rest of the read goes by page number,
  unchecked (offset paging over a key order is stable for rows that change: they keep their slot).
  Disorder on any page of a restarted request drops that page, unseen, and the read's first
  request goes on with its next page: the restart may have filtered rows out (those changed before
  its `DtaHorAlteracao`); rows it served may come again;
- a server whose `DtaHorAlteracao` is exclusive (`>`): a restart's first page must serve again at
  least one row of the page before at exactly the time it restarted from. None: the rows sharing
  that time and not served yet may have been filtered out, so that page is dropped and the read's
  first request goes on by page number (checked as a run's pages are) for the rest of the read.

Pages asked by number and taken unchecked are counted (`unchecked`): the read they belong to
cannot prove a row absent (erp.paging.ChangeRead.unsure).

What a page cannot show: a server ordering by key whose pages happen to come in change-time order
as well (keys and change times rising together) is taken for a change-time order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A row as the plan knows it: (key, change time) when parsed; else its raw item (compared, never hashed).
Mark = Any
UNCHECKED = object()  # what `look` answers when the server cannot serve one row alone
Look = Callable[[datetime | None, int], Mark]  # the row at an offset of a request: its mark (None: none)


@dataclass
class _Request:
    """One request of the read: its `DtaHorAlteracao`, the page asked, what its pages served."""

    since: datetime | None
    restarted: bool = False  # `since` is a change time served by this read (Page=1 sent)
    page: int = 1
    served: int = 0  # rows of the request's window up to the end of the last page kept
    last: list[Mark] = field(default_factory=list)  # the marks of the last page kept, in order
    before: set[Hashable] = field(default_factory=set)  # the (key, time) of the page kept before it
    oldest: datetime | None = None  # of the window's records so far
    newest: datetime | None = None


class PagePlan:
    """The current request of a read without cursor, and the next one."""

    def __init__(self, since: datetime | None, look: Look | None = None, unit: int = 0) -> None:
        self.request = _Request(since)
        self.by_time = True  # False: page numbers for the rest of the read
        self.ordered = True  # the pages so far came in change-time order: pages asked by number are checked
        self.why: str | None = None  # why pages are no longer continued by change time
        self.unit = unit  # the page size the server serves
        self.shifts = 0  # pages found shifted (each needs a row that left, or came, ahead of them)
        # Pages asked by number taken unchecked (a server that cannot serve one row alone, or
        # that orders otherwise): a row that left the window mid-read may have pushed another,
        # unchanged, past a page boundary: the read proves no row's absence (ChangeRead.unsure).
        self.unchecked = 0
        self._look = look
        self._stepping = False  # a page was found shifted: going back until one is anchored
        self._first: _Request | None = None  # the read's first request, where its first restart left it
        self._at_since: set[Hashable] = set()  # rows served at the change time a restart asked

    @property
    def since(self) -> datetime | None:
        return self.request.since

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def restarted(self) -> bool:
        return self.request.restarted

    @property
    def served(self) -> int:
        return self.request.served

    def by_cursor(self, count: int) -> None:
        """A page of a cursor read: it is the server's to continue (nothing checked)."""
        self.by_time = self.ordered = False
        self.request.served += count

    def keep(self, marks: Sequence[Mark], count: int) -> bool:
        """Note the page just served (`marks`: its rows' (key, change time) in order; `count`: its
        rows). False: a page to drop, unseen; the plan has moved to the request to ask instead (the
        read's first request, or the page before this one)."""
        req = self.request
        times = [mark[1] for mark in marks if isinstance(mark, tuple)]
        known = [moment for moment in times if moment is not None]
        if self.ordered and len(known) < len(times):
            self.by_time = self.ordered = False  # a listing without change times (setup): nothing to go by
        elif self.ordered and known:
            # (compared with the last page kept: after a step back, pages read before come again)
            latest = next((mark[1] for mark in reversed(req.last) if isinstance(mark, tuple)), None)
            problem = self._disorder(known, None if self._stepping else latest)
            if problem is not None:
                self.by_time = self.ordered = self._stepping = False
                self.why = f"does not serve its pages in change-time order ({problem})"
                if req.restarted:
                    return self._resume()
        if req.restarted and req.page == 1 and not self._stepping and not self._at_since & set(_known(marks)):
            self.by_time = False
            self.why = (f"serves no row again at {req.since.isoformat() if req.since else None}, the "
                        f"change time a request restarted from (is its DtaHorAlteracao exclusive, > and "
                        f"not >=?)")  # fmt: skip
            return self._resume()
        # A page asked again after a shift does not move the window's times: a row changed since,
        # kept in its slot by a server ordering by key, would pass for the newest change served.
        asked_again = self._stepping
        if self.ordered and not self._follows_on(marks):
            return False
        if not self.ordered and req.page > 1:
            self.unchecked += 1
        req.served = (req.page - 1) * self.unit + count
        req.before, req.last = set(_known(req.last)), list(marks)
        if self.ordered and known and not asked_again:
            req.oldest = known[0] if req.oldest is None else min(req.oldest, known[0])
            req.newest = known[-1] if req.newest is None else max(req.newest, known[-1])
        return True

    def advance(self) -> None:
        """Move to the next request: restart at the newest change time served when the request's
        window so far spans more than one change time; else (a run, or page numbers) the next
        page of the same request."""
        req = self.request
        newest, oldest = req.newest, req.oldest
        if self.by_time and newest is not None and oldest is not None and newest > oldest:
            if not req.restarted:
                self._first = req
            self._at_since = {mark for mark in _known(req.last) if mark[1] == newest}
            self.request = _Request(newest, restarted=True)
        else:
            req.page += 1

    def _follows_on(self, marks: Sequence[Mark]) -> bool:
        """Whether a page asked by number follows on from the page kept before it (see the module's
        docstring); if not, the plan steps back a page."""
        req = self.request
        if self._stepping:  # anchored: it holds a row of the last two pages kept (or starts the window)
            if req.page == 1 or (req.before | set(_known(req.last))) & set(_known(marks)):
                self._stepping = False
                return True
        elif req.page == 1 or not req.last or len(req.last) < self.unit:
            return True
        elif self._look is None:
            self.unchecked += 1
            return True
        else:
            seen = self._look(req.since, (req.page - 1) * self.unit - 1)
            if seen is UNCHECKED:
                self._look = None  # cannot tell: pages follow by number, unchecked (as before)
                self.unchecked += 1
                return True
            if seen == req.last[-1]:
                return True
            self._stepping, self.shifts = True, self.shifts + 1
        req.page -= 1
        return False

    def _resume(self) -> bool:
        """Drop the page: the read's first request goes on with its next page, by number."""
        first = self._first
        if first is None:  # (a restarted request always follows the first)
            raise RuntimeError("a restarted request without the read's first request")
        self.by_time, self._stepping = False, False
        first.page += 1
        self.request = first
        return False

    def _disorder(self, times: Sequence[datetime], previous: datetime | None) -> str | None:
        req = self.request
        for moment in times:
            if previous is not None and moment < previous:
                return (f"a record changed at {moment.isoformat()} comes after one changed at "
                        f"{previous.isoformat()}")  # fmt: skip
            if req.restarted and req.since is not None and moment < req.since:
                return (f"a record changed at {moment.isoformat()} comes in a read of changes since "
                        f"{req.since.isoformat()}")  # fmt: skip
            previous = moment
        return None


def _known(marks: Sequence[Mark]) -> list[tuple[Hashable, datetime | None]]:
    """The marks of parsed rows (the others are raw items: unhashable, never a repeat)."""
    return [mark for mark in marks if isinstance(mark, tuple)]

"""Where the next page of a read without cursor starts: by change time, or by page number.

TDN documents `DtaHorAlteracao`, `Page` and `PageSize` only: a real installation most likely
pages by OFFSET over rows ordered by change time. Then `Page=n+1` is unsafe: a row served on an
earlier page that changes mid-read leaves its slot (its new time is past the snapshot, or later in
the order), every later row moves up one, and the first row of the next page is never served; its
change time is behind the new watermark, so the next read misses it too (MRL_PRODUTOEMPRESA's
DTAALTERACAO moves with every sale). Continuing by change time is immune: the next request asks
`DtaHorAlteracao` = the newest change time served (inclusive) with `Page=1`; the rows it serves
again at exactly that (key, change time) are the tail of the page before, which the read drops.

Two exceptions, both back to page numbers:
- a run of rows sharing one change time: while every row of the current request's window served
  so far has the same time (a run longer than a page, or a DTA column's single day), restarting at
  that time would serve the same page again, so it goes on with `Page=n+1` (same `DtaHorAlteracao`);
- a server that orders otherwise (by key, or not at all): the continuation is only right if rows
  come in change-time order, so each page is checked (non-decreasing change times, none before the
  `DtaHorAlteracao` a restart asked). Once one is not, the rest of the read goes by page number
  (offset paging over a key order is stable for rows that change: they keep their slot). A
  restart's first page found out of order is dropped, unseen, and the request it restarted from
  goes on with its next page: nothing is skipped (the restart may have filtered rows out) and
  nothing comes twice.

What a page cannot show: a server ordering by key whose pages happen to come in change-time order
as well (keys and change times rising together) is taken for a change-time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class PagePlan:
    """The current request (`since`, `page`) of a read without cursor, and the next one."""

    def __init__(self, since: datetime | None) -> None:
        self.since = since  # the request's DtaHorAlteracao (None: none sent)
        self.page = 1
        self.restarted = False  # `since` is a change time served by this read (Page=1 sent)
        self.by_time = True  # False: page numbers for the rest of the read
        self.why: str | None = None  # why pages are no longer continued by change time
        self.served = 0  # records the current request's window served so far (repeats included)
        self._oldest: datetime | None = None  # of the window's records so far
        self._newest: datetime | None = None
        # the request a restart left: (since, page, served, restarted)
        self._resume: tuple[datetime | None, int, int, bool] | None = None

    def keep(self, times: Sequence[datetime | None], count: int) -> bool:
        """Note the page just served (`times`: its records' change times in order; `count`: its
        rows). False: a restart's first page out of order, to drop; the read resumes the request
        it restarted from (`advance` then asks for that one's next page)."""
        known = [moment for moment in times if moment is not None]
        if self.by_time and len(known) < len(times):
            self.by_time = False  # a listing without change times (setup): nothing to go by
        elif self.by_time and known:
            problem = self._disorder(known)
            if problem is not None:
                self.by_time, self.why = False, problem
                if self.restarted and self.page == 1 and self._resume is not None:
                    self.since, self.page, self.served, self.restarted = self._resume
                    return False
            else:
                self._oldest = known[0] if self._oldest is None else self._oldest
                self._newest = known[-1]
        self.served += count
        return True

    def advance(self) -> None:
        """Move to the next request: restart at the newest change time served when the request's
        window so far spans more than one change time; else (a run, or page numbers) the next
        page of the same request."""
        newest, oldest = self._newest, self._oldest
        if self.by_time and newest is not None and oldest is not None and newest > oldest:
            self._resume = (self.since, self.page, self.served, self.restarted)
            self.since, self.page, self.served, self.restarted = newest, 1, 0, True
            self._oldest = self._newest = None
        else:
            self.page += 1

    def _disorder(self, times: Sequence[datetime]) -> str | None:
        previous = self._newest
        for moment in times:
            if previous is not None and moment < previous:
                return (f"a record changed at {moment.isoformat()} comes after one changed at "
                        f"{previous.isoformat()}")  # fmt: skip
            if self.restarted and self.since is not None and moment < self.since:
                return (f"a record changed at {moment.isoformat()} comes in a read of changes since "
                        f"{self.since.isoformat()}")  # fmt: skip
            previous = moment
        return None

"""Paged, incremental reads: the envelope loop, the overlap window and its de-duplication.

The contract (docs/consinco-api.md section 3): page 1 fixes `dtaHorSnapshot`; later pages echo
`nextCursor` (or `Page` + `DtaHorSnapshot` when the server gives no cursor); `DtaHorAlteracao`
is inclusive. Reads start `overlap` before the caller's watermark so a clock skew between the
ERP's writers and its snapshot cannot hide a row: rows may come twice across runs, never be
missed. `ChangeRead.snapshot` is the next watermark; `ChangeRead.boundary` lists the (key,
change time) pairs the next read will see again, and passing it back as `skip` drops them.

Within one read a page boundary served twice (an inclusive cursor, offset paging on an older
server) is dropped by remembering the keys of the current and previous page: bounded memory even
for a 500,000-row initial load. Keys include the change time, so a row changed again is new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from erp import fields as f
from erp.errors import ErpUnexpectedShape
from erp.names import Names

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[Hashable, datetime | None]
FetchPage = Callable[[dict[str, Any]], Any]


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
        self.snapshot: datetime | None = None
        self.total: int | None = None
        self.pages = 0
        self.yielded = 0
        self.dropped = 0
        self.complete = False
        self.boundary: set[Key] = set()

    def __iter__(self) -> Iterator[T]:
        if self.pages:
            raise RuntimeError("a ChangeRead is consumed once: ask the client for a new read")
        return self._records()

    def _records(self) -> Iterator[T]:
        env, par = self._names.envelope, self._names.params
        params = dict(self.filters)
        params[par["page_size"]] = self.page_size
        if self.read_from is not None:
            params[par["since"]] = f.iso(self.read_from)
        started = self._clock()
        boundary_from: datetime | None = None
        previous: set[Key] = set()
        current: set[Key] = set()
        page, cursor = 1, None
        while True:
            body = f.obj(self._fetch(params), self.endpoint, "(envelope)")
            self.pages += 1
            if self.pages == 1:
                self.snapshot = f.opt_when(body, env["snapshot"], self.endpoint) or started
                boundary_from = self.snapshot - self.overlap
                self.total = f.opt_int(body, env["total"], self.endpoint)
            previous, current = current, set()
            for raw in f.seq(body, env["items"], self.endpoint):
                record = self._parse(raw)
                changed = self._changed(record)
                k = (self._key(record), changed)
                if changed is not None and boundary_from is not None and changed >= boundary_from:
                    self.boundary.add(k)  # seen (yielded now or by an earlier read): the next read skips it
                if k in current or k in previous or k in self._skip:
                    self.dropped += 1
                    continue
                current.add(k)
                self.yielded += 1
                yield record
            if not f.flag(body, env["has_next"], self.endpoint, default=False):
                break
            next_cursor = f.opt_str(body, env["next_cursor"], self.endpoint)
            if next_cursor is not None:
                if next_cursor == cursor:
                    raise ErpUnexpectedShape(self.endpoint, env["next_cursor"], "repeats the previous cursor",
                                             next_cursor)  # fmt: skip
                cursor = next_cursor
                params.pop(par["page"], None)
                params[par["cursor"]] = cursor
            else:
                page += 1
                params[par["page"]] = page
            params[par["snapshot"]] = f.iso(self.snapshot)
        self.complete = True
        logger.debug("consinco: read %s: %s records, %s dropped, %s pages", self.endpoint, self.yielded,
                     self.dropped, self.pages)  # fmt: skip

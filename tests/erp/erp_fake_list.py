"""A fake Consinco list endpoint with rows of its own, for reads over several pages and reads.

It serves the window `DtaHorAlteracao <= change time <= dtaHorSnapshot` (`<` with `exclusive`: a
server whose DtaHorAlteracao means "changed after"), ordered by (change time,
key) (or by key alone: `order="key"`), and compares change times as it stores them: a date alone
("2026-11-28") is a DTA column's day, before any time of that day, as the ERP's SQL would see it.
Its envelope can leave out `hasNext`, `pageSize` or `total`, and it can cap PageSize and page in
four ways: `keyset` (the contract: continue after the last row served), `offset` by the page size
served (what TDN's Page / PageSize suggest), or `offset_asked`: an offset from the size asked,
while serving fewer (a capping server's bug), or `page_ignored`: page 1 every time (a renamed Page
parameter is ignored, not refused). Keyset continues a page it served with the same size; any
other page (a row asked alone, PageSize=1) is taken by offset, as the sandbox does.
`between_pages(n)` runs before it serves its n-th request (n > 1): the ERP's day going on mid-read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlsplit


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class FakeList:
    def __init__(
        self,
        key_fields: tuple[str, ...],
        changed_field: str,
        *,
        max_page: int = 1000,
        paging: str = "keyset",
        order: str = "time",
        leave_out: tuple[str, ...] = (),
        exclusive: bool = False,
    ) -> None:
        self.rows: dict[tuple, dict] = {}
        self.key_fields, self.changed_field = key_fields, changed_field
        self.max_page, self.paging, self.order, self.leave_out = max_page, paging, order, leave_out
        self.exclusive = exclusive  # DtaHorAlteracao compared by `>` (changed after it), not `>=`
        self.now = datetime(2026, 11, 28, 10, 0)  # the ERP's clock: each read's snapshot
        self.between_pages: Callable[[int], None] | None = None  # runs before serving request n > 1
        self.requests: list[dict[str, str]] = []
        self._after: dict[tuple, tuple] = {}  # (snapshot, since, size, page) -> sort key of the last row

    def put(self, row: dict) -> None:
        self.rows[tuple(row[k] for k in self.key_fields)] = row

    def _sort_key(self, row: dict) -> tuple:
        key = tuple(row[k] for k in self.key_fields)
        return key if self.order == "key" else (_time(row[self.changed_field]), *key)

    def __call__(self, request, context) -> dict:
        q = {k.lower(): v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.requests.append(q)
        page, asked = int(q.get("page", 1)), int(q.get("pagesize", 100))
        if len(self.requests) > 1 and self.between_pages:
            self.between_pages(len(self.requests))
        if self.paging == "page_ignored":
            page = 1
        size = min(asked, self.max_page)
        snapshot = _time(q["dtahorsnapshot"]) if "dtahorsnapshot" in q else self.now
        since = _time(q["dtahoralteracao"]) if "dtahoralteracao" in q else None
        rows = sorted(
            (r for r in self.rows.values()
             if (since is None or _time(r[self.changed_field]) > since
                or (not self.exclusive and _time(r[self.changed_field]) == since))
             and _time(r[self.changed_field]) <= snapshot),
            key=self._sort_key,
        )  # fmt: skip
        after = self._after.get((snapshot, since, size, page - 1)) if self.paging == "keyset" else None
        if after is not None:
            chunk = [r for r in rows if self._sort_key(r) > after][:size]
        else:
            start = (page - 1) * (asked if self.paging == "offset_asked" else size)
            chunk = rows[start : start + size]
        if chunk:
            self._after[(snapshot, since, size, page)] = self._sort_key(chunk[-1])
        body = {
            "items": chunk,
            "page": page,
            "pageSize": size,
            "total": len(rows),
            "hasNext": len(rows) > (page - 1) * size + len(chunk),
            "dtaHorSnapshot": snapshot.isoformat(timespec="microseconds"),
        }
        return {k: v for k, v in body.items() if k not in self.leave_out}

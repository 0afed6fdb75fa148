"""Stable, incremental paging shared by every GET list endpoint.

A read is the window `since <= change time <= snapshot`, ordered by (change time, key).
The first page fixes the snapshot (see `Store.snapshot`), so rows written during the read
stay out of it. Later pages continue after the last (change time, key) served, carried in an
opaque cursor, or remembered by the server for `Page=n` requests, so a row updated
mid-read (it leaves the window) never shifts the other rows: nothing is skipped or repeated.

`offset=True` (the format switch `paginacaoOffset`, formats.py) pages as TDN's Page / PageSize
suggest a real installation does: plain OFFSET over the same order, no cursor, no memory of the
pages served, `total` counted per request. A row updated mid-read then moves every later row up
one, and the first row of the next page is never served to a client asking `Page=n+1`.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, DateTime, RowMapping, Select, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from sandbox.consinco.store import Store

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
ORDERS_KEPT = 8  # ordered-key lists of recent order_once reads kept (50,000 SKUs ~ 6 MB each)


class BadRequest(ValueError):
    """A query parameter the API refuses (answered 400 with `campo`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Resource:
    """One paged endpoint: its query, change time, ordering key, filters and record builder."""

    name: str
    query: Select
    changed: ColumnElement
    keys: tuple[ColumnElement, ...]
    filters: Mapping[str, ColumnElement]
    to_items: Callable[[Connection, Sequence[RowMapping]], list[dict[str, Any]]]
    # The change time is an expression no index can serve (ProdutoSku: the later of the product's
    # and the packaging's time), so a keyset page would sort the whole window again: order the
    # read's keys once per snapshot instead (see Pager._ordered_keys).
    order_once: bool = False


def format_time(value: dt.datetime | None) -> str | None:
    """YYYY-MM-DDTHH:MM:SS.ffffff (naive UTC); isoformat is several times faster than strftime."""
    return None if value is None else value.isoformat(timespec="microseconds")


def parse_time(value: str, field: str) -> dt.datetime:
    """ISO 8601; offsets and Z are converted to naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(field, f"Data/hora inválida em {field}: {value!r}.") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


class day_of(FunctionElement):  # lower case: an SQL function, named like one
    """The date-time truncated to its day (00:00): a Consinco DTA column (a date, where DTAHOR
    columns are date-times), compared, ordered and served as such."""

    type = DateTime()
    name = "day_of"
    inherit_cache = True


@compiles(day_of)
def _day_of(element: day_of, compiler: Any, **kw: Any) -> str:  # PostgreSQL
    return f"date_trunc('day', {compiler.process(element.clauses, **kw)})"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    # SQLite keeps a DateTime as text 'YYYY-MM-DD HH:MM:SS.ffffff': keep the date, zero the rest
    return f"(substr({compiler.process(element.clauses, **kw)}, 1, 10) || ' 00:00:00.000000')"


def _int_param(params: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = params.get(name.lower())
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise BadRequest(name, f"Parâmetro {name} deve ser inteiro.") from exc


def _page_params(params: Mapping[str, str]) -> tuple[int, int, dt.datetime | None]:
    """PageSize, Page and DtaHorAlteracao of a request, checked."""
    page_size = _int_param(params, "PageSize", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadRequest("PageSize", f"PageSize deve estar entre 1 e {MAX_PAGE_SIZE}.")
    page = _int_param(params, "Page", 1) or 1
    if page < 1:
        raise BadRequest("Page", "Page deve ser >= 1.")
    since_raw = params.get("dtahoralteracao")
    return page_size, page, parse_time(since_raw, "DtaHorAlteracao") if since_raw else None


def _window(
    resource: Resource, params: Mapping[str, str], since: dt.datetime | None, snapshot: dt.datetime
) -> tuple[list[ColumnElement[bool]], tuple[int | None, ...]]:
    """The read's window (since <= change time <= snapshot, filters) and the filter values."""
    window = [resource.changed <= snapshot]
    if since is not None:
        window.append(resource.changed >= since)
    values = []
    for name, column in resource.filters.items():
        value = _int_param(params, name, None)
        values.append(value)
        if value is not None:
            window.append(column == value)
    return window, tuple(values)


def _after(columns: Sequence[ColumnElement], values: Sequence[Any]) -> ColumnElement[bool]:
    """(c1, c2, ...) > (v1, v2, ...) spelled with AND/OR so every dialect binds types right.

    The redundant leading `c1 >= v1` lets the (change time, key) index start its range scan at
    the boundary instead of filtering the whole window row by row."""
    if len(columns) == 1:
        return columns[0] > values[0]
    return and_(columns[0] >= values[0], _strictly_after(columns, values))


def _strictly_after(columns: Sequence[ColumnElement], values: Sequence[Any]) -> ColumnElement[bool]:
    head, value = columns[0], values[0]
    if len(columns) == 1:
        return head > value
    return or_(head > value, and_(head == value, _strictly_after(columns[1:], values[1:])))


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return {"s": data["s"], "k": list(data["k"]), "p": int(data["p"])}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest("Cursor", "Cursor inválido.") from exc


class Pager:
    """Runs paged reads; remembers page boundaries so `Page=n` continues by keyset too."""

    def __init__(self, store: Store, remember: int = 20_000) -> None:
        self.store = store
        self._boundaries: OrderedDict[tuple, list[Any]] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        # Per read (resource, since, snapshot, filters): `total` and, for order_once resources,
        # the ordered keys. A snapshot's window only ever loses rows (later writes get later
        # times), so both stay valid for the whole read; rows are re-checked when served.
        self._totals: OrderedDict[tuple, int] = OrderedDict()
        self._orders: OrderedDict[tuple, list[tuple]] = OrderedDict()
        # Tests: runs before each page is served (resource name, parameters lower-cased), so the
        # ERP's day can go on between two pages of one read.
        self.before_page: Callable[[str, Mapping[str, str]], None] | None = None

    def read(
        self, resource: Resource, raw_params: Mapping[str, str], *, offset: bool = False
    ) -> dict[str, Any]:
        params = {k.lower(): v for k, v in raw_params.items()}
        if self.before_page is not None:
            self.before_page(resource.name, params)
        if offset:
            return self._read_by_offset(resource, params)
        page_size, page, since = _page_params(params)
        last: list[Any] | None = None
        if params.get("cursor"):
            cursor = _decode_cursor(params["cursor"])
            snapshot = parse_time(cursor["s"], "Cursor")
            last = [parse_time(cursor["k"][0], "Cursor"), *cursor["k"][1:]]
            page = cursor["p"]
        elif params.get("dtahorsnapshot"):
            snapshot = parse_time(params["dtahorsnapshot"], "DtaHorSnapshot")
        else:
            snapshot = self.store.snapshot()

        window, filter_values = _window(resource, params, since, snapshot)
        read_key = (resource.name, since, snapshot, filter_values)
        memo_key = (*read_key, page_size, page)
        if last is None and page > 1:
            with self._lock:
                last = self._boundaries.get(memo_key)

        with self.store.read() as conn:
            if resource.order_once:
                rows, boundary = self._page_from_order(
                    conn, resource, read_key, window, last, page, page_size
                )
                has_next = boundary is not None
            else:
                rows, has_next = self._page_by_keyset(conn, resource, window, last, page, page_size)
                boundary = None
                if has_next:
                    tail = rows[-1]
                    boundary = [tail["_changed"], *(tail[key.name] for key in resource.keys)]
            total = self._total(conn, resource, read_key, window)
            items = resource.to_items(conn, rows)

        next_cursor = None
        if has_next and boundary is not None:
            next_cursor = _encode_cursor(
                {"s": format_time(snapshot), "k": [format_time(boundary[0]), *boundary[1:]], "p": page + 1}
            )
            with self._lock:
                self._boundaries[(*memo_key[:-1], page + 1)] = list(boundary)
                while len(self._boundaries) > self._remember:
                    self._boundaries.popitem(last=False)
        return _envelope(items, page, page_size, has_next, total, snapshot, next_cursor)

    def _read_by_offset(self, resource: Resource, params: Mapping[str, str]) -> dict[str, Any]:
        """A page by plain OFFSET over (change time, key): no cursor (a `Cursor` sent is ignored,
        as any parameter the endpoint does not list), nothing remembered between requests."""
        page_size, page, since = _page_params(params)
        snapshot = (
            parse_time(params["dtahorsnapshot"], "DtaHorSnapshot")
            if params.get("dtahorsnapshot")
            else self.store.snapshot()
        )
        window, _ = _window(resource, params, since, snapshot)
        with self.store.read() as conn:
            rows, has_next = self._page_by_keyset(conn, resource, window, None, page, page_size)
            total = conn.execute(
                select(func.count()).select_from(resource.query.where(*window).subquery())
            ).scalar_one()
            items = resource.to_items(conn, rows)
        return _envelope(items, page, page_size, has_next, total, snapshot, None)

    @staticmethod
    def _page_by_keyset(
        conn: Connection, resource: Resource, window: list, last: list[Any] | None, page: int, page_size: int
    ) -> tuple[Sequence[RowMapping], bool]:
        query = resource.query.add_columns(resource.changed.label("_changed")).where(*window)
        if last is not None:
            query = query.where(_after([resource.changed, *resource.keys], last))
        elif page > 1:
            query = query.offset((page - 1) * page_size)
        query = query.order_by(resource.changed, *resource.keys).limit(page_size + 1)
        rows = conn.execute(query).mappings().all()
        return rows[:page_size], len(rows) > page_size

    def _page_from_order(
        self,
        conn: Connection,
        resource: Resource,
        read_key: tuple,
        window: list,
        last: list[Any] | None,
        page: int,
        page_size: int,
    ) -> tuple[list[RowMapping], tuple | None]:
        """One page of an order_once resource: slice the read's ordered keys, then fetch only
        those rows (by the first key column, an indexed lookup) still inside the window.

        A row updated mid-read has left the window and is not served (the page is shorter, the
        boundary still moves past its slot), exactly as the keyset query would skip it."""
        order = self._ordered_keys(conn, resource, read_key, window)
        start = bisect.bisect_right(order, tuple(last)) if last is not None else (page - 1) * page_size
        chunk = order[start : start + page_size]
        boundary = chunk[-1] if chunk and start + page_size < len(order) else None
        if not chunk:
            return [], None
        head = resource.keys[0]
        query = (
            resource.query.add_columns(resource.changed.label("_changed"))
            .where(*window)
            .where(head.in_(sorted({key[1] for key in chunk})))
        )
        names = [key.name for key in resource.keys]
        found = {
            (row["_changed"], *(row[name] for name in names)): row for row in conn.execute(query).mappings()
        }
        return [found[key] for key in chunk if key in found], boundary

    def _ordered_keys(
        self, conn: Connection, resource: Resource, read_key: tuple, window: list
    ) -> list[tuple]:
        """The read's (change time, key...) tuples in serving order, computed on its first page."""
        with self._lock:
            cached = self._orders.get(read_key)
        if cached is not None:
            return cached
        query = (
            resource.query.with_only_columns(resource.changed, *resource.keys)
            .where(*window)
            .order_by(resource.changed, *resource.keys)
        )
        order = [tuple(row) for row in conn.execute(query)]
        with self._lock:
            self._orders[read_key] = order
            while len(self._orders) > ORDERS_KEPT:
                self._orders.popitem(last=False)
        return order

    def _total(self, conn: Connection, resource: Resource, read_key: tuple, window: list) -> int:
        """Rows in the read's window, counted once per read (the window is fixed by its snapshot)."""
        with self._lock:
            cached = self._totals.get(read_key)
        if cached is not None:
            return cached
        total = conn.execute(
            select(func.count()).select_from(resource.query.where(*window).subquery())
        ).scalar_one()
        with self._lock:
            self._totals[read_key] = total
            while len(self._totals) > self._remember:
                self._totals.popitem(last=False)
        return total


def _envelope(
    items: list[Any],
    page: int,
    page_size: int,
    has_next: bool,
    total: int,
    snapshot: Any,
    next_cursor: str | None,
) -> dict[str, Any]:
    """One page as the API answers it (docs/consinco-api.md, the envelope)."""
    return {
        "items": items,
        "page": page,
        "pageSize": page_size,
        "hasNext": has_next,
        "total": total,
        "dtaHorSnapshot": format_time(snapshot),
        "nextCursor": next_cursor,
    }

"""Stable, incremental paging shared by every GET list endpoint.

A read is the window `since <= change time <= snapshot`, ordered by (change time, key).
The first page fixes the snapshot (see `Store.snapshot`), so rows written during the read
stay out of it. Later pages continue after the last (change time, key) served, carried in an
opaque cursor, or remembered by the server for `Page=n` requests, so a row updated
mid-read (it leaves the window) never shifts the other rows: nothing is skipped or repeated.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, and_, func, or_, select

from sandbox.consinco.store import Store

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


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


def format_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_time(value: str, field: str) -> dt.datetime:
    """ISO 8601; offsets and Z are converted to naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(field, f"Data/hora inválida em {field}: {value!r}.") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _int_param(params: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = params.get(name.lower())
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise BadRequest(name, f"Parâmetro {name} deve ser inteiro.") from exc


def _after(columns: Sequence[ColumnElement], values: Sequence[Any]) -> ColumnElement[bool]:
    """(c1, c2, ...) > (v1, v2, ...) spelled with AND/OR so every dialect binds types right."""
    head, value = columns[0], values[0]
    if len(columns) == 1:
        return head > value
    return or_(head > value, and_(head == value, _after(columns[1:], values[1:])))


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

    def read(self, resource: Resource, raw_params: Mapping[str, str]) -> dict[str, Any]:
        params = {k.lower(): v for k, v in raw_params.items()}
        page_size = _int_param(params, "PageSize", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise BadRequest("PageSize", f"PageSize deve estar entre 1 e {MAX_PAGE_SIZE}.")
        page = _int_param(params, "Page", 1) or 1
        if page < 1:
            raise BadRequest("Page", "Page deve ser >= 1.")
        since_raw = params.get("dtahoralteracao")
        since = parse_time(since_raw, "DtaHorAlteracao") if since_raw else None
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

        window = [resource.changed <= snapshot]
        if since is not None:
            window.append(resource.changed >= since)
        filter_values = []
        for name, column in resource.filters.items():
            value = _int_param(params, name, None)
            filter_values.append(value)
            if value is not None:
                window.append(column == value)
        memo_key = (resource.name, since, snapshot, tuple(filter_values), page_size, page)
        if last is None and page > 1:
            with self._lock:
                last = self._boundaries.get(memo_key)

        query = resource.query.add_columns(resource.changed.label("_changed")).where(*window)
        if last is not None:
            query = query.where(_after([resource.changed, *resource.keys], last))
        elif page > 1:
            query = query.offset((page - 1) * page_size)
        query = query.order_by(resource.changed, *resource.keys).limit(page_size + 1)

        with self.store.read() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(
                select(func.count()).select_from(resource.query.where(*window).subquery())
            ).scalar_one()
            has_next = len(rows) > page_size
            rows = rows[:page_size]
            items = resource.to_items(conn, rows)

        next_cursor = None
        if has_next:
            tail = rows[-1]
            boundary = [tail["_changed"], *(tail[key.name] for key in resource.keys)]
            next_cursor = _encode_cursor(
                {"s": format_time(snapshot), "k": [format_time(boundary[0]), *boundary[1:]], "p": page + 1}
            )
            with self._lock:
                self._boundaries[(*memo_key[:-1], page + 1)] = boundary
                while len(self._boundaries) > self._remember:
                    self._boundaries.popitem(last=False)
        return {
            "items": items,
            "page": page,
            "pageSize": page_size,
            "hasNext": has_next,
            "total": total,
            "dtaHorSnapshot": format_time(snapshot),
            "nextCursor": next_cursor,
        }

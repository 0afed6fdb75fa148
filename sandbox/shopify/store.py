"""SQLite document store: one JSON document per Shopify object plus indexed secondary keys.

Why documents: a GraphQL type reads its plain fields straight off the document, so adding a
field is adding a key. Why `doc_keys`: look-ups by sku / barcode / handle / custom id must stay
index hits on a 50,000-variant catalog. One connection, guarded by an RLock; a GraphQL request
runs inside `transaction()` so it commits (or rolls back) as a whole.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.shopify.gids import gid, kind_of, num_of

Doc = dict[str, Any]
_CHUNK = 500  # ids per IN (...) query, far below SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(shop TEXT, gid TEXT, kind TEXT, num INTEGER, doc TEXT,
  PRIMARY KEY(shop, gid));
CREATE INDEX IF NOT EXISTS docs_kind ON docs(shop, kind, num);
CREATE TABLE IF NOT EXISTS doc_keys(shop TEXT, gid TEXT, name TEXT, value TEXT);
CREATE INDEX IF NOT EXISTS doc_keys_lookup ON doc_keys(shop, name, value);
CREATE INDEX IF NOT EXISTS doc_keys_gid ON doc_keys(shop, gid);
CREATE TABLE IF NOT EXISTS shops(name TEXT PRIMARY KEY, doc TEXT);
CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, doc TEXT);
CREATE TABLE IF NOT EXISTS blobs(key TEXT PRIMARY KEY, data BLOB);
CREATE TABLE IF NOT EXISTS idempotency(shop TEXT, api_key TEXT, key TEXT, field TEXT, digest TEXT,
  result TEXT, PRIMARY KEY(shop, api_key, key, field));
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER);
"""


class Store:
    """The emulator's whole state."""

    def __init__(self, path: str = ":memory:") -> None:
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        # Bumped by every document write: a reader holding parsed documents (a request's memo,
        # `registry.Ctx.recall`) knows they are still what the store holds while it is unchanged.
        self.generation = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block atomically; nested calls join the outer transaction."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                    self.generation += 1
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def _exec(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self.lock:
            return self._db.execute(sql, params)

    # -- ids -------------------------------------------------------------------------------
    def next_num(self, name: str = "object") -> int:
        """A process-wide increasing number (ids are unique across shops, like Shopify's)."""
        with self.lock:
            row = self._db.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            value = (row[0] if row else 1000) + 1
            self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
            return value

    def new_gid(self, kind: str) -> str:
        return gid(kind, self.next_num())

    # -- documents -------------------------------------------------------------------------
    def get(self, shop: str, object_id: str | None) -> Doc | None:
        if not object_id:
            return None
        row = self._exec("SELECT doc FROM docs WHERE shop=? AND gid=?", (shop, object_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, shop: str, doc: Doc, keys: dict[str, Any] | None = None) -> Doc:
        """Insert or replace a document; `keys` (when given) replaces its secondary keys (a list
        value gives several rows under one name)."""
        object_id = doc["id"]
        kind = kind_of(object_id) or doc.get("__typename", "")
        with self.lock:
            self.generation += 1
            self._db.execute(
                "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)",
                (shop, object_id, kind, num_of(object_id) or 0, json.dumps(doc)),
            )
            if keys is not None:
                self._db.execute("DELETE FROM doc_keys WHERE shop=? AND gid=?", (shop, object_id))
                self._db.executemany(
                    "INSERT INTO doc_keys VALUES (?, ?, ?, ?)",
                    [
                        (shop, object_id, k, str(v))
                        for k, values in keys.items()
                        for v in (values if isinstance(values, list | tuple) else [values])
                        if v not in (None, "")
                    ],
                )
        return doc

    def get_many(self, shop: str, object_ids: Iterable[str | None]) -> dict[str, Doc]:
        """The documents among `object_ids` that exist, by id (one query per 500 ids)."""
        wanted = sorted({i for i in object_ids if i})
        found: dict[str, Doc] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._exec(f"SELECT gid, doc FROM docs WHERE shop=? AND gid IN ({marks})", (shop, *chunk))
            found.update((gid_, json.loads(doc)) for gid_, doc in rows.fetchall())
        return found

    def find_first_fields(
        self, shop: str, name: str, values: Iterable[str], paths: tuple[str, ...]
    ) -> dict[str, tuple[Any, ...]]:
        """For each value, the (gid, *fields at the JSON `paths`) of `find_one(shop, name, value)`
        (the lowest id), one query per 500 values: SQLite reads the fields out of the stored
        text, so no document is parsed in Python."""
        wanted = sorted({str(v) for v in values})
        columns = "".join(", json_extract(d.doc, ?)" for _ in paths)
        found: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._exec(
                f"SELECT k.value, d.gid{columns} FROM doc_keys k JOIN docs d ON d.shop=k.shop AND "
                f"d.gid=k.gid WHERE k.shop=? AND k.name=? AND k.value IN ({marks}) ORDER BY d.num DESC",
                (*paths, shop, name, *chunk),
            ).fetchall()
            found.update((row[0], tuple(row[1:])) for row in rows)  # the lowest num wins
        return found

    def set_fields(self, shop: str, updates: list[tuple[str, dict[str, Any]]]) -> None:
        """Set fields (JSON paths like `$.quantityValues.available`) inside existing documents,
        in SQLite (`json_set`), one statement for all: [(gid, {path: value})], the same paths
        for every document. Keys are untouched, so no keyed field may be set this way."""
        if not updates:
            return
        paths = list(updates[0][1])
        setters = ", ".join("?, ?" for _ in paths)
        rows = [
            (*(x for path in paths for x in (path, values[path])), shop, gid_) for gid_, values in updates
        ]
        with self.lock:
            self.generation += 1
            self._db.executemany(
                f"UPDATE docs SET doc = json_set(doc, {setters}) WHERE shop=? AND gid=?", rows
            )

    def delete(self, shop: str, object_id: str) -> None:
        with self.lock:
            self.generation += 1
            self._db.execute("DELETE FROM docs WHERE shop=? AND gid=?", (shop, object_id))
            self._db.execute("DELETE FROM doc_keys WHERE shop=? AND gid=?", (shop, object_id))

    def find(self, shop: str, name: str, value: str) -> list[Doc]:
        """Documents whose secondary key `name` equals `value`, in id order."""
        rows = self._exec(
            "SELECT d.doc FROM doc_keys k JOIN docs d ON d.shop=k.shop AND d.gid=k.gid "
            "WHERE k.shop=? AND k.name=? AND k.value=? ORDER BY d.num",
            (shop, name, str(value)),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def find_one(self, shop: str, name: str, value: str) -> Doc | None:
        found = self.find(shop, name, value)
        return found[0] if found else None

    def scan(self, shop: str, kind: str, after_num: int = 0, limit: int | None = None) -> list[Doc]:
        """Documents of one kind in id order, from `after_num` (exclusive)."""
        sql = "SELECT doc FROM docs WHERE shop=? AND kind=? AND num>? ORDER BY num"
        params: tuple = (shop, kind, after_num)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [json.loads(r[0]) for r in self._exec(sql, params).fetchall()]

    def count(self, shop: str, kind: str) -> int:
        return self._exec("SELECT COUNT(*) FROM docs WHERE shop=? AND kind=?", (shop, kind)).fetchone()[0]

    def drop_shop(self, shop: str) -> None:
        with self.lock:
            self.generation += 1
            for table in ("docs", "doc_keys", "idempotency"):
                self._db.execute(f"DELETE FROM {table} WHERE shop=?", (shop,))
            self._db.execute("DELETE FROM shops WHERE name=?", (shop,))

    # -- small tables ----------------------------------------------------------------------
    def get_row(self, table: str, key: str) -> Doc | None:
        column = "name" if table == "shops" else "token"
        row = self._exec(f"SELECT doc FROM {table} WHERE {column}=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_row(self, table: str, key: str, doc: Doc) -> None:
        self._exec(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (key, json.dumps(doc)))

    def all_rows(self, table: str) -> list[Doc]:
        return [json.loads(r[0]) for r in self._exec(f"SELECT doc FROM {table}").fetchall()]

    def put_blob(self, key: str, data: bytes) -> None:
        self._exec("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (key, data))

    def get_blob(self, key: str) -> bytes | None:
        row = self._exec("SELECT data FROM blobs WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def get_idempotent(self, shop: str, api_key: str, key: str, field: str) -> tuple[str, Any] | None:
        row = self._exec(
            "SELECT digest, result FROM idempotency WHERE shop=? AND api_key=? AND key=? AND field=?",
            (shop, api_key, key, field),
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def put_idempotent(self, shop: str, api_key: str, key: str, field: str, digest: str, result: Any) -> None:
        self._exec(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
            (shop, api_key, key, field, digest, json.dumps(result)),
        )

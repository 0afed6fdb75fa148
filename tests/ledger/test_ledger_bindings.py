"""Bindings on SQLite and PostgreSQL: bulk upserts, chunked reads, digests for unchanged records."""

from sqlalchemy import event, func, select

from ledger import bindings, driver_sql
from ledger.bindings import BindingRow
from ledger.db import get_engine
from ledger.digest import digest
from ledger.models import Binding


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Binding))


def test_upsert_inserts_then_updates(session, shop, other_shop):
    rows = [BindingRow("1", "gid://shopify/Product/1", "d1", {"v": 1}), BindingRow("2", None, "d2")]
    assert bindings.upsert_many(session, shop.id, "product", rows) == 2
    bindings.upsert_many(session, other_shop.id, "product", [BindingRow("1", "gid://other/1")])
    session.commit()
    assert count(session) == 3

    found = bindings.get_many(session, shop.id, "product", ["1", "2", "3"])
    assert set(found) == {"1", "2"}
    assert found["1"].shopify_id == "gid://shopify/Product/1" and found["1"].data == {"v": 1}

    bindings.upsert_many(
        session,
        shop.id,
        "product",
        [
            BindingRow("1", None, "d1b", {"v": 2}),  # no new id: the stored one stays
            BindingRow("2", "gid://shopify/Product/2", "d2b"),
        ],
    )
    session.commit()
    assert count(session) == 3
    found = bindings.get_many(session, shop.id, "product", ["1", "2"])  # fresh, not the stale objects
    assert found["1"].shopify_id == "gid://shopify/Product/1" and found["1"].digest == "d1b"
    assert found["1"].data == {"v": 2}
    assert found["2"].shopify_id == "gid://shopify/Product/2" and found["2"].digest == "d2b"
    assert bindings.get_many(session, other_shop.id, "product", ["1"])["1"].shopify_id == "gid://other/1"


def test_duplicate_ids_in_one_batch_last_wins(session, shop):
    bindings.upsert_many(session, shop.id, "variant", [BindingRow("9", "a"), BindingRow("9", "b")])
    session.commit()
    assert bindings.get_many(session, shop.id, "variant", ["9"])["9"].shopify_id == "b"
    assert bindings.upsert_many(session, shop.id, "variant", []) == 0


def test_by_shopify_id(session, shop):
    bindings.upsert_many(session, shop.id, "variant", [BindingRow("SKU-1", "gid://shopify/ProductVariant/5")])
    session.commit()
    assert (
        bindings.by_shopify_id(session, shop.id, "variant", "gid://shopify/ProductVariant/5").erp_id
        == "SKU-1"
    )
    assert bindings.by_shopify_id(session, shop.id, "product", "gid://shopify/ProductVariant/5") is None


def test_unchanged(session, shop):
    record = {"sku": "1", "price": "9.90"}
    bindings.upsert_many(session, shop.id, "variant", [BindingRow("1", "gid://1", digest(record))])
    session.commit()
    current = bindings.get_many(session, shop.id, "variant", ["1", "2"])
    assert bindings.unchanged(current.get("1"), digest(dict(reversed(record.items()))))
    assert not bindings.unchanged(current.get("1"), digest({**record, "price": "10.00"}))
    assert not bindings.unchanged(current.get("2"), digest(record))


def test_a_large_load_uses_few_statements(any_database_url, session, shop, monkeypatch):
    """6,000 bindings written in ONE driver executemany (no SQLAlchemy work per row) and read back
    in a handful of statements, not one per row."""
    n = 6_000
    statements: list[str] = []
    executemany: list[int] = []
    engine = get_engine(any_database_url)

    def counter(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def counted(connection, name, build, columns, rows):
        executemany.append(len(rows))
        return driver_sql.execute_many(connection, name, build, columns, rows)

    monkeypatch.setattr(bindings, "execute_many", counted)
    event.listen(engine, "before_cursor_execute", counter)
    try:
        bindings.upsert_many(
            session,
            shop.id,
            "variant",
            [BindingRow(str(i), f"gid://v/{i}", f"d{i}", {"i": i}) for i in range(n)],
        )
        session.commit()
        found = bindings.get_many(session, shop.id, "variant", [str(i) for i in range(n + 500)])
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert len(found) == n and found["5999"].shopify_id == "gid://v/5999"
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert executemany == [n] and writes == []
    assert len(reads) <= (n + 500) // bindings.READ_CHUNK + 1
    assert count(session) == n

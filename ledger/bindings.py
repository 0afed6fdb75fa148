"""The ERP <-> Shopify id map (product, variant, inventory_item, price_list...).

On the hot path of a 50,000-SKU load: reads are chunked IN queries and writes one executemany
of an INSERT ... ON CONFLICT DO UPDATE compiled once (PostgreSQL and SQLite both have it; psycopg
pipelines the rows), never SQLAlchemy's work per row. Each binding carries the digest of what
was last sent, so a flow skips a record whose digest did not change. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from ledger.driver_sql import db_value, execute_many
from ledger.models import Binding, utcnow

# SQLite allows 32,766 bound variables per statement; PostgreSQL 65,535. Stay well below both.
READ_CHUNK = 5000


# Binding kinds shared by more than one flow (the catalog, prices and stock flows must agree).
PRODUCT_KIND = "product"  # erp_id = seqProduto, shopify_id = Product gid
# A product binding's data keys of the publish the app still owes it (jobs.catalog_publish).
PUBLISH_KEYS = ("publish_pending", "publish_retry")
VARIANT_KIND = "variant"  # erp_id = idSku, shopify_id = ProductVariant gid, data: inventory item, unit...
PRICE_KIND = "price"  # erp_id = idSku: the price state last sent (sale_active, promotion dates)
LIST_PRICE_KIND = "list_price"  # erp_id = "<price list id>:<idSku>": a price-list price last sent
STOCK_KIND = "stock"  # erp_id = "<company>:<idSku>": the level last sent
STOCK_POLICY_KIND = "stock_policy"  # erp_id = idSku: the inventoryPolicy last sent
STOCK_RECHECK_KIND = "stock_recheck"  # erp_id = idSku: the stock flow re-evaluates it next run
CATALOG_RECHECK_KIND = "catalog_recheck"  # erp_id = seqProduto: the products flow re-plans it next run
# erp_id "store", digest = when every product was planned with its items tracked (jobs/catalog_tracking.py)
ITEMS_TRACKED_KIND = "items_tracked"


class BindingRow(NamedTuple):
    """One binding to write. `shopify_id=None` keeps the id already stored; digest and data are replaced."""

    erp_id: str
    shopify_id: str | None
    digest: str | None = None
    data: dict[str, Any] | None = None


def get_many(session: Session, shop_id: int, kind: str, erp_ids: Iterable[str]) -> dict[str, Binding]:
    """The stored bindings of these ERP ids, by erp_id (ids without a binding are absent)."""
    wanted = list(dict.fromkeys(str(erp_id) for erp_id in erp_ids))
    found: dict[str, Binding] = {}
    for start in range(0, len(wanted), READ_CHUNK):
        chunk = wanted[start : start + READ_CHUNK]
        stmt = (
            select(Binding)
            .where(Binding.shop_id == shop_id, Binding.kind == kind, Binding.erp_id.in_(chunk))
            .execution_options(populate_existing=True)
        )
        for binding in session.scalars(stmt):
            found[binding.erp_id] = binding
    return found


def on_current_variant(session: Session, shop_id: int, sent_to: Mapping[str, str | None]) -> set[str]:
    """The idSkus of `sent_to` (idSku -> the variant gid a pass read and priced, None: no variant
    then) whose "variant" binding still names that variant: the ones whose price binding the pass
    may write. A variant replaced since the pass read it (the products flow made a new one, at
    R$ 0.00, and marked its price due: jobs.catalog_ledger._reprice) is left to that mark.

    The variant bindings are read FOR UPDATE (PostgreSQL; SQLite has one writer at a time), so
    the products flow cannot replace one between this and the caller's write in the same
    transaction: it waits, and its mark lands after that write. Sorted, as the products flow
    writes them, so the two never wait on each other in a circle."""
    skus = sorted(str(sku) for sku, variant in sent_to.items() if variant is not None)
    now: dict[str, str | None] = {}
    for start in range(0, len(skus), READ_CHUNK):
        chunk = skus[start : start + READ_CHUNK]
        stmt = (
            select(Binding.erp_id, Binding.shopify_id)
            .where(Binding.shop_id == shop_id, Binding.kind == VARIANT_KIND, Binding.erp_id.in_(chunk))
            .order_by(Binding.erp_id)
            .with_for_update()
        )
        now.update({erp_id: shopify_id for erp_id, shopify_id in session.execute(stmt)})
    return {str(sku) for sku, variant in sent_to.items() if variant is None or now.get(str(sku)) == variant}


def upsert_many(session: Session, shop_id: int, kind: str, rows: Sequence[BindingRow]) -> int:
    """Insert or update these bindings in bulk; returns how many rows were written.

    A later row for the same erp_id wins.
    """
    latest = {str(row.erp_id): row for row in rows}
    encoded = [(erp_id, row.shopify_id, row.digest, encode_data(row.data)) for erp_id, row in latest.items()]
    return write_encoded(session, shop_id, kind, encoded)


def read_requests(session: Session, shop_id: int, kind: str) -> dict[str, datetime]:
    """The requests of a kind ("stock_recheck", "catalog_recheck"): {erp_id: when last asked}."""
    rows = session.execute(
        select(Binding.erp_id, Binding.updated_at).where(Binding.shop_id == shop_id, Binding.kind == kind)
    )
    return {erp_id: at for erp_id, at in rows}


def forget_requests(session: Session, shop_id: int, kind: str, read: Mapping[str, datetime]) -> None:
    """Done with the requests a pass read (`read_requests`), and only those: another flow, under its
    own lock, may ask again for the same id while the pass runs (a sale status flipped back); that
    request, written later (a newer updated_at), was not acted on and stays for the next pass."""
    if not read:
        return
    table = Binding.__table__
    session.execute(
        table.delete().where(
            table.c.shop_id == shop_id,
            table.c.kind == kind,
            table.c.erp_id == bindparam("key"),
            table.c.updated_at == bindparam("at"),
        ),
        [{"key": key, "at": at} for key, at in read.items()],
    )


def encode_data(data: dict[str, Any] | None) -> str:
    """A binding's data as the JSON text `write_encoded` takes (orjson: ~3-15x json.dumps)."""
    return orjson.dumps(data or {}, option=orjson.OPT_NON_STR_KEYS).decode()


EncodedRow = tuple[str, str | None, str | None, str]  # erp_id, shopify_id, digest, data as JSON text


def write_encoded(session: Session, shop_id: int, kind: str, rows: Sequence[EncodedRow]) -> int:
    """Upsert rows whose data is already JSON text (`encode_data`); returns how many were written.

    One DBAPI executemany of an `INSERT ... ON CONFLICT DO UPDATE` built with SQLAlchemy Core and
    compiled once (ledger.driver_sql: SQLAlchemy's per-row parameter processing cost more than
    the database on a whole-catalog load of ~35,000 cache rows). A None shopify_id keeps the id
    already stored; digest and data are replaced. Runs in the session's transaction.
    """
    if not rows:
        return 0
    session.flush()
    connection = session.connection()
    now = db_value(connection, Binding.__table__.c.updated_at, utcnow())
    values = [(shop_id, kind, *row, now) for row in rows]
    execute_many(connection, "bindings.write_encoded", _upsert_statement, _UPSERT_COLUMNS, values)
    return len(values)


_UPSERT_COLUMNS = ("shop_id", "kind", "erp_id", "shopify_id", "digest", "data", "updated_at")


def _upsert_statement(dialect: Any) -> Insert:
    c = Binding.__table__.c
    binds = {name: bindparam(name, type_=c[name].type) for name in _UPSERT_COLUMNS}
    stmt = dialect.insert(Binding.__table__).values(binds)
    return stmt.on_conflict_do_update(
        index_elements=[c.shop_id, c.kind, c.erp_id],
        set_={
            "shopify_id": func.coalesce(stmt.excluded.shopify_id, c.shopify_id),
            "digest": stmt.excluded.digest,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
        },
    )


def by_shopify_id(session: Session, shop_id: int, kind: str, shopify_id: str) -> Binding | None:
    """The binding pointing at this Shopify id (webhooks arrive with Shopify ids)."""
    stmt = (
        select(Binding)
        .where(Binding.shop_id == shop_id, Binding.kind == kind, Binding.shopify_id == shopify_id)
        .order_by(Binding.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def unchanged(binding: Binding | None, digest: str) -> bool:
    """True when the record was already sent with this very digest (and has its Shopify id)."""
    return binding is not None and binding.shopify_id is not None and binding.digest == digest

"""The ERP <-> Shopify id map (product, variant, inventory_item, price_list...).

On the hot path of a 50,000-SKU load: reads are chunked IN queries and writes are bulk
INSERT ... ON CONFLICT DO UPDATE statements (PostgreSQL and SQLite both have them), never a
round trip per row. Each binding carries the digest of what was last sent, so a flow skips a
record whose digest did not change. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.models import Binding, utcnow

# SQLite allows 32,766 bound variables per statement; PostgreSQL 65,535. Stay well below both.
READ_CHUNK = 5000
WRITE_CHUNK = 1000


# Binding kinds shared by more than one flow (the catalog, prices and stock flows must agree).
PRODUCT_KIND = "product"  # erp_id = seqProduto, shopify_id = Product gid
VARIANT_KIND = "variant"  # erp_id = idSku, shopify_id = ProductVariant gid, data: inventory item, unit...
PRICE_KIND = "price"  # erp_id = idSku: the price state last sent (sale_active, promotion dates)
STOCK_KIND = "stock"  # erp_id = "<company>:<idSku>": the level last sent
STOCK_POLICY_KIND = "stock_policy"  # erp_id = idSku: the inventoryPolicy last sent
STOCK_RECHECK_KIND = "stock_recheck"  # erp_id = idSku: the stock flow re-evaluates it next run


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


def upsert_many(session: Session, shop_id: int, kind: str, rows: Sequence[BindingRow]) -> int:
    """Insert or update these bindings in bulk; returns how many rows were written.

    A later row for the same erp_id wins (PostgreSQL refuses one statement touching a row twice).
    """
    latest = {str(row.erp_id): row for row in rows}
    if not latest:
        return 0
    session.flush()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    values = [
        {
            "shop_id": shop_id,
            "kind": kind,
            "erp_id": erp_id,
            "shopify_id": row.shopify_id,
            "digest": row.digest,
            "data": row.data or {},
            "updated_at": now,
        }
        for erp_id, row in latest.items()
    ]
    table = Binding.__table__.c
    stmt = dialect.insert(Binding.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.shop_id, table.kind, table.erp_id],
        set_={
            "shopify_id": func.coalesce(stmt.excluded.shopify_id, table.shopify_id),
            "digest": stmt.excluded.digest,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(table.id)
    # RETURNING makes SQLAlchemy's "insertmanyvalues" send each chunk as one multi-row
    # INSERT ... VALUES (...), (...) compiled once, on both dialects: no round trip per row.
    connection = session.connection()
    for start in range(0, len(values), WRITE_CHUNK):
        connection.execute(stmt, values[start : start + WRITE_CHUNK]).all()
    return len(values)


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

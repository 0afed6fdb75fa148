"""A product the ERP moves to another family (MAP_PRODUTO.SEQFAMILIA) between scheduled passes: the
packagings of the old family that the new one lacks leave the sale without a full sync."""

from __future__ import annotations

from sqlalchemy import select

from jobs import catalog_flow
from jobs.catalog_ledger import VARIANT_KIND
from ledger import bindings
from ledger.db import session_scope
from sandbox.consinco import tables as t

from .conftest import InstalledShop
from .erp_writes import family_of, set_title
from .test_catalog_flows import doc, products_by_seq


def _move_to_a_family_with_the_unit_only(installed: InstalledShop, seq: int) -> None:
    f, e, p = t.map_familia, t.map_famembalagem, t.map_produto
    store = installed.erp.erp.store
    with store.read() as conn:
        family = dict(
            conn.execute(select(f).where(f.c.seqfamilia == family_of(installed.erp, seq))).mappings().one()
        )
    with store.write() as (conn, now):
        new = store.next_id(conn, f.c.seqfamilia)
        conn.execute(f.insert().values(**{**family, "seqfamilia": new, "familia": "NOVA"}))
        conn.execute(
            e.insert().values(
                seqfamilia=new, qtdembalagem=1, embalagem="UN", status="A", pesobruto=1, pesoliquido=1,
                dtahoraltembpreco=now,
            )
        )  # fmt: skip
        conn.execute(p.update().where(p.c.seqproduto == seq).values(seqfamilia=new, dtahoralteracao=now))


def test_the_skus_pass_takes_off_sale_a_packaging_the_moved_product_lost(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert {v["sku"] for v in products_by_seq(installed)[1]["variants"]} == {"P1E1", "P1E6"}

    _move_to_a_family_with_the_unit_only(installed, 1)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    product = products_by_seq(installed)[1]
    variants = {v["sku"]: v for v in product["variants"]}
    assert set(variants) == {"P1E1", "P1E6"} and product["status"] == "ACTIVE"  # kept, never deleted
    assert doc(installed, variants["P1E6"]["id"])["inventoryPolicy"] == "DENY"
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E1", "P1E6"])
        rechecks = bindings.get_many(session, installed.shop_id, "stock_recheck", ["P1E1", "P1E6"])
    assert (bound["P1E6"].data["active"], bound["P1E1"].data["active"]) == (False, True)
    assert set(rechecks) == {"P1E6"}  # the stock flow zeroes it
    again = catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert again.changed == 0  # retired once


def test_a_changed_product_keeps_every_packaging_it_still_has(installed: InstalledShop) -> None:
    """A product change brings all its packagings back in the SKU read: none is missing, none retired."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    set_title(installed.erp, 1, "ARROZ RENOMEADO")
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E1", "P1E6"])
    assert (bound["P1E6"].data["active"], bound["P1E1"].data["active"]) == (True, True)


def test_a_packaging_the_moved_product_lost_is_taken_off_sale_when_the_skus_pass_ran_first(
    installed: InstalledShop,
) -> None:
    """Both catalog flows are due the same minute; the skus pass got the catalog lock first and read
    the moved product's packagings with its old record cached, so it could not tell one gone. The
    products pass caches the new record and marks the change time: the next skus pass reads again
    from there and retires the packaging, not the daily full sweep hours later."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    _move_to_a_family_with_the_unit_only(installed, 1)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)  # first: the product's old record cached
    catalog_flow.run_flow(installed.shop_id, "products", client=client)

    catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E1", "P1E6"])
        assert catalog_flow._skus_reread(session, installed.shop_id) is None  # read again: the mark gone
    assert bound["P1E6"].data["active"] is False and bound["P1E1"].data["active"] is True
    sent = installed.mutations.count()
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert installed.mutations.count() == sent  # settled
    client.close()

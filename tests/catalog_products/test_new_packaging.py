"""A packaging added to a product Shopify already sells: the SKUs flow creates its variant, the
prices flow prices it and the stock flow stocks it from the product's remembered figure, with no
stock movement in the ERP (MAP_FAMEMBALAGEM changes, MRL_PRODUTOEMPRESA does not)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

import erp
import jobs.catalog_ledger as catalog_ledger
import jobs.prices as prices_flow
from jobs import catalog_flow, prices, stock
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.mappings import set_location_mapping
from sandbox.consinco import tables as t
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx
from settings import get_settings

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import family_of


def _variant(installed: InstalledShop, sku: str) -> dict:
    for product in installed.state()["products"]:
        for variant in product["variants"]:
            if variant["sku"] == sku:
                return variant
    raise AssertionError(f"{sku} is not in Shopify")


def _stocked_product(installed: InstalledShop, client) -> tuple[str, int, int, set]:
    """(location, seq, family, its packagings) of a unit-sold product stocked with 100 at company 1,
    published, priced and stocked in Shopify."""
    location = next(iter(client.locations())).id
    with session_scope() as session:
        set_location_mapping(session, installed.shop_id, 1, location)
    store = installed.erp.erp.store
    with store.read() as conn:  # a product sold by the unit, not weighed, with stock control
        seq = conn.execute(
            select(t.map_produto.c.seqproduto)
            .join(t.map_familia, t.map_familia.c.seqfamilia == t.map_produto.c.seqfamilia)
            .join(t.mrl_produtoempresa, t.mrl_produtoempresa.c.seqproduto == t.map_produto.c.seqproduto)
            .where(
                t.map_familia.c.pesavel == "N",
                t.mrl_produtoempresa.c.nroempresa == 1,
                t.mrl_produtoempresa.c.indcontrolaestoqueecomm == "S",
            )
            .order_by(t.map_produto.c.seqproduto)
        ).first()[0]
        family = family_of(installed.erp, seq)
        taken = set(
            conn.execute(
                select(t.map_famembalagem.c.qtdembalagem).where(t.map_famembalagem.c.seqfamilia == family)
            ).scalars()
        )
    with store.write() as (conn, now):
        stock_row = t.mrl_produtoempresa
        conn.execute(
            stock_row.update()
            .where(stock_row.c.seqproduto == seq, stock_row.c.nroempresa == 1)
            .values(
                estqloja=100,
                estqdeposito=0,
                estqtroca=0,
                estqterceiro=0,
                qtdreservadavda=0,
                qtdreservadareceb=0,
                qtdreservadafixa=0,
                estqsegurancaecommerce=0,
                dtaalteracao=now - timedelta(hours=1),  # before any read's overlap window
            )
        )
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    unit = _variant(installed, f"P{seq}E1")
    level = client.inventory_level(unit["inventoryItemId"], location, ("available",))
    assert level is not None and level.quantities["available"] == 100
    return location, seq, family, taken


def test_a_packaging_new_to_a_product_gets_its_price_and_its_stock(installed: InstalledShop) -> None:
    client = installed.client()
    location, seq, family, taken = _stocked_product(installed, client)
    store = installed.erp.erp.store
    box = next(q for q in (4, 7, 9, 11, 13) if q not in taken)
    with store.write() as (conn, now):  # the ERP starts selling a box of `box`, priced for the store
        conn.execute(
            t.map_famembalagem.insert().values(
                seqfamilia=family, qtdembalagem=box, embalagem="CX", status="A", dtahoraltembpreco=now
            )
        )
        conn.execute(
            t.mrl_prodempseg.insert().values(
                nroempresa=1,
                nrosegmento=1,
                seqproduto=seq,
                qtdembalagem=box,
                precovalidnormal=Decimal("50.00"),
                precovalidpromoc=Decimal("0"),
                statusvenda="A",
                dtaalteracao=now,
            )
        )
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)

    new = _variant(installed, f"P{seq}E{box}")
    assert Decimal(str(new["price"])) == Decimal("50.00")
    level = client.inventory_level(new["inventoryItemId"], location, ("available",))
    assert level is not None and level.quantities["available"] == 100 // box
    client.close()


def _rename_unit(installed: InstalledShop, family: int) -> None:
    """The ERP renames the unit's packaging (UN -> PC): the variant's option value changes."""
    with installed.erp.erp.store.write() as (conn, now):
        e = t.map_famembalagem
        conn.execute(
            e.update()
            .where(e.c.seqfamilia == family, e.c.qtdembalagem == 1)
            .values(embalagem="PC", dtahoraltembpreco=now)
        )


def _replaced_by_hand(installed: InstalledShop, seq: int, family: int) -> None:
    """The merchant deletes the unit's variant in Shopify, then the ERP renames its packaging: the
    id the products flow sends is stale, the product goes again without ids (jobs.catalog_load._send)
    and Shopify makes the variant anew."""
    gone = installed.shopify.sandbox.store.get(SHOP_NAME, _variant(installed, f"P{seq}E1")["id"])
    assert gone is not None
    catalog.delete_variant(Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key=""), gone)
    _rename_unit(installed, family)


def test_a_renamed_packaging_keeps_its_variant_its_price_and_its_stock(installed: InstalledShop) -> None:
    """The ERP renaming the unit's packaging (UN -> PC) changes its variant's option value in place
    (its id is sent): the variant keeps its price and stock, never off sale in between."""
    client = installed.client()
    location, seq, family, _ = _stocked_product(installed, client)
    before = _variant(installed, f"P{seq}E1")
    _rename_unit(installed, family)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    renamed = _variant(installed, f"P{seq}E1")
    assert (renamed["id"], renamed["inventoryItemId"], renamed["title"]) == (
        before["id"], before["inventoryItemId"], "PC",
    )  # fmt: skip
    stock.run(installed.shop_id)  # no prices pass needed: it kept its price
    assert Decimal(str(_variant(installed, f"P{seq}E1")["price"])) == Decimal(str(before["price"])) > 0
    level = client.inventory_level(renamed["inventoryItemId"], location, ("available",))
    assert level is not None and level.quantities["available"] == 100
    client.close()


def test_a_variant_made_anew_is_priced_and_stocked_again_and_not_sold_at_zero_meanwhile(
    installed: InstalledShop,
) -> None:
    """A variant Shopify made anew (the bound one was deleted by hand) comes with no price and no
    stock. Until the prices flow prices it, the stock flow keeps it off sale (not at R$ 0.00);
    then both come back."""
    client = installed.client()
    location, seq, family, _ = _stocked_product(installed, client)
    before = _variant(installed, f"P{seq}E1")
    _replaced_by_hand(installed, seq, family)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    replaced = _variant(installed, f"P{seq}E1")
    assert replaced["id"] != before["id"] and replaced["title"] == "PC"
    stock.run(installed.shop_id)  # before the prices pass: not for sale
    level = client.inventory_level(replaced["inventoryItemId"], location, ("available",))
    assert level is None or level.quantities["available"] == 0
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    replaced = _variant(installed, f"P{seq}E1")
    assert Decimal(str(replaced["price"])) == Decimal(str(before["price"])) > 0
    level = client.inventory_level(replaced["inventoryItemId"], location, ("available",))
    assert level is not None and level.quantities["available"] == 100
    client.close()


def test_a_variant_replaced_late_in_the_erps_evening_is_repriced_the_same_erp_day(
    installed: InstalledShop, monkeypatch
) -> None:
    """The products flow replacing a variant at 22:00 in Sao Paulo (01:00 UTC, already the next
    day in UTC) marks its prices due on the ERP's day, which is the day the prices flow runs on: the
    next prices pass sends them, instead of leaving the variant at R$ 0.00 and off sale until the
    ERP's midnight."""
    client = installed.client()
    location, seq, family, _ = _stocked_product(installed, client)
    before = _variant(installed, f"P{seq}E1")
    day = erp_today(get_settings().erp_timezone)
    evening = datetime.combine(day + timedelta(days=1), time(1, 0), tzinfo=UTC)
    assert erp_today(get_settings().erp_timezone, evening) == day  # 22:00 the same ERP day
    monkeypatch.setattr(catalog_ledger, "utcnow", lambda: evening)
    # Only the replacement makes the price due: the ERP price row is not read again.
    real = prices_flow.erp_for_shop
    monkeypatch.setattr(
        prices_flow, "erp_for_shop", lambda shop_id, **o: real(shop_id, overlap=timedelta(0), **o)
    )
    _replaced_by_hand(installed, seq, family)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    replaced = _variant(installed, f"P{seq}E1")
    assert replaced["id"] != before["id"]
    prices.run(installed.shop_id, today=day)
    stock.run(installed.shop_id)
    replaced = _variant(installed, f"P{seq}E1")
    assert Decimal(str(replaced["price"])) == Decimal(str(before["price"])) > 0
    level = client.inventory_level(replaced["inventoryItemId"], location, ("available",))
    assert level is not None and level.quantities["available"] == 100
    client.close()


def test_a_product_out_of_sale_in_the_store_follows_the_inactive_setting_and_comes_back(
    installed: InstalledShop,
) -> None:
    """Every packaging of product 1 is statusVenda 'I' at the store's company and segment: not
    active (consinco.md), so the product becomes DRAFT (the setting) with the next products pass
    after the prices flow saw it, with no change to the product in the ERP; back on sale, ACTIVE."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    prices.run(installed.shop_id)
    assert _status(installed, 1) == "ACTIVE"

    def sale(status: str) -> None:
        ps = t.mrl_prodempseg
        with installed.erp.erp.store.write() as (conn, now):
            conn.execute(
                ps.update()
                .where(ps.c.seqproduto == 1, ps.c.nroempresa == 1, ps.c.nrosegmento == 1)
                .values(statusvenda=status, dtaalteracao=now)
            )

    sale("I")
    prices.run(installed.shop_id)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert _status(installed, 1) == "DRAFT"
    again = catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert again.changed == 0  # asked for once
    sale("A")
    prices.run(installed.shop_id)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert _status(installed, 1) == "ACTIVE"
    client.close()


def test_a_sale_status_flip_during_a_products_pass_is_not_lost(installed: InstalledShop, monkeypatch) -> None:
    """The prices flow (its own lock, not the catalog's) asks the products flow to re-plan product 1
    ("catalog_recheck") while a products pass that already read the off-sale set is pushing: that
    pass plans product 1 from what it read, and must leave the newer request for the next pass
    (only the requests it read are done), or product 1 stays DRAFT although the ERP sells it."""
    real_for_shop = erp.for_shop  # the catalog reads only what changed (no overlap re-reading all)
    monkeypatch.setattr(
        erp, "for_shop", lambda shop_id, **o: real_for_shop(shop_id, **{"overlap": timedelta(0), **o})
    )
    client = installed.client()

    def sale(status: str) -> None:
        ps = t.mrl_prodempseg
        with installed.erp.erp.store.write() as (conn, now):
            conn.execute(
                ps.update()
                .where(ps.c.seqproduto == 1, ps.c.nroempresa == 1, ps.c.nrosegmento == 1)
                .values(statusvenda=status, dtaalteracao=now)
            )

    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    prices.run(installed.shop_id)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert _status(installed, 1) == "ACTIVE"
    sale("I")
    prices.run(installed.shop_id)  # product 1 out of sale: a catalog_recheck for it

    real_sync = catalog_flow.sync

    def sync_while_prices_run(*args, **kwargs):
        sale("A")  # back on sale while this pass is under way: the prices flow asks again
        prices.run(installed.shop_id)
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(catalog_flow, "sync", sync_while_prices_run)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    monkeypatch.setattr(catalog_flow, "sync", real_sync)

    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # the next pass
    assert _status(installed, 1) == "ACTIVE", "on sale in the ERP but DRAFT: the recheck was lost"
    client.close()


def _status(installed: InstalledShop, seq: int) -> str:
    for product in installed.state()["products"]:
        if int(product["metafields"]["consinco.seq_produto"]) == seq:
            return product["status"]
    raise AssertionError(f"product {seq} is not in Shopify")


def test_a_product_inactive_then_active_again_between_two_stock_passes_sells_without_stock_control_again(
    installed: InstalledShop,
) -> None:
    """The products flow sends inventoryPolicy DENY for the variants of a product it deactivates,
    and leaves the policy out once the product is active again (the stock flow owns it). The stock
    flow resends a policy only when it differs from the one it remembers: so the DENY the products
    flow sent is remembered as the stock flow's, and a product sold without stock control
    (CONTINUE) that leaves the e-commerce and comes back before any stock pass is CONTINUE again
    after the next stock pass, not stuck at DENY (unsellable although the ERP sells it)."""
    client = installed.client()
    location = next(iter(client.locations())).id
    with session_scope() as session:
        set_location_mapping(session, installed.shop_id, 1, location)
    pe = t.mrl_produtoempresa
    with installed.erp.erp.store.write() as (conn, now):
        no_control = {"indcontrolaestoqueecomm": "N", "dtaalteracao": now}
        conn.execute(pe.update().where(pe.c.seqproduto == 1).values(**no_control))
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    assert _policy(installed, "P1E1") == "CONTINUE"

    installed.erp.erp.simulator.deactivate_product(1)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert _status(installed, 1) == "DRAFT" and _policy(installed, "P1E1") == "DENY"

    p = t.map_produto
    with installed.erp.erp.store.write() as (conn, now):
        back = {"indintegraecommerce": "S", "dtahoralteracao": now}
        conn.execute(p.update().where(p.c.seqproduto == 1).values(**back))
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert _status(installed, 1) == "ACTIVE"
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    assert _policy(installed, "P1E1") == "CONTINUE", "back in the e-commerce, but stuck at DENY"
    client.close()


def _policy(installed: InstalledShop, sku: str) -> str:
    variant = _variant(installed, sku)
    return installed.shopify.sandbox.store.get(SHOP_NAME, variant["id"])["inventoryPolicy"]

"""A weighed packaging that is not the KG packaging of quantity 1 (a 0,5 kg tray, a 10 kg box).

Every flow takes one unit of a weighed variant for 1 kg (catalog_map.WEIGHED_SALE_UNIT_KG): sent,
such a packaging was labelled KG, weighed 1 kg and showed its price per 1 kg, the stock flow counted
its units in kg (10 kg: 10 units where the ERP counts 20 trays) and an order in base units asked the
ERP for half the kilograms sold. It is held out of the sale instead: no variant (none of the prices,
stock or order flows then has a binding to act on), or its variant kept off sale when it had one;
the product's other packagings are sent, and the product's message fails naming it and what to
change in the ERP (WEIGHED_PACKAGING_NOT_KG) until the ERP sells the item by its KG packaging."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs import catalog_flow, catalog_ledger, catalog_map, prices, stock
from jobs.catalog_cache import CachedProduct
from jobs.catalog_ledger import PRICE_KIND, PRODUCT_KIND, VARIANT_KIND, CatalogContext
from ledger import bindings
from ledger.db import session_scope
from ledger.mappings import set_location_mapping
from ledger.models import Message, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.api_explain import explain

from .conftest import InstalledShop
from .erp_writes import add_product, family_of, set_packaging_status, set_title, weighed_products

SEQ = 9
KG = {"id_sku": "P9E1", "seq_produto": SEQ, "qtd_embalagem": "1", "packaging": "KG", "description": None,
      "ean": None, "weighed": True, "gross_weight": "1", "net_weight": "1", "active": True,
      "changed_at": "2026-11-28T12:00:00+00:00"}  # fmt: skip
TRAY = {**KG, "id_sku": "P9E0.5", "qtd_embalagem": "0.5", "packaging": "BJ"}
BOX = {**KG, "id_sku": "P9E10", "qtd_embalagem": "10", "packaging": "CX"}
PRODUCT = {"seq_produto": SEQ, "description": "PICANHA", "weighed": True, "integrate_ecommerce": True}


def _skus(mapped: catalog_map.MappedProduct) -> list[str]:
    return [v["inventoryItem"]["sku"] for v in mapped.input["variants"]]


def test_a_weighed_packaging_other_than_one_kg_is_no_variant_and_its_product_message_names_it() -> None:
    mapped = catalog_map.map_product(PRODUCT, [KG, TRAY, BOX])
    assert _skus(mapped) == ["P9E1"]  # the KG packaging alone is sold, per kg as ever
    assert [s["id_sku"] for s in mapped.skus] == ["P9E1"] and mapped.status == "ACTIVE"
    assert mapped.input["productOptions"][0]["values"] == [{"name": "KG"}]
    assert mapped.held == (
        {"id_sku": "P9E0.5", "qtd_embalagem": "0.5"},
        {"id_sku": "P9E10", "qtd_embalagem": "10"},
    )
    error = catalog_ledger.held_error(mapped)
    assert error is not None and error.code == "WEIGHED_PACKAGING_NOT_KG"
    assert "P9E0.5 (0.5 kg)" in error.message and "KG packaging of quantity 1" in error.message
    assert error.words == (
        "catalog_weighed_packaging_not_kg",
        {"product": SEQ, "skus": "P9E0.5 (0.5 kg), P9E10 (10 kg)"},
    )
    (start,) = catalog_ledger.unit_starts([mapped])  # found by the held SKUs, which its request names
    assert {"P9E0.5", "P9E10"} <= set(start.search)
    assert start.request["packagings_held"] == list(mapped.held)
    # one the ERP starts selling changes no input, yet its product is planned again (the digest)
    inactive = catalog_map.map_product(PRODUCT, [KG, {**TRAY, "active": False}])
    assert inactive.held == () and catalog_ledger.held_error(inactive) is None
    assert inactive.input == catalog_map.map_product(PRODUCT, [KG, TRAY]).input
    assert inactive.digest != catalog_map.map_product(PRODUCT, [KG, TRAY]).digest
    assert inactive.digest == catalog_map.map_product(PRODUCT, [KG]).digest  # nothing held: as before


def test_a_weighed_packaging_bound_before_keeps_its_variant_off_sale() -> None:
    """Sent as 1 kg by an earlier version: its variant is kept (never deleted: its orders and
    bindings stay valid), inactive, DENY (the stock flow sends it 0), its message naming it."""
    ids = {"P9E1": "gid://shopify/ProductVariant/1", "P9E0.5": "gid://shopify/ProductVariant/2"}
    mapped = catalog_map.map_product(PRODUCT, [KG, TRAY], variant_ids=ids)
    tray = next(v for v in mapped.input["variants"] if v["inventoryItem"]["sku"] == "P9E0.5")
    assert tray["id"] == ids["P9E0.5"] and tray["inventoryPolicy"] == "DENY"
    assert {s["id_sku"]: s["active"] for s in mapped.skus} == {"P9E0.5": False, "P9E1": True}
    assert [h["id_sku"] for h in mapped.held] == ["P9E0.5"] and mapped.status == "ACTIVE"
    alone = catalog_map.map_product(PRODUCT, [TRAY], variant_ids=ids)  # no other packaging: off sale
    assert alone.status == "DRAFT" and [h["id_sku"] for h in alone.held] == ["P9E0.5"]


def test_a_product_with_no_packaging_to_send_waits_naming_it() -> None:
    ctx = CatalogContext(
        shop_id=1, shop_domain="x.myshopify.com", inactive_status="DRAFT", bulk_threshold=100
    )
    planned = catalog_ledger.plan_one(ctx, CachedProduct(SEQ, PRODUCT, {"P9E0.5": TRAY}), None)
    assert (planned.verdict, planned.mapped) == ("waiting", None)
    assert planned.words == ("waiting_kg_packaging", {"skus": "P9E0.5"})
    assert planned.held is not None and catalog_ledger.held_error(planned.held) is not None
    off = catalog_ledger.plan_one(
        ctx, CachedProduct(SEQ, PRODUCT, {"P9E0.5": {**TRAY, "active": False}}), None
    )
    assert (off.verdict, off.held) == ("waiting", None)  # nothing the ERP sells: no message to fail


def _messages(shop_id: int, seq: int) -> dict[str, Message]:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(Message.shop_id == shop_id, Message.unit_key == f"product:{seq}")
        ).all()
        for message in found:
            session.expunge(message)
        return {m.flow: m for m in found}


def _in_shopify(installed: InstalledShop, sku: str) -> bool:
    return any(v["sku"] == sku for p in installed.state()["products"] for v in p["variants"])


def _add_box(installed: InstalledShop, seq: int, family: int, qtd: int) -> None:
    """The ERP starts selling the weighed family by a box of `qtd` kg, priced for the store."""
    with installed.erp.erp.store.write() as (conn, now):
        conn.execute(
            t.map_famembalagem.insert().values(
                seqfamilia=family, qtdembalagem=qtd, embalagem="CX", status="A", dtahoraltembpreco=now
            )
        )
        conn.execute(t.mrl_prodempseg.insert().values(
            nroempresa=1, nrosegmento=1, seqproduto=seq, qtdembalagem=qtd, precovalidnormal=Decimal("300.00"),
            precovalidpromoc=Decimal("0"), statusvenda="A", dtaalteracao=now))  # fmt: skip


def _boxed(installed: InstalledShop, *, kg_off: bool = False) -> tuple[Any, int, int]:
    """The catalog loaded (company 1 at a location), then a 10 kg box added to the first weighed
    product's family (its KG packaging taken off sale when `kg_off`) and the SKUs synced:
    (the Admin client, the product, its family)."""
    client = installed.client()
    location = next(iter(client.locations())).id
    with session_scope() as session:
        set_location_mapping(session, installed.shop_id, 1, location)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    seq = weighed_products(installed.erp)[0]
    family = family_of(installed.erp, seq)
    _add_box(installed, seq, family, 10)
    if kg_off:
        set_packaging_status(installed.erp, family, 1, "I")
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    return client, seq, family


def test_a_10_kg_box_of_a_weighed_product_is_held_out_of_every_flow(installed: InstalledShop) -> None:
    client, seq, family = _boxed(installed)
    box, kg = f"P{seq}E10", f"P{seq}E1"

    message = _messages(installed.shop_id, seq)["skus"]
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == "WEIGHED_PACKAGING_NOT_KG" and box in (message.error_text or "")
    for locale, words in (("pt-BR", "embalagem KG de quantidade 1"), ("en", "KG packaging of quantity 1")):
        shown = explain(message, locale)
        assert words in shown["what_to_do"] and box in shown["system_message"], shown
    assert not _in_shopify(installed, box) and _in_shopify(installed, kg)  # the KG variant stays on sale
    prices.run(installed.shop_id)
    stock.run(installed.shop_id)
    with session_scope() as session:
        assert box not in bindings.get_many(session, installed.shop_id, VARIANT_KIND, [box, kg])
        assert bindings.get_many(session, installed.shop_id, VARIANT_KIND, [kg])[kg].data["active"] is True
        product = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(seq)])[str(seq)]
        assert box not in product.data["skus"] and product.digest is not None
        price = bindings.get_many(session, installed.shop_id, PRICE_KIND, [box]).get(box)
        assert price is None or price.shopify_id is None  # nothing sent to a variant for it
    assert not _in_shopify(installed, box)

    # Both flows plan the product on its next change: one message says it, the one sent last
    set_title(installed.erp, seq, "PICANHA RENOMEADA")
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)  # unchanged: its message stays
    messages = _messages(installed.shop_id, seq)
    assert messages["products"].status == MessageStatus.FAILED.value
    assert messages["skus"].status == MessageStatus.DONE.value
    assert "holds the same packagings" in messages["skus"].response_payload["note"]

    # The ERP stops selling the box: the product goes through, its message done
    set_packaging_status(installed.erp, family, 10, "I")
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    messages = _messages(installed.shop_id, seq)
    assert {flow: m.status for flow, m in messages.items()} == {"products": "done", "skus": "done"}
    assert not _in_shopify(installed, box)
    client.close()


def _only_box_product(installed: InstalledShop, like: int) -> int:
    """A new product of a new weighed family sold only by a 10 kg box."""
    store = installed.erp.erp.store
    with store.write() as (conn, now):
        f = t.map_familia
        row: dict[str, Any] = dict(
            conn.execute(select(f).where(f.c.seqfamilia == family_of(installed.erp, like))).mappings().one()
        )
        family = store.next_id(conn, t.map_familia.c.seqfamilia)
        conn.execute(t.map_familia.insert().values(**{**row, "seqfamilia": family, "familia": "CARNE CX"}))
    seq = add_product(installed.erp, like, "COSTELA CX 10KG")
    with store.write() as (conn, now):
        conn.execute(t.map_produto.update().where(t.map_produto.c.seqproduto == seq)
                     .values(seqfamilia=family, dtahoralteracao=now))  # fmt: skip
    _add_box(installed, seq, family, 10)
    return seq


def test_a_product_sold_only_by_a_10_kg_box_is_not_created_and_its_message_says_why(
    installed: InstalledShop,
) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    seq = _only_box_product(installed, weighed_products(installed.erp)[0])
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    messages = _messages(installed.shop_id, seq)
    failed = [m for m in messages.values() if m.status == MessageStatus.FAILED.value]
    assert len(failed) == 1 and failed[0].error_detail["code"] == "WEIGHED_PACKAGING_NOT_KG", messages
    assert f"P{seq}E10" in (failed[0].error_text or "")
    assert all(m.status == MessageStatus.DONE.value for m in messages.values() if m is not failed[0])
    with session_scope() as session:
        assert str(seq) not in bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(seq)])
    assert not _in_shopify(installed, f"P{seq}E10")
    client.close()


def test_the_reconciliation_lists_a_held_packaging_apart_not_as_drift(installed: InstalledShop) -> None:
    """The report judged what the ERP sells from its active flags alone: a held 10 kg box was an
    "active ERP SKU not in Shopify" (drift found, every day, once per product of its family), and a
    product the ERP sells by that box alone, DRAFT on purpose, was "not for sale in Shopify while the
    ERP sells it". Held packagings are listed apart, as the catalog rule decides them."""
    from erp.factory import for_shop as erp_for_shop
    from jobs import reconcile
    from ledger import drift

    client, seq, _ = _boxed(installed, kg_off=True)  # the KG packaging off: the box alone is active
    erp = erp_for_shop(installed.shop_id)
    try:
        section = reconcile._catalog(installed.shop_id, client, erp)
    finally:
        erp.close()
        client.close()
    assert f"P{seq}E10" not in section["missing_in_shopify"]
    assert f"P{seq}E10" in [row["sku"] for row in section["held_not_kg"]]
    assert section["held_not_kg"][0]["why_words"] == [{"key": "recon_held_not_kg", "params": {}}]
    assert [r for r in section["shopify_differs"] if r["sku"].startswith(f"P{seq}E")] == []
    assert [r for r in section["orphan_bindings"] if r["sku"].startswith(f"P{seq}E")] == []
    summary = reconcile.summary({"catalog": section})
    assert summary["skus_held_not_kg"] == section["held_not_kg_count"] > 0
    assert "skus_held_not_kg" not in drift.findings({"summary": summary})

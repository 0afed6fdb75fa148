"""Reconciliation findings judged by the flows' own rules: a SKU taken off the e-commerce (its
variant kept with `active: false`) is in step, a product archived in Shopify or a variant deleted
there while the ERP sells it is reported, a closed store's levels zeroed on purpose are no drift,
and an order invoiced in the ERP whose invoice never reached Shopify is reported."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import select, update

from jobs import reconcile, stock
from ledger import bindings, watermarks
from ledger.db import session_scope
from ledger.models import Binding, OrderLink, utcnow
from shopify_app.admin_api import for_shop

from .conftest import World


def _gql(world: World, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    url = world.shopify.url
    token = requests.post(f"{url}/_sandbox/shops/{world.name}/access_token", json={}, timeout=10).json()
    answer = requests.post(
        f"{url}/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables},
        headers={"Host": world.domain, "X-Shopify-Access-Token": token["access_token"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _product_of(world: World, sku: str) -> str:
    query = "query($id: ID!){ productVariant(id: $id){ product{ id } } }"
    return _gql(world, query, {"id": world.variants[sku]})["productVariant"]["product"]["id"]


def _set_status(world: World, sku: str, status: str) -> None:
    mutation = ("mutation($i: ProductSetIdentifiers, $p: ProductSetInput!){ productSet(identifier: $i, "
                "input: $p){ product{ status } userErrors{ message } } }")  # fmt: skip
    done = _gql(world, mutation, {"i": {"id": _product_of(world, sku)}, "p": {"status": status}})
    assert done["productSet"]["product"]["status"] == status, done


def _set_binding(world: World, sku: str, **changes: Any) -> None:
    with session_scope() as session:
        mine = (Binding.shop_id == world.shop_id, Binding.kind == "variant", Binding.erp_id == sku)
        binding = session.scalars(select(Binding).where(*mine)).one()
        data = changes.pop("data", {})
        binding.data = {**(binding.data or {}), **data}
        for key, value in changes.items():
            setattr(binding, key, value)


def _catalog(world: World, sample: int = 1000) -> dict[str, Any]:
    erp = reconcile.erp.for_shop(world.shop_id)
    return reconcile._catalog(world.shop_id, for_shop(world.domain), erp, sample)


def test_a_sku_taken_off_the_ecommerce_and_drafted_as_designed_is_in_step(world: World) -> None:
    """The catalog flow keeps the variant of a SKU the ERP no longer sells (binding `active:
    false`, the product DRAFT): that is the designed state, not a binding out of step. A binding
    still active for it is; so is one whose SKU the ERP does not have."""
    from sandbox.consinco import tables as t

    sku = world.plain(2)
    seq = next(s.seq_produto for s in world.chain.skus if s.id_sku == sku)
    world.erp.simulator.deactivate_product(seq)  # INDINTEGRAECOMMERCE = 'N': ativo false
    try:
        catalog = _catalog(world)
        assert catalog["orphan_bindings"] == [{"sku": sku, "why": "inactive in the ERP (or not for sale at "
                                               "the store), still for sale in Shopify",
                                               "why_words": [{"key": "recon_still_for_sale",
                                                              "params": {}}]}]  # fmt: skip
        [active] = catalog["shopify_differs"]  # the product is still ACTIVE in Shopify: sold by mistake
        assert (active["sku"], active["shopify"], active["erp"]) == (sku, "ACTIVE", "DRAFT")

        _set_binding(world, sku, data={"active": False})  # what the catalog flow leaves
        _set_status(world, sku, "DRAFT")
        catalog = _catalog(world)
        assert catalog["orphan_bindings_count"] == 0, catalog["orphan_bindings"]
        assert catalog["shopify_differs_count"] == 0, catalog["shopify_differs"]
    finally:
        with world.erp.store.write() as (conn, _now):
            conn.execute(update(t.map_produto).where(t.map_produto.c.seqproduto == seq)
                         .values(indintegraecommerce="S"))  # fmt: skip
    _set_binding(world, sku, data={"active": True})
    _set_status(world, sku, "ACTIVE")

    # Not for sale at the store (the prices flow's statusVenda 'I'): also inactive by design.
    other = world.plain(1)
    with session_scope() as session:
        bindings.upsert_many(session, world.shop_id, "price", [
            bindings.BindingRow(other, world.variants[other], None, {"sale_active": False})])  # fmt: skip
    _set_binding(world, other, data={"active": False})
    _set_binding(world, world.plain(0), erp_id="P999999E1")  # a SKU the ERP does not have
    catalog = _catalog(world)
    assert catalog["orphan_bindings"] == [
        {
            "sku": "P999999E1",
            "why": "not in the ERP",
            "why_words": [{"key": "recon_not_in_erp", "params": {}}],
        }
    ]


def test_a_product_archived_or_a_variant_deleted_in_shopify_while_the_erp_sells_it_is_reported(
    world: World,
) -> None:
    """Customers cannot buy what the ERP sells: the catalog section reads the sample's variants from
    Shopify (250 a call) and names the archived product and the deleted variant; the others are in
    step. The sample bounds the reads: a smaller one checks fewer variants."""
    archived, deleted, fine = world.plain(0), world.plain(1), world.plain(2)
    _set_status(world, archived, "ARCHIVED")
    _set_binding(world, deleted, shopify_id="gid://shopify/ProductVariant/987654321")  # gone from Shopify

    catalog = _catalog(world)

    assert catalog["shopify_checked"] == 4
    rows = {row["sku"]: row for row in catalog["shopify_differs"]}
    assert set(rows) == {archived, deleted}, catalog["shopify_differs"]
    assert (rows[archived]["shopify"], rows[archived]["erp"]) == ("ARCHIVED", "ACTIVE")
    assert rows[archived]["why"] == "not for sale in Shopify while the ERP sells it"
    assert rows[deleted]["why"] == "variant deleted in Shopify while the ERP sells it"
    assert fine not in rows
    assert _catalog(world, sample=2)["shopify_checked"] == 2

    report = reconcile.run(world.shop_id, stock_sample=10)
    assert report["summary"]["catalog_differs_in_shopify"] == 2


def test_a_closed_store_zeroed_by_the_stock_flow_is_not_reported_as_stock_drift(world: World) -> None:
    """The ERP marks company 1 inactive: the stock flow sets its levels to 0 on purpose
    (jobs.stock_closed, message COMPANY_INACTIVE). The ERP's figures are no target there: the
    location is not compared, and says why."""
    for sku in world.variants:  # as the catalog and prices flows leave them: the stock flow sends them
        _set_binding(world, sku, data={"product_id": _product_of(world, sku)})
    with session_scope() as session:
        sold = {"sale_active": True}
        rows = [bindings.BindingRow(sku, gid, None, sold) for sku, gid in world.variants.items()]
        bindings.upsert_many(session, world.shop_id, "price", rows)
    stock.run(world.shop_id)
    erp = reconcile.erp.for_shop(world.shop_id)
    [before] = reconcile._stock(world.shop_id, for_shop(world.domain), erp, 1000)["locations"]
    assert before["differ_count"] == 0 and before["checked"] > 0, before["differ"]

    # An item the ERP does not control sells on (CONTINUE) whatever its level: only controlled ones
    # are zeroed (the generator draws stock control per product: some of this chain's have none).
    controlled = {
        sku.id_sku
        for record in erp.stock(nro_empresa=1)
        if record.controlled
        for sku in record.skus
        if sku.id_sku in world.variants and sku.id_sku != world.weighed()
    }
    assert controlled
    world.erp.set_company_status(1, "I")  # the store closed
    try:
        stock.run(world.shop_id)  # zeroes the store's levels, fails a COMPANY_INACTIVE message
        assert {world.stock(s)["available"] for s in controlled} == {0}
        [after] = reconcile._stock(world.shop_id, for_shop(world.domain), erp, 1000)["locations"]
    finally:
        world.erp.set_company_status(1, "A")
    assert after["differ_count"] == 0 and after["closed"] is True, after
    assert "stock:1:inactive" in after["note"]


def test_an_order_invoiced_in_the_erp_but_not_in_shopify_is_reported(world: World, monkeypatch) -> None:
    """The ERP invoiced the order (NF-e issued, goods left) but its invoice event was never applied:
    Shopify shows no NF-e, nothing fulfilled, the authorisation not captured. Reported as a status
    that differs, with the NF-e number; once the poll applies the invoice, it is not."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago
    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro)
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    with session_scope() as session:  # the poll read past its event, never tracing it: missed
        ahead = utcnow() + reconcile.EVENT_MARGIN + timedelta(minutes=1)
        watermarks.advance(session, world.shop_id, "order_events", "", ahead, 0, ahead)

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    [row] = [row for row in orders["status_differs"] if row["order"] == order.gid]
    assert row["erp"] == "F" and row["shopify_cancelled"] is False
    assert f"invoiced in the ERP (NF-e {document['numeroDf']})" in row["why"], row
    assert "invoice not applied in Shopify" in row["why"] and "invoices_message" not in row
    assert row["why_words"] == [
        {"key": "recon_invoiced_not_applied_nfe", "params": {"numbers": str(document["numeroDf"])}}
    ]

    with session_scope() as session:  # read again from the start (as after an ERP move)
        watermarks.reset(session, world.shop_id, "order_events")
    world.poll()  # the invoice event applied: NF-e key on the link, fulfilled, captured
    assert world.link(order.gid).nfe_key
    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert order.gid not in {row["order"] for row in orders["status_differs"]}, orders["status_differs"]


def test_a_total_that_differs_on_an_order_the_app_flagged_carries_the_reason(
    world: World, monkeypatch
) -> None:
    """A weighed pick heavier than ordered leaves the order flagged for a person (needs_attention):
    the report's row says so instead of showing a bare difference."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago
    drifted = world.linked_order([(world.plain(1), 3)], gateway="pix")
    world.erp.separate(drifted.nro, cuts={str(drifted.lines[world.plain(1)]): 1})
    why = "order_edits: picked 1 of 3; check the order"
    with session_scope() as session:
        link = session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == drifted.gid)).one()
        link.needs_attention = why

    [row] = reconcile.run(world.shop_id, stock_sample=1)["orders"]["totals_differ"]
    assert row["order"] == drifted.gid and row["attention"] == why


def _set_price(world: World, sku: str, price: str) -> None:
    mutation = (
        "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!){ productVariantsBulkUpdate("
        "productId: $p, variants: $v){ productVariants{ price } userErrors{ message } } }"
    )
    done = _gql(
        world, mutation, {"p": _product_of(world, sku), "v": [{"id": world.variants[sku], "price": price}]}
    )
    assert not done["productVariantsBulkUpdate"]["userErrors"], done


def _priced_by_the_flow(world: World) -> None:
    """The "price" bindings the prices flow leaves for the published variants (the ERP's items)."""
    from jobs.price_map import PriceState, erp_today, target_price

    today = erp_today("America/Sao_Paulo")
    erp = reconcile.erp.for_shop(world.shop_id)
    states = [PriceState.from_item(i) for i in erp.price_items(None, 1, world.chain.segment)]
    rows = [
        bindings.BindingRow(s.id_sku, world.variants[s.id_sku], target_price(s, today).digest(), s.to_data())
        for s in states
        if s.id_sku in world.variants
    ]
    assert len(rows) == len(world.variants)  # the weighed one too
    with session_scope() as session:
        bindings.upsert_many(session, world.shop_id, "price", rows)


def test_a_price_changed_in_shopify_is_reported_unless_settled_by_hand(world: World) -> None:
    """The prices flow sends only what changed in the ERP: a price edited by hand in Shopify (or a
    write lost) stays wrong until the report says so, with both prices. Weighed variants priced by
    the flow are in step; a price a person settled by hand in Shopify (`settled_by_hand` on its
    price binding) is theirs, not drift."""
    _priced_by_the_flow(world)
    assert _catalog(world)["prices_differ"] == []  # as the prices flow set them, weighed ones too
    sku = world.plain(0)
    _set_price(world, sku, "0.99")

    catalog = _catalog(world)

    [row] = catalog["prices_differ"]
    erp_price = str(world.chain.prices[sku])
    assert (row["sku"], row["shopify"]) == (sku, "0.99") and row["erp"] != "0.99", row
    assert row["why"] == f"price in Shopify 0.99, ERP {row['erp']}" and erp_price in row["erp"], row
    assert catalog["prices_differ_count"] == 1
    assert reconcile.summary({"catalog": catalog})["prices_differ_in_shopify"] == 1

    with session_scope() as session:
        price = bindings.get_many(session, world.shop_id, "price", [sku])[sku]
        price.data = {**price.data, "settled_by_hand": False}
    assert _catalog(world)["prices_differ"] == []
    with session_scope() as session:  # a promotion's date due today, the prices flow not past yet
        price = bindings.get_many(session, world.shop_id, "price", [sku])[sku]
        price.data = {
            **{k: v for k, v in price.data.items() if k != "settled_by_hand"},
            "recheck_on": "2000-01-01",
        }
    assert _catalog(world)["prices_differ"] == []

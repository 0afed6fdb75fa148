"""A live shop upgraded: the items an earlier version created untracked were refused their levels
by the stock flow ("not tracked"); the products pass tracks them (jobs/catalog_tracking.py) and
the next stock pass reads each company's ERP rows whole once, so those levels are written though
neither the catalogue nor the stock changed in the ERP lately."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update

from jobs import catalog_flow, prices, stock
from ledger.bindings import ITEMS_TRACKED_KIND, PRODUCT_KIND
from ledger.db import session_scope
from ledger.models import Binding, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api import for_shop

from .chain import messages
from .test_prices_flow import _stock_reads_from_its_watermark
from .test_stock_flow import erp_stock, expected


def _catalog_pass(shop, flow):
    client = for_shop(shop.domain)
    try:
        return catalog_flow.run_flow(shop.shop_id, flow, client=client)
    finally:
        client.close()


def _items(shop):
    with session_scope() as session:
        rows = session.query(Binding).filter(Binding.shop_id == shop.shop_id, Binding.kind == "variant").all()
        return {b.erp_id: b.data["inventory_item_id"] for b in rows}


def test_levels_refused_while_untracked_are_written_once_the_catalog_tracks_the_items(chain, monkeypatch):
    _stock_reads_from_its_watermark(monkeypatch)
    shop = chain.install("rastreio-antigo", 1, 1, [1])
    _catalog_pass(shop, "products")  # the first load
    prices.run(shop.shop_id)
    items = _items(shop)
    store = chain.shopify.sandbox.store
    with store.transaction():  # as the earlier version left them: untracked, no marker, its digests
        for gid in items.values():
            store.put(shop.name, {**store.get(shop.name, gid), "tracked": False})
    with session_scope() as session:
        session.execute(
            update(Binding)
            .where(Binding.shop_id == shop.shop_id, Binding.kind == PRODUCT_KIND)
            .values(digest="digest-of-the-earlier-input")
        )
        session.execute(
            delete(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == ITEMS_TRACKED_KIND)
        )
    stock.run(shop.shop_id)  # the earlier version's stock passes: refused, "not tracked"
    refused = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    assert refused and all("not tracked" in (m.error_text or "") for m in refused)
    with chain.consinco.erp.store.write() as (conn, now):  # the catalogue last changed a day ago
        conn.execute(t.map_produto.update().values(dtahoralteracao=now - dt.timedelta(days=1)))
        conn.execute(t.map_famembalagem.update().values(dtahoraltembpreco=now - dt.timedelta(days=1)))

    _catalog_pass(shop, "products")  # the upgrade: the next scheduled passes
    _catalog_pass(shop, "skus")
    assert all(store.get(shop.name, gid)["tracked"] for gid in items.values())
    stock.run(shop.shop_id)

    rows = erp_stock(chain, 1)
    want = {sku: expected(*rows[sku]) for sku in items if sku in rows}
    shown = {sku: chain.level(shop, items[sku], 1) for sku, level in want.items() if level is not None}
    assert shown == {sku: level for sku, level in want.items() if level is not None}
    still = [m.unit_key for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    assert still == []

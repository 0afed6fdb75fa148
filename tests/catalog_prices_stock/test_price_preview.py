"""The store's prices previewed in the catalog dry run (jobs.price_preview): before the first publish
every price the store's (company, segment) gives, promotions struck through; after the prices flow,
nothing; an ERP price changed since, with what Shopify shows now; a price settled by hand, kept; a
store link moved to another segment, the prices that choice changes. Nothing is written."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from jobs import price_preview, prices
from jobs.price_map import SETTLED_BY_HAND, WANTED_SALE_ACTIVE, erp_today
from ledger import bindings
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import Binding, Message
from sandbox.consinco import tables as t
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update
from .test_prices_flow import erp_prices, shown


def _preview(chain, shop, today):
    erp, client = chain.erp(), for_shop(shop.domain)
    try:
        return price_preview.preview(shop.shop_id, erp, client, today, 500)
    finally:
        erp.close()
        client.close()


def _written(shop_id: int) -> tuple[int, int]:
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Binding).where(Binding.kind == "price")),
            session.scalar(select(func.count()).select_from(Message).where(Message.shop_id == shop_id)),
        )


def test_the_first_publish_previews_every_price_and_the_flow_then_leaves_nothing(chain, calls):
    shop = chain.install("previa", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)  # the ERP sandbox's day (its promotions)
    items = erp_prices(chain, 1, 1)
    mark = calls.mark()
    first = _preview(chain, shop, today)
    assert calls.mutations(mark) == [] and _written(shop.shop_id) == (0, 0)
    assert (first["nro_empresa"], first["nro_segmento"]) == (1, 1)
    assert first["counts"] == {
        "first": len(items),
        "change": 0,
        "kept_by_hand": 0,
        "unchanged": 0,
        "unreadable": 0,
    }
    rows = {row["sku"]: row for row in first["first"]}
    promoted = [s for s, i in items.items() if i.promotional is not None and i.promotion_running]
    assert promoted, "the generated chain runs no promotion"
    for sku, item in items.items():
        row = rows[sku]
        if sku in promoted:
            assert (Decimal(row["price"]), Decimal(row["compare_at"])) == (item.promotional, item.normal)
            assert row["promotion_until"] == (item.promo_end.isoformat() if item.promo_end else None)
        else:
            assert (Decimal(row["price"]), row["compare_at"]) == (item.normal, None), sku
    # what the prices flow then sends is what the preview said
    prices.run(shop.shop_id, today=today)
    for sku, data in catalog.items():
        price, compare = shown(chain, shop, data["variant_id"])
        row = rows[sku]
        assert (price, compare) == (Decimal(row["price"]), row["compare_at"] and Decimal(row["compare_at"]))
    after = _preview(chain, shop, today)
    assert after["counts"]["unchanged"] == len(items) and after["first"] == after["change"] == []


def test_a_changed_erp_price_is_previewed_beside_what_shopify_shows_and_a_price_set_by_hand_is_kept(chain):
    shop = chain.install("previa-mudanca", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(
        chain, t.mrl_prodempseg, {"nroempresa": 1}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None
    )  # fmt: skip  (only this test's prices)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    (sku, data), (hand, _hand_data) = [
        (s, d) for s, d in sorted(catalog.items()) if d["qtd_embalagem"] == "1"
    ][:2]
    item = erp_prices(chain, 1, 1)[sku]
    was = shown(chain, shop, data["variant_id"])
    erp_update(chain, t.mrl_prodempseg, {"nroempresa": 1, "nrosegmento": 1, "seqproduto": item.seq_produto},
               precovalidnormal=item.normal + Decimal("1.50"))  # fmt: skip
    with session_scope() as session:  # Shopify refused `hand`'s price, a person settled it by hand
        [kept] = bindings.get_many(session, shop.shop_id, "price", [hand]).values()
        kept.digest = None  # kept due, as jobs.price_send.record_refused leaves it
        kept.data = {**kept.data, WANTED_SALE_ACTIVE: True, SETTLED_BY_HAND: False}  # no promotion ran

    preview = _preview(chain, shop, today)
    changed = {row["sku"]: row for row in preview["change"]}
    assert sku in changed, preview["change"]
    assert (
        Decimal(changed[sku]["price"]) == item.normal + Decimal("1.50") and changed[sku]["compare_at"] is None
    )
    assert Decimal(changed[sku]["before"]["price"]) == was[0]  # what Shopify shows now
    assert [row["sku"] for row in preview["kept_by_hand"]] == [hand]
    prices.run(shop.shop_id, today=today)  # the flow does what the preview said: and then nothing more
    assert shown(chain, shop, data["variant_id"])[0] == item.normal + Decimal("1.50")
    again = _preview(chain, shop, today)
    assert again["change"] == [] and [row["sku"] for row in again["kept_by_hand"]] == [hand]


def test_a_store_link_moved_to_another_segment_previews_the_prices_that_change(chain):
    shop = chain.install("previa-segmento", 1, 1, [1])
    chain.load_catalog(shop)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    one, two = erp_prices(chain, 1, 1), erp_prices(chain, 1, 2)
    differ = {
        s
        for s in one
        if s in two and (one[s].normal, one[s].promotional) != (two[s].normal, two[s].promotional)
    }
    assert differ, "the generated chain prices its segments alike"
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    preview = _preview(chain, shop, today)
    assert (preview["nro_empresa"], preview["nro_segmento"]) == (1, 2)
    assert differ <= {row["sku"] for row in preview["change"]}


def test_without_a_store_link_the_prices_are_not_previewed_and_the_dry_run_stands(chain):
    from jobs import catalog_diff
    from ledger.models import StoreLink

    shop = chain.install("previa-sem-loja", 1, 1, [1])
    chain.load_catalog(shop)
    with session_scope() as session:
        session.query(StoreLink).filter(StoreLink.shop_id == shop.shop_id).delete()
    result = catalog_diff.compute(shop.shop_id)
    assert "not linked to an ERP company and segment yet" in result["prices"]["error"] and "counts" in result

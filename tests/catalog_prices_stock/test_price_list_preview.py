"""The markets' price lists previewed in the catalog dry run (jobs.price_list_preview): before a
market's first sync every price its (company, segment) gives and that a list will be made; after
the sync, nothing; an ERP price changed since beside the list's fixed price now, a price settled by
hand kept, a price the ERP no longer has taken off the list; the market's own list adopted, with the
prices it holds; a market Shopify lacks or one in another currency said on its pair; a list whose
pair is no longer mapped, emptied by the next sync. Nothing is written, and the sync then does what
the preview said."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

import app as app_module
from jobs import catalog_diff, price_list_preview, prices
from jobs.price_map import SETTLED_BY_HAND, erp_today
from ledger import bindings, handled
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.mappings import delete_mapping, upsert_mapping
from ledger.models import Binding, Message
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages
from .test_failures import GONE
from .test_price_list_setup import _merchant_catalog, _sell_in
from .test_price_lists import _beyond_the_overlap, _list_market
from .test_prices_flow import erp_prices


def _preview(chain, shop, today=None):
    erp, client = chain.erp(), for_shop(shop.domain)
    try:
        return price_list_preview.preview(
            shop.shop_id, erp, client, today or erp_today(get_settings().erp_timezone), 500
        )
    finally:
        erp.close()
        client.close()


def _ledger(shop_id: int) -> tuple:
    with session_scope() as session:
        rows = session.execute(
            select(Binding.kind, Binding.erp_id, Binding.shopify_id, Binding.digest, Binding.data).where(
                Binding.shop_id == shop_id
            )
        ).all()
        count = session.scalar(select(func.count()).select_from(Message).where(Message.shop_id == shop_id))
    return sorted(map(repr, rows)), count


def _reads_only(calls, mark) -> bool:
    """Only reads went to Shopify since `mark` (the markets, their catalogs, a list's prices)."""
    return set(calls.names(mark)) <= {"Markets", "MarketCatalogs", "PriceListPrices"}


def _new_market(chain, shop, name: str, handle: str) -> str:
    """A second market, as the merchant adds one in the admin (the sandbox shop starts with one)."""
    store = chain.shopify.sandbox.store
    primary = next(iter(store.scan(shop.name, "Market")))
    made = {**primary, "id": store.new_gid("Market"), "name": name, "handle": handle, "primary": False}
    store.put(shop.name, made, keys={"kind": "market"})
    return made["id"]


def _list_prices(chain, shop) -> dict[str, str]:
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return price_list["prices"]


def test_a_markets_first_sync_is_previewed_whole_and_the_sync_then_leaves_nothing(chain, calls):
    shop = chain.install("lista-previa", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    items = erp_prices(chain, 2, 2)
    before, mark = _ledger(shop.shop_id), calls.mark()

    (pair,) = _preview(chain, shop)["lists"]

    assert _reads_only(calls, mark) and _ledger(shop.shop_id) == before  # nothing written
    assert (pair["market_id"], pair["market_name"], pair["nro_empresa"], pair["nro_segmento"]) == (
        market,
        "Brasil",
        2,
        2,
    )
    assert (pair["list"], pair["price_list_id"]) == ("created", None)
    assert pair["counts"] == {
        "first": len(items),
        "change": 0,
        "kept_by_hand": 0,
        "no_price": 0,
        "unchanged": 0,
        "unreadable": 0,
    }
    rows = {row["sku"]: row for row in pair["first"]}
    promoted = [s for s, i in items.items() if i.promotional is not None and i.promotion_running]
    assert promoted, "the generated chain runs no promotion at pair 2:2"
    for sku, item in items.items():
        row = rows[sku]
        assert row["variant_id"] == catalog[sku]["variant_id"] and "before" not in row
        if sku in promoted:
            assert (Decimal(row["price"]), Decimal(row["compare_at"])) == (item.promotional, item.normal)
        else:
            assert (Decimal(row["price"]), row["compare_at"]) == (item.normal, None), sku

    prices.run(shop.shop_id)  # what the sync sends is what the preview said
    listed = _list_prices(chain, shop)
    assert {v: Decimal(p) for v, p in listed.items()} == {
        catalog[s]["variant_id"]: Decimal(r["price"]) for s, r in rows.items()
    }
    (after,) = _preview(chain, shop)["lists"]
    assert after["list"] == "bound" and after["price_list_id"].startswith("gid://shopify/PriceList/")
    assert after["counts"]["unchanged"] == len(items)
    assert after["first"] == after["change"] == after["kept_by_hand"] == after["no_price"] == []


def test_changes_beside_the_lists_price_a_price_settled_by_hand_and_one_the_erp_no_longer_has(
    chain, calls, monkeypatch
):
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-previa-mudanca", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    erp_update(
        chain, t.mrl_prodempseg, {"nroempresa": 2}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None
    )  # fmt: skip  (no promotion at the market's pair)
    plain = sorted(s for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    changed, hand, gone = plain[:3]
    # `hand`'s list price refused by Shopify (its variant binding stale), then its message closed as
    # handled: a person settled it in Shopify
    data = dict(catalog[hand])
    variant_data = {k: v for k, v in data.items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(hand, GONE, None, variant_data)])
    prices.run(shop.shop_id)
    unit = f"pricelist:{market.rsplit('/', 1)[-1]}:sku:{hand}"
    [refused] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(hand, data["variant_id"], None, variant_data)]
        )
        handled.mark(session, session.get(Message, refused.id), by="31", note="left as it is in Shopify")
    items = erp_prices(chain, 2, 2)
    was = _list_prices(chain, shop)[catalog[changed]["variant_id"]]

    def set_price(sku: str, normal: Decimal) -> None:
        where = {
            "nroempresa": 2,
            "nrosegmento": 2,
            "seqproduto": catalog[sku]["seq_produto"],
            "qtdembalagem": 1,
        }
        erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=normal)

    set_price(changed, items[changed].normal + Decimal("2.50"))  # a second change: still one row
    set_price(gone, Decimal(0))
    before, mark = _ledger(shop.shop_id), calls.mark()

    (pair,) = _preview(chain, shop)["lists"]

    assert _reads_only(calls, mark) and _ledger(shop.shop_id) == before  # the settlement not recorded
    assert pair["list"] == "bound"
    [row] = [r for r in pair["change"] if r["sku"] == changed]
    assert Decimal(row["price"]) == items[changed].normal + Decimal("2.50") and row["compare_at"] is None
    assert row["before"] == {"price": was, "compare_at": None}  # the list's fixed price now
    assert [r["sku"] for r in pair["kept_by_hand"]] == [hand]
    assert [(r["sku"], r["price"], r["removes_fixed"]) for r in pair["no_price"]] == [(gone, None, True)]

    prices.run(shop.shop_id)  # the sync does what the preview said
    listed = _list_prices(chain, shop)
    assert Decimal(listed[catalog[changed]["variant_id"]]) == items[changed].normal + Decimal("2.50")
    assert catalog[gone]["variant_id"] not in listed
    with session_scope() as session:
        key = f"{pair['price_list_id'].rsplit('/', 1)[-1]}:{hand}"
        assert SETTLED_BY_HAND in bindings.get_many(session, shop.shop_id, "list_price", [key])[key].data
    (again,) = _preview(chain, shop)["lists"]
    assert again["change"] == [] and [r["sku"] for r in again["kept_by_hand"]] == [hand]
    assert [(r["sku"], r["removes_fixed"]) for r in again["no_price"]] == [(gone, False)]


def test_the_markets_own_list_is_adopted_and_its_fixed_prices_shown(chain, calls):
    shop = chain.install("lista-previa-propria", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    own = _merchant_catalog(shop, market, "Tabela da loja", currency="BRL")
    sku, data = sorted(catalog.items())[0]
    client = for_shop(shop.domain)
    client.price_list_fixed_prices_add(
        own, [{"variantId": data["variant_id"], "price": {"amount": "1.99", "currencyCode": "BRL"}}]
    )
    client.close()

    (pair,) = _preview(chain, shop)["lists"]

    assert (pair["list"], pair["price_list_id"]) == ("adopted", own)
    rows = {r["sku"]: r for r in pair["first"]}
    assert rows[sku]["before"] == {"price": "1.99", "compare_at": None}  # the merchant's price, replaced
    assert all(r["before"] is None for s, r in rows.items() if s != sku)  # at the base price now


def test_a_missing_market_and_one_in_another_currency_are_said_and_an_unmapped_list_is_emptied(chain):
    shop = chain.install("lista-previa-erros", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    list_id = next(iter(dump(chain.shopify.sandbox, shop.name)["priceLists"]))["id"]
    missing = "gid://shopify/Market/999999"
    with session_scope() as session:
        assert delete_mapping(session, shop.shop_id, "segment_market", market)
        upsert_mapping(session, shop.shop_id, "segment_market", missing, "3:1", "Mercado apagado")
    dollars = _new_market(chain, shop, "Exterior", "us")
    _sell_in(chain, shop, dollars, "USD")
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", dollars, "4:2", "Exterior")

    result = _preview(chain, shop)

    said = {p["market_id"]: p for p in result["lists"]}
    assert "does not exist in Shopify" in said[missing]["error"] and "counts" not in said[missing]
    assert said[missing]["market_name"] == "Mercado apagado"  # the mapping's label: Shopify has none
    assert "it sells in USD" in said[dollars]["error"] and "counts" not in said[dollars]
    assert result["retiring"] == [
        {
            "market_id": market,
            "nro_empresa": 2,
            "nro_segmento": 2,
            "price_list_id": list_id,
            "fixed_prices": len(catalog),
            "market_name": "Brasil",  # Shopify's name for it
        }
    ]
    prices.run(shop.shop_id)  # the sync empties it, as said
    assert _list_prices(chain, shop) == {}
    assert _preview(chain, shop)["retiring"] == []


def test_the_dry_run_and_its_cli_show_the_lists_and_a_shop_without_markets_shows_none(chain):
    shop = chain.install("lista-previa-cli", 1, 1, [1])
    chain.load_catalog(shop)
    assert "price_lists" not in catalog_diff.compute(shop.shop_id)  # no market mapped
    market = _list_market(shop)
    result = catalog_diff.compute(shop.shop_id)
    (pair,) = result["price_lists"]["lists"]
    assert pair["market_id"] == market and pair["counts"]["first"] > 0

    flask_app = app_module.create_app(blueprints=(), cli_modules=("jobs.catalog_cli",))
    out = flask_app.test_cli_runner().invoke(args=["catalog", "diff", "--shop", shop.domain])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    head = f"price list (market {market}, company 2, segment 2, a list made by the first sync): "
    [line] = [x for x in lines if x.startswith(head)]
    assert f"{pair['counts']['first']} first, 0 change" in line
    assert any(x.startswith("list ") and " first: " in x for x in lines)

"""Further (company, segment) pairs mapped to markets get a price list, created once, updated by
digest, 250 prices per call."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from jobs import prices
from jobs.price_map import erp_today
from ledger import bindings, handled, trace
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.mappings import delete_mapping, upsert_mapping
from ledger.models import Message, MessageStatus
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages


def test_a_mapped_market_gets_the_pairs_prices_once(chain, calls):
    shop = chain.install("mercados", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2 da loja 2")
    mark = calls.mark()
    result = prices.run(shop.shop_id)
    assert result.list_prices == len(catalog)
    made = calls.mutations(mark)
    assert made.count("CatalogCreate") == 1 and made.count("PriceListCreate") == 1
    assert made.count("PriceListFixedPricesAdd") == 1  # 16 prices: one call
    erp = chain.erp()
    items = {i.id_sku: i for i in erp.price_items(None, 2, 2)}
    erp.close()
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    for sku, data in catalog.items():
        item = items[sku]
        want = item.promotional if item.promotion_running else item.normal
        assert Decimal(str(price_list["prices"][data["variant_id"]])) == want.quantize(Decimal("0.01"))

    mark = calls.mark()
    prices.run(shop.shop_id)
    assert calls.mutations(mark) == []  # nothing changed, nothing created again
    seq = next(iter(catalog.values()))["seq_produto"]
    chain.consinco.erp.simulator.update_prices([seq], 1.2, 2)
    prices.run(shop.shop_id)
    assert calls.mutations(mark) == ["PriceListFixedPricesAdd"]  # the store's own prices (company 1) kept


def _beyond_the_overlap(monkeypatch) -> None:
    """Each pass reads from its watermark only (as when more than the 120 s overlap passed)."""
    import jobs.prices as flow

    real = flow.erp_for_shop
    monkeypatch.setattr(flow, "erp_for_shop", lambda shop_id, **o: real(shop_id, overlap=timedelta(0), **o))


def _list_market(shop) -> str:
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, "2:2", "Segmento 2")
    return market.id


def test_list_prices_read_before_their_variants_exist_arrive_once_they_do(chain, monkeypatch):
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("listas-antes", 1, 1, [1])
    _list_market(shop)
    assert prices.run(shop.shop_id).waiting > 0  # no variant in Shopify yet
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)  # the ERP rows are behind the watermark now: remembered, not re-read
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert sorted(price_list["prices"]) == sorted(d["variant_id"] for d in catalog.values())


def test_one_bad_variant_is_named_and_the_rest_of_its_list_batch_lands(chain, monkeypatch):
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-um-ruim", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    bad, data = next(iter(catalog.items()))
    gone = "gid://shopify/ProductVariant/999999"  # deleted in Shopify by hand
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "variant", [bad])[bad]
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, gone, None, dict(binding.data))]
        )
    prices.run(shop.shop_id)

    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert sorted(price_list["prices"]) == sorted(d["variant_id"] for s, d in catalog.items() if s != bad)
    listed = [m for m in messages(shop.shop_id, "prices") if m.unit_key.startswith("pricelist:")]
    [batch] = [m for m in listed if ":sku:" not in m.unit_key]
    assert batch.status == MessageStatus.DONE.value  # the call's other prices landed
    assert batch.response_payload["prices"] == len(catalog) - 1
    assert batch.response_payload["refused"] == [bad]
    [failed] = [m for m in listed if ":sku:" in m.unit_key]  # the refused price has a message of its own
    assert failed.unit_key.endswith(f":sku:{bad}") and failed.status == MessageStatus.FAILED.value
    assert bad in (failed.error_text or "") and failed.error_detail["refused"][0]["sku"] == bad

    with session_scope() as session:  # the catalog flow binds the variant again
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, data["variant_id"], None, dict(binding.data))]
        )
    prices.run(shop.shop_id)  # no ERP change: the refused price was remembered as due
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] in price_list["prices"]
    # It landed in another call: its own message says so, nothing stays failed.
    [again] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == failed.unit_key]
    assert again.status == MessageStatus.DONE.value and again.response_payload["sent_in"].startswith(
        "pricelist:"
    )
    failing = [(m.unit_key, m.error_text) for m in messages(shop.shop_id, "prices") if m.status == "failed"]
    assert failing == []  # nor the store's own price of it (due again until taken)


def test_a_call_whose_only_price_is_refused_names_it_on_its_own_message_which_a_person_can_close(
    chain, monkeypatch
):
    """An incremental pass's call of one price, its variant deleted in Shopify: Shopify names every
    price of the call. The call's message is done, the SKU's own fails (it failed the call's message
    whole, no SKU's message: closed as handled, the next pass failed it again)."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-so-um", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop).rsplit("/", 1)[-1]
    prices.run(shop.shop_id)  # every list price sent
    bad, data = next(iter(catalog.items()))
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "variant", [bad])[bad]
        gone = BindingRow(bad, "gid://shopify/ProductVariant/999999", None, dict(binding.data))
        bindings.upsert_many(session, shop.shop_id, "variant", [gone])
    where = {"nroempresa": 2, "nrosegmento": 2, "seqproduto": data["seq_produto"]}
    where["qtdembalagem"] = int(Decimal(data["qtd_embalagem"]))
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=77.77)  # that SKU's list price changes
    prices.run(shop.shop_id)

    listed = {m.unit_key: m for m in messages(shop.shop_id, "prices") if m.unit_key.startswith("pricelist:")}
    failed = [m for m in listed.values() if m.status != MessageStatus.DONE.value]
    assert [m.unit_key for m in failed] == [f"pricelist:{market}:sku:{bad}"]
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed[0].id), by="31", note="preço posto à mão")
    prices.run(shop.shop_id)
    assert [m.unit_key for m in messages(shop.shop_id, "prices") if m.status == "failed"] == []


def test_deleting_a_market_mapping_removes_its_fixed_prices_and_mapping_it_again_sends_them(
    chain, calls, monkeypatch
):
    """A pair's market mapping deleted: the next pass removes the pair's fixed prices from the
    market's price list (no longer updated, its promotions would never end there), one message per
    call, and forgets them; mapping the pair again sends every price again."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("mapa-apagado", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert len(price_list["prices"]) == len(catalog)
    client = for_shop(shop.domain)  # one fixed price already gone (by hand in the admin, say)
    client.price_list_fixed_prices_delete(price_list["id"], [next(iter(price_list["prices"]))])
    client.close()
    with session_scope() as session:
        assert delete_mapping(session, shop.shop_id, "segment_market", market)
    mark = calls.mark()
    prices.run(shop.shop_id)
    # 16 prices, one call: Shopify names the one it lacks (VARIANT_NOT_FOUND), the rest go again
    assert calls.mutations(mark) == ["PriceListFixedPricesDelete"] * 2
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert price_list["prices"] == {}
    removal = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert [m.status for m in removal] == [MessageStatus.DONE.value]
    with session_scope() as session:
        left = bindings.get_many(session, shop.shop_id, "price_list", [f"2:2@{market}"])
        assert left == {}
    mark = calls.mark()
    prices.run(shop.shop_id)
    assert calls.mutations(mark) == []  # nothing left to remove

    _list_market(shop)  # mapped again: behind no watermark, every price goes again
    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert len(price_list["prices"]) == len(catalog)


def test_retiring_a_list_whose_fixed_prices_are_all_gone_forgets_it(chain, calls, monkeypatch):
    """Every fixed price of a retired pair is already gone from the list (removed by hand, or an
    earlier retirement's delete succeeded and the worker died before the bindings went). Shopify
    names each as VARIANT_NOT_FOUND, which is already what we want: the removal call is done and
    the pair forgotten, not failed and sent again on every pass."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("retira-vazio", 1, 1, [1])
    chain.load_catalog(shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    client = for_shop(shop.domain)
    client.price_list_fixed_prices_delete(price_list["id"], list(price_list["prices"]))  # all gone
    client.close()
    with session_scope() as session:
        assert delete_mapping(session, shop.shop_id, "segment_market", market)
    prices.run(shop.shop_id)
    mark = calls.mark()
    prices.run(shop.shop_id)
    with session_scope() as session:
        left = bindings.get_many(session, shop.shop_id, "price_list", [f"2:2@{market}"])
    removal = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert (
        sorted(left),
        [(m.status, m.error_text) for m in removal],
        calls.mutations(mark),
    ) == ([], [(MessageStatus.DONE.value, None)], [])


def test_a_list_price_the_erp_has_none_for_is_not_sent_and_is_said_by_name(chain, monkeypatch):
    """The pair's normal price is 0 (Consinco's "no price"): no fixed price of R$ 0.00 goes to the
    market's list, a failed message names the SKU and why, and a real price later lands and
    closes it."""
    from sandbox.consinco import tables as t

    from .chain import erp_update

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-sem-preco", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    sku, data = next(iter(catalog.items()))
    where = {"nroempresa": 2, "nrosegmento": 2, "seqproduto": data["seq_produto"]}
    erp_update(chain, t.mrl_prodempseg, {**where, "qtdembalagem": int(Decimal(data["qtd_embalagem"]))},
               precovalidnormal=0)  # fmt: skip
    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] not in price_list["prices"] and len(price_list["prices"]) == len(catalog) - 1
    unit = f"pricelist:{market.rsplit('/', 1)[-1]}:sku:{sku}"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    assert said.status == MessageStatus.FAILED.value
    assert said.error_text.startswith(f"{sku}: the ERP has no price (0) for company 2 segment 2")
    # The market's pair, not the store's: explained as the market falling back to the base price.
    detail = said.error_detail
    assert (detail["code"], detail["company"], detail["segment"], detail["market"]) == (
        "LIST_NO_PRICE",
        2,
        2,
        market,
    )
    erp_update(chain, t.mrl_prodempseg, {**where, "qtdembalagem": int(Decimal(data["qtd_embalagem"]))},
               precovalidnormal=12.34, precovalidpromoc=0)  # fmt: skip
    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert price_list["prices"][data["variant_id"]] == "12.34"
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_a_failed_retirement_message_is_not_left_failed_once_the_pair_is_mapped_again(chain, monkeypatch):
    """The merchant deletes a market mapping; Shopify refuses the removal once (a userError); the
    message is failed on the Messages page. The merchant maps the pair to the market again (the
    fixed prices are wanted after all): the next pass, or Retry on that message (a whole pass),
    settles it as skipped saying why, instead of leaving it failed for good."""
    from ledger.mappings import delete_mapping
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("retira-falha", 1, 1, [1])
    chain.load_catalog(shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    real = AdminClient.price_list_fixed_prices_delete

    def refuse(self, list_id, variant_ids):
        raise ShopifyUserErrors("priceListFixedPricesDelete", [UserError(("priceListId",), "busy", "BLANK")])

    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", refuse)
    with session_scope() as session:
        assert delete_mapping(session, shop.shop_id, "segment_market", market)
    prices.run(shop.shop_id)
    (removal,) = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert removal.status == MessageStatus.FAILED.value
    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", real)
    _list_market(shop)  # mapped again
    prices.run(shop.shop_id)
    prices.replay(removal.id)  # what Retry on the Messages page runs
    (removal,) = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert removal.status == MessageStatus.SKIPPED.value, (removal.status, removal.error_text)
    assert "mapped again" in (removal.error_text or "")


def test_a_list_price_the_erp_no_longer_has_is_removed_so_a_promotion_there_does_not_outlive_it(
    chain, calls, monkeypatch
):
    """Pair 2:2 (the market's list) runs a promotion on a SKU: the list holds the promotional fixed
    price. Then the ERP has no price for the pair (PRECOVALIDNORMAL 0, the promotion gone): nothing
    is sent, and the fixed price is removed (kept, the market would sell at it for good), the SKU
    named on its "no price" message. A removal Shopify refuses is made again by the next pass."""
    from sandbox.consinco import tables as t
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

    from .chain import erp_update

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-promo-zero", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    market = _list_market(shop)
    today = erp_today(get_settings().erp_timezone)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    chain.consinco.erp.simulator.set_promotion((2, 2, data["seq_produto"], 1), 0.5, days=2)
    prices.run(shop.shop_id, today=today)
    assert data["variant_id"] in _list_prices(chain, shop)
    where = {"nroempresa": 2, "nrosegmento": 2, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=0, precovalidpromoc=0,
               dtainicioprom=None, dtafimprom=None)  # fmt: skip
    real = AdminClient.price_list_fixed_prices_delete

    def refuse(self, list_id, variant_ids):
        raise ShopifyUserErrors("priceListFixedPricesDelete", [UserError(("priceListId",), "busy", "BLANK")])

    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", refuse)
    prices.run(shop.shop_id, today=today)
    assert data["variant_id"] in _list_prices(chain, shop)  # refused: still there
    (removal,) = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert removal.status == MessageStatus.FAILED.value and removal.request_payload["skus"] == [sku]
    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", real)

    prices.run(shop.shop_id, today=today)  # the ERP row behind the watermark: due, made again
    assert data["variant_id"] not in _list_prices(chain, shop)
    said = {m.unit_key: m for m in messages(shop.shop_id, "prices")}
    assert said[removal.unit_key].status == MessageStatus.DONE.value
    unpriced = said[f"pricelist:{market.rsplit('/', 1)[-1]}:sku:{sku}"]
    assert unpriced.status == MessageStatus.FAILED.value
    assert unpriced.error_text.startswith(f"{sku}: the ERP has no price (0) for company 2 segment 2")
    assert "the market shows the base price" in unpriced.error_text
    mark = calls.mark()
    prices.run(shop.shop_id, today=today + timedelta(days=10))  # the promotion's end: nothing comes back
    assert data["variant_id"] not in _list_prices(chain, shop)
    assert calls.mutations(mark) == []

    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=12.34)
    prices.run(shop.shop_id, today=today + timedelta(days=10))
    assert _list_prices(chain, shop)[data["variant_id"]] == "12.34"
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def _list_prices(chain, shop) -> dict[str, str]:
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return price_list["prices"]


def test_a_list_setup_parked_on_a_missing_market_is_closed_once_the_mapping_is_gone_or_it_syncs(chain):
    """A pair mapped to a market that does not exist parks its list's setup message. Deleting that
    mapping closes it (nothing to set up); a setup that failed and then synced is done."""
    shop = chain.install("mercado-sumido", 1, 1, [1])
    chain.load_catalog(shop)
    ghost = "gid://shopify/Market/999999"
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", ghost, "2:2", "Segmento 2")
    prices.run(shop.shop_id)
    setup = {m.unit_key: m.status for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":setup")}
    assert setup == {"pricelist:999999:setup": MessageStatus.PARKED.value}
    with session_scope() as session:
        assert delete_mapping(session, shop.shop_id, "segment_market", ghost)
    prices.run(shop.shop_id)
    setup = {m.unit_key: m.status for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":setup")}
    assert setup == {"pricelist:999999:setup": MessageStatus.SKIPPED.value}

    market = _list_market(shop)  # a real market: its list syncs; an old failed setup of it is done
    short = market.rsplit("/", 1)[-1]
    with session_scope() as session:
        old = trace.begin(session, shop.shop_id, "prices", f"pricelist:{short}:setup", "erp_to_shopify")
        trace.fail(session, old, Transient("Shopify unreachable"))
    prices.run(shop.shop_id)
    setup = {m.unit_key: m.status for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":setup")}
    assert setup[f"pricelist:{short}:setup"] == MessageStatus.DONE.value


def test_a_list_batch_that_failed_whole_is_closed_once_its_prices_go_in_with_another_batch(
    chain, monkeypatch
):
    """A list call failing whole (Shopify down) leaves its batch message retrying; the next pass
    sends the same prices with another price that changed meanwhile, under another batch: the first
    message is closed then, not left retrying on prices the list holds."""
    from shopify_app.admin_api.client import AdminClient

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-presa", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    prices.run(shop.shop_id)  # the list made, every price sent
    seqs = sorted({d["seq_produto"] for d in catalog.values()})
    chain.consinco.erp.simulator.update_prices([seqs[0]], 1.2, 2)
    real, down = AdminClient.price_list_fixed_prices_add, [True]

    def flaky(self, list_id, entries):
        if down.pop() if down else False:
            raise Transient("Shopify 503")
        return real(self, list_id, entries)

    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_add", flaky)
    with pytest.raises(Transient):
        prices.run(shop.shop_id)
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.startswith("pricelist:")
                and ":setup" not in m.unit_key and m.status != MessageStatus.DONE.value]  # fmt: skip
    chain.consinco.erp.simulator.update_prices([seqs[1]], 1.3, 2)  # another price of the pair changes

    prices.run(shop.shop_id)  # RQ's retry: every price goes in, in another batch

    left = [
        (m.unit_key, m.status)
        for m in messages(shop.shop_id, "prices")
        if m.status != MessageStatus.DONE.value
    ]
    assert left == [], left
    [closed] = [m for m in messages(shop.shop_id, "prices") if m.id == failed.id]
    assert "sent_again_in" in (closed.response_payload or {})


def _drop_from_pair(chain, seqs) -> None:
    """The market's pair (2:2) no longer lists these products: their rows deleted in the ERP."""
    rows = t.mrl_prodempseg
    with chain.consinco.erp.store.write() as (conn, _now):
        for seq in seqs:
            mine = (rows.c.nroempresa == 2) & (rows.c.nrosegmento == 2) & (rows.c.seqproduto == seq)
            conn.execute(rows.delete().where(mine))


def _listed_then_dropped(chain, monkeypatch, name: str) -> tuple[Any, dict]:
    """A shop whose market's list holds a unit SKU's fixed price, then the pair's row of that
    product deleted in the ERP: (the shop, the SKU's catalog data)."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    prices.run(shop.shop_id)
    data = next(d for d in catalog.values() if Decimal(d["qtd_embalagem"]) == 1)
    assert data["variant_id"] in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    _drop_from_pair(chain, [data["seq_produto"]])
    return shop, data


def test_a_fixed_price_of_a_sku_the_pair_no_longer_lists_is_removed_by_the_whole_read(chain, monkeypatch):
    """A product's row deleted from the market's pair: no change of the pair's ever names it again,
    so the daily whole read removes its fixed prices (the market falls back to the base price)."""
    shop, data = _listed_then_dropped(chain, monkeypatch, "lista-sumiu")

    prices.run(shop.shop_id)  # an incremental pass: nothing names it
    assert data["variant_id"] in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    prices.sweep(shop.shop_id)  # the daily whole read of every pair

    listed = dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    assert data["variant_id"] not in listed and len(listed) > 1  # the others stay
    assert [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":unlisted")] == []


def test_a_refused_removal_of_a_live_lists_fixed_price_stays_failed_and_its_retry_removes_it(
    chain, monkeypatch
):
    """Shopify refused removing the fixed price of a SKU the pair no longer lists: its message is
    no retirement's (the market's pair is mapped), so the next pass does not settle it as "nothing
    to remove"; its Retry reads the pair whole, finds the SKU again and removes its price."""
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

    shop, data = _listed_then_dropped(chain, monkeypatch, "lista-remocao-recusada")
    real = AdminClient.price_list_fixed_prices_delete

    def refused(self, list_id, variant_ids):
        raise ShopifyUserErrors("priceListFixedPricesDelete", [UserError(("priceListId",), "busy", "BLANK")])

    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", refused)
    prices.sweep(shop.shop_id)
    monkeypatch.setattr(AdminClient, "price_list_fixed_prices_delete", real)
    prices.run(shop.shop_id)  # the next scheduled pass
    (removal,) = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert removal.status == MessageStatus.FAILED.value, removal.error_text
    assert data["variant_id"] in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]

    prices.replay(removal.id)  # a person's Retry
    (removal,) = [m for m in messages(shop.shop_id, "prices") if ":remove:" in m.unit_key]
    assert removal.status == MessageStatus.DONE.value, removal.error_text
    assert data["variant_id"] not in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]


def _listed_with_a_promotion_to_come(chain, monkeypatch, name: str) -> tuple[Any, dict, dict, Any]:
    """A shop whose market lists pair 2:2, one unit SKU of which has a promotion starting in 3 days
    (no other promotion), after a pass: (shop, catalog, that SKU's data, today)."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    _list_market(shop)
    today = erp_today(get_settings().erp_timezone)
    data = next(d for d in catalog.values() if Decimal(d["qtd_embalagem"]) == 1)
    where = {"nroempresa": 2, "nrosegmento": 2, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidpromoc=1.11,
               dtainicioprom=today + timedelta(days=3), dtafimprom=today + timedelta(days=6))  # fmt: skip
    prices.run(shop.shop_id, today=today)
    return shop, catalog, data, today


def test_a_removed_fixed_price_does_not_come_back_on_its_old_promotions_dates(chain, monkeypatch):
    """Its binding kept the promotion's start to recheck on: that day's pass rebuilt the old state
    and sent the fixed price (promotional, with compare-at) of a SKU the pair no longer sells."""
    shop, _catalog, data, today = _listed_with_a_promotion_to_come(chain, monkeypatch, "lista-volta")
    assert data["variant_id"] in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    _drop_from_pair(chain, [data["seq_produto"]])
    prices.sweep(shop.shop_id, today=today + timedelta(days=1))
    assert data["variant_id"] not in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]

    for day in (3, 7):  # the old promotion's start, and the day after its end
        prices.run(shop.shop_id, today=today + timedelta(days=day))
        assert data["variant_id"] not in dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]


def test_fixed_prices_missing_from_a_whole_read_in_numbers_are_held_for_a_person_and_removed_on_retry(
    chain, monkeypatch
):
    """Most of the pair gone from one read is more likely a wrong read or setup than products no longer
    sold: none removed, one failed message names them; its Retry (a person checked) removes them."""
    from jobs import absence

    _beyond_the_overlap(monkeypatch)
    monkeypatch.setattr(absence, "HELD_MIN", 2)  # this small chain's catalog
    shop = chain.install("lista-muitos", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    prices.run(shop.shop_id)
    before = dict(dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"])
    seqs = sorted({d["seq_produto"] for d in catalog.values()})
    _drop_from_pair(chain, seqs[: len(seqs) * 2 // 3])

    prices.sweep(shop.shop_id)

    assert dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"] == before
    [held] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":unlisted")]
    assert held.status == MessageStatus.FAILED.value and held.error_detail["code"] == "LIST_UNLISTED_HELD"
    assert "none was removed" in held.error_text
    prices.replay(held.id)  # a person checked: those it named, still missing, are removed
    after = dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    assert len(after) < len(before) and set(after) <= set(before)
    [closed] = [m for m in messages(shop.shop_id, "prices") if m.id == held.id]
    assert closed.status == MessageStatus.DONE.value


def test_fixed_prices_held_for_a_person_start_no_promotion_of_their_old_records(chain, monkeypatch):
    """Held ("none was removed"), a fixed price kept the dates of its old record: on that record's
    promotion's start the due pass sent a promotional price no record of the pair gives."""
    from jobs import absence

    monkeypatch.setattr(absence, "HELD_MIN", 2)  # this small chain's catalog
    shop, catalog, data, today = _listed_with_a_promotion_to_come(chain, monkeypatch, "lista-retida")
    before = dict(dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"])
    seqs = sorted({d["seq_produto"] for d in catalog.values()})
    _drop_from_pair(chain, sorted({data["seq_produto"], *seqs[: len(seqs) * 2 // 3]}))
    prices.sweep(shop.shop_id, today=today + timedelta(days=1))
    assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":unlisted")] == [
        "failed"
    ]

    prices.run(shop.shop_id, today=today + timedelta(days=3))  # the old promotion's start
    assert dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"] == before


def test_a_list_whose_catalog_was_deleted_is_given_to_the_market_again_by_the_whole_read(chain, monkeypatch):
    """catalogDelete leaves the catalog's price list on no market: prices sent to it were taken and
    reached no one, every message done. The daily whole read asks the market's catalogs: the list on
    none, a new catalog of the market holds it again (its prices as they were; Shopify keeps a list's
    name unique, so it is not made again beside it), said once."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-sem-catalogo", 1, 1, [1])
    chain.load_catalog(shop)
    market_id = _list_market(shop)
    prices.run(shop.shop_id)
    client = for_shop(shop.domain)
    [catalog] = client.market_catalogs(market_id)
    held = dump(chain.shopify.sandbox, shop.name)["priceLists"][0]["prices"]
    chain.shopify.sandbox.store.delete(shop.name, catalog.id)  # deleted in the admin, its list kept
    assert client.market_catalogs(market_id) == []

    prices.sweep(shop.shop_id)

    [again] = client.market_catalogs(market_id)
    client.close()
    assert again.id != catalog.id and again.price_list_id == catalog.price_list_id
    [kept] = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert kept["prices"] == held and len(held) > 1
    [said] = [m for m in messages(shop.shop_id, "prices") if ":catalog:" in m.unit_key]
    assert said.status == MessageStatus.SKIPPED.value and "holds it again" in said.error_text
    assert [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value] == []
    prices.sweep(shop.shop_id)  # held now: nothing more
    assert len([m for m in messages(shop.shop_id, "prices") if ":catalog:" in m.unit_key]) == 1


def test_a_list_whose_market_was_deleted_is_said_on_its_setup_message(chain, monkeypatch):
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-sem-mercado", 1, 1, [1])
    chain.load_catalog(shop)
    market_id = _list_market(shop)
    prices.run(shop.shop_id)
    chain.shopify.sandbox.store.delete(shop.name, market_id)  # the market deleted in the admin

    prices.sweep(shop.shop_id)

    [setup] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(":setup")]
    assert setup.status == MessageStatus.PARKED.value and "does not exist in Shopify" in setup.error_text

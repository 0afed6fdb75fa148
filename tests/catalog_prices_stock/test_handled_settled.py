"""A refused price a person settled by hand (its message closed as handled) stays as they set it
for as long as the ERP means the same, and only so long: the settlement is the SKU's (kept on its
price binding), not its product's message, which a change of another packaging reopens or parks;
and a promotion ending on its date (Consinco leaves DTAALTERACAO as it was) is a new price."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

import jobs.prices as prices_mod
import ledger.handled as handled_mod
from jobs import catalog_ledger, prices
from jobs.locks import flow_lock
from jobs.stock_map import for_sale
from ledger import bindings, handled
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, Message
from sandbox.consinco import simulator as sim
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages
from .test_failures import GONE
from .test_price_lists import _list_market

BAD, SIBLING = "P4E1", "P4E6"  # two packagings of product 4


def _bump_one_packaging(chain, seq: int, qtd: int, factor: float) -> None:
    """A new ERP normal price for one packaging of a product alone."""
    simulator = chain.consinco.erp.simulator
    with simulator.store.write() as (conn, now):
        where = (sim.ps.c.seqproduto == seq, sim.ps.c.qtdembalagem == qtd)
        for row in conn.execute(select(sim.ps).where(*where)).mappings().all():
            key = (row["nroempresa"], row["nrosegmento"], row["seqproduto"], row["qtdembalagem"])
            price = round(row["precovalidnormal"] * factor, 2)
            conn.execute(
                sim.ps.update()
                .where(*simulator._price_key(key))
                .values(precovalidnormal=price, dtaalteracao=now)
            )


def _settle(chain, shop, catalog: dict, bad: str, price: str) -> Message:
    """`bad`'s store price refused by Shopify (its variant binding gone stale), the binding repaired
    since, the variant priced `price` by hand and its message closed as handled; that message."""
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    assert bad in prices.run(shop.shop_id).failed
    unit = f"price:{catalog[bad]['seq_produto']}"
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, catalog[bad]["variant_id"], None, data)]
        )
    client = for_shop(shop.domain)
    client.variants_bulk_update(
        catalog[bad]["product_id"], [{"id": catalog[bad]["variant_id"], "price": price}]
    )
    client.close()
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")
    return failed


def _promoted(chain, catalog: dict, company: int, segment: int):
    """A SKU of the catalog whose promotion runs today at (company, segment), and its price item."""
    erp = chain.erp()
    items = {i.id_sku: i for i in erp.price_items(None, company, segment)}
    erp.close()
    return next(
        (s, i) for s, i in items.items() if s in catalog and i.promo_end is not None and i.promotion_running
    )


def test_another_packagings_new_price_leaves_the_one_settled_by_hand(chain):
    shop = chain.install("preco-irmao", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    assert catalog[BAD]["seq_produto"] == catalog[SIBLING]["seq_produto"]
    _settle(chain, shop, catalog, BAD, "7.77")
    sibling_before = chain.variant(shop, catalog[SIBLING]["variant_id"])["price"]
    prices.run(shop.shop_id)  # the same ERP prices: nothing for BAD
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"

    _bump_one_packaging(chain, 4, 6, 1.5)  # only the 6-pack's ERP price changes
    prices.run(shop.shop_id)  # SIBLING sent: the product's message "price:4" done, its record gone
    prices.run(shop.shop_id)  # the next pass, BAD's ERP price still the same

    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"
    assert chain.variant(shop, catalog[SIBLING]["variant_id"])["price"] != sibling_before


def test_another_packaging_waiting_for_its_variant_and_its_retry_leave_the_one_settled_by_hand(chain):
    """The other packaging has no variant when its price changes: "price:4" is parked (the same
    unit the person closed), then retried and the pass runs again once the variant is there."""
    shop = chain.install("preco-irmao2", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    failed = _settle(chain, shop, catalog, BAD, "7.77")
    with session_scope() as session:
        sib = bindings.get_many(session, shop.shop_id, "variant", [SIBLING])[SIBLING]
        sib_row = BindingRow(SIBLING, sib.shopify_id, sib.digest, dict(sib.data))
        unbound = {k: v for k, v in sib.data.items() if k != "product_id"}
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(SIBLING, None, None, unbound)])
    _bump_one_packaging(chain, 4, 6, 1.5)
    prices.run(shop.shop_id)  # SIBLING waits for its variant: "price:4" parked
    with session_scope() as session:
        assert session.get(Message, failed.id).status == "parked"
        bindings.upsert_many(session, shop.shop_id, "variant", [sib_row])

    prices.replay(failed.id)  # the parked message's Retry: the product's SKUs sent whatever they hold
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"
    prices.run(shop.shop_id)

    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"


def test_a_promotion_settled_by_hand_ends_on_its_date_with_the_normal_price(chain):
    shop = chain.install("promo-fim", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    bad, item = _promoted(chain, catalog, 1, 1)
    _settle(chain, shop, catalog, bad, str(item.promotional))

    prices.run(shop.shop_id, today=item.promo_end)  # its last day: the price set by hand stays
    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == str(item.promotional)

    prices.run(shop.shop_id, today=item.promo_end + timedelta(days=1))  # ended; no ERP row changed

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == str(item.normal)


def test_a_list_price_settled_by_hand_gets_the_list_price_once_its_promotion_ends(chain):
    shop = chain.install("lista-promo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    bad, item = _promoted(chain, catalog, 2, 2)  # the pair of the market's list
    data = catalog[bad]
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "variant", [bad])[bad]
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, dict(binding.data))]
        )
    prices.run(shop.shop_id)
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(f":sku:{bad}")]
    assert failed.status == "failed"
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, data["variant_id"], None, dict(binding.data))]
        )
        handled.mark(session, session.get(Message, failed.id), by="31", note="left at the base price")

    prices.run(shop.shop_id, today=item.promo_end)  # its last day: left at the base price
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] not in price_list["prices"]

    prices.run(shop.shop_id, today=item.promo_end + timedelta(days=1))  # ended; no ERP row changed

    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] in price_list["prices"]


def _refuse_and_mark(chain, shop, catalog, bad, day, hand_price, mark_at, monkeypatch, written_at=None):
    """`bad`'s price refused on the ERP day `day` (recorded at `written_at` UTC when given), priced
    `hand_price` by hand and its message closed as handled at `mark_at` (UTC)."""
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    assert bad in prices.run(shop.shop_id, today=day).failed
    unit = f"price:{catalog[bad]['seq_produto']}"
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, catalog[bad]["variant_id"], None, data)]
        )
        if written_at is not None:
            session.execute(
                update(Binding)
                .where(Binding.shop_id == shop.shop_id, Binding.kind == "price", Binding.erp_id == bad)
                .values(updated_at=written_at)
            )
    client = for_shop(shop.domain)
    variant = {"id": catalog[bad]["variant_id"], "price": hand_price}
    client.variants_bulk_update(catalog[bad]["product_id"], [variant])
    client.close()
    with monkeypatch.context() as m:
        m.setattr(handled_mod, "utcnow", lambda: mark_at)
        with session_scope() as session:
            handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")


@pytest.mark.parametrize("hour", [2, 3], ids=["marked-23h30-BRT", "marked-00h30-BRT-next-day"])
def test_a_promotion_settled_on_its_last_day_ends_whenever_the_mark_was_made(chain, monkeypatch, hour):
    """Refused on the promotion's last ERP day, priced by hand at the promotional price; the
    message closed that night either side of the ERP's midnight: what was settled is the refusal's."""
    shop = chain.install(f"promo-meianoite{hour}", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    bad, item = _promoted(chain, catalog, 1, 1)
    end = item.promo_end
    mark_at = datetime.combine(end + timedelta(days=1), time(hour, 30), tzinfo=UTC)
    written = datetime.combine(end, time(20, 0), tzinfo=UTC)  # 17:00 BRT on the last day
    _refuse_and_mark(chain, shop, catalog, bad, end, str(item.promotional), mark_at, monkeypatch, written)

    prices.run(shop.shop_id, today=end + timedelta(days=1))  # the promotion is over at the ERP

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == str(item.normal)


def test_a_normal_price_settled_the_eve_of_a_promotion_marked_after_midnight_gets_the_promotion(
    chain, monkeypatch
):
    shop = chain.install("promo-vespera", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    bad, item = _promoted(chain, catalog, 1, 1)
    start = item.promo_start
    eve = start - timedelta(days=1)
    written = datetime.combine(eve, time(20, 0), tzinfo=UTC)  # 17:00 BRT on the eve
    mark_at = datetime.combine(start, time(3, 30), tzinfo=UTC)  # 00:30 BRT on the first day
    _refuse_and_mark(chain, shop, catalog, bad, eve, str(item.normal), mark_at, monkeypatch, written)

    prices.run(shop.shop_id, today=start)  # the promotion runs at the ERP

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == str(item.promotional)


@pytest.mark.parametrize("mark", [True, False], ids=["marked", "unmarked"])
def test_a_variant_replaced_before_the_mark_gets_the_erp_price(chain, mark):
    """The catalog replaced the variant (catalog_ledger._reprice) before the person closed the
    message of the refusal they were looking at: the new variant (R$ 0.00) is priced anyway."""
    shop = chain.install(f"troca-antes-{int(mark)}", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    data = {k: v for k, v in catalog[BAD].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(BAD, GONE, None, data)])
    assert BAD in prices.run(shop.shop_id).failed
    unit = f"price:{catalog[BAD]['seq_produto']}"
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == unit]
    client = for_shop(shop.domain)
    variant = {"id": catalog[BAD]["variant_id"], "price": "7.77"}
    client.variants_bulk_update(catalog[BAD]["product_id"], [variant])
    client.close()
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(BAD, catalog[BAD]["variant_id"], None, data)]
        )
        catalog_ledger._reprice(session, shop.shop_id, [BAD])
    if mark:
        with session_scope() as session:
            handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")

    prices.run(shop.shop_id)

    with session_scope() as session:
        assert not bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD].data.get("awaiting_price")
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] != "7.77"


@pytest.mark.parametrize("mark", [True, False], ids=["marked", "unmarked"])
def test_a_list_price_on_a_variant_replaced_before_the_mark_is_sent(chain, mark):
    shop = chain.install(f"lista-troca-{int(mark)}", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _list_market(shop)
    data = catalog[BAD]
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "variant", [BAD])[BAD]
        gone = BindingRow(BAD, GONE, None, dict(binding.data))
        bindings.upsert_many(session, shop.shop_id, "variant", [gone])
    prices.run(shop.shop_id)
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(f":sku:{BAD}")]
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(BAD, data["variant_id"], None, dict(binding.data))]
        )
        catalog_ledger._reprice(session, shop.shop_id, [BAD])
    if mark:
        with session_scope() as session:
            handled.mark(session, session.get(Message, failed.id), by="31", note="left at the base price")

    prices.run(shop.shop_id)

    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] in price_list["prices"]


def test_the_replay_of_the_products_done_message_gives_the_erp_price_back(chain):
    """A person who wants the ERP's price back: the Replay of the product's message (done again
    once another packaging's price was sent) sends it over the one set by hand."""
    shop = chain.install("volta-erp", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    failed = _settle(chain, shop, catalog, BAD, "7.77")
    prices.run(shop.shop_id)
    _bump_one_packaging(chain, 4, 6, 1.5)
    prices.run(shop.shop_id)  # the 6-pack sent: "price:4" begun and done
    with session_scope() as session:
        message = session.get(Message, failed.id)
        assert message.status == "done" and handled.info(message) is None
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"

    prices.replay(failed.id, erp_price_back=True)  # the Messages page's Replay (api_messages)
    prices.run(shop.shop_id)

    with session_scope() as session:
        assert "settled_by_hand" not in bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD].data
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] != "7.77"


def test_a_first_price_settled_by_hand_puts_the_variant_on_sale(chain):
    """Shopify refused a new variant's first price (its binding: awaiting_price, not for sale, so
    the stock flow holds it at 0) and a person priced it by hand and closed the message: the
    settlement prices the variant, so it is for sale and its stock is sent again."""
    from jobs.stock_map import for_sale

    shop = chain.install("primeiro-preco", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _settle(chain, shop, catalog, BAD, "7.77")
    with session_scope() as session:  # the refusal was of the variant's first price
        row = bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD]
        first = BindingRow(BAD, row.shopify_id, row.digest, {**row.data, "awaiting_price": True})
        bindings.upsert_many(session, shop.shop_id, "price", [first])
        session.execute(update(Binding).where(Binding.id == row.id).values(updated_at=row.updated_at))
    prices.run(shop.shop_id)
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD]
        price, priced = binding.data, binding.shopify_id
        rechecks = bindings.get_many(session, shop.shop_id, "stock_recheck", [BAD])
    variant = catalog[BAD]["variant_id"]
    assert "awaiting_price" not in price and for_sale({}, price, variant_id=variant, priced_variant=priced)
    assert BAD in rechecks


def test_a_retry_held_by_the_running_pass_keeps_the_price_set_by_hand(chain):
    """A person's Retry of the failed product message meets the scheduled pass holding the flow
    (Transient: RQ runs it again later); that pass makes the message done. The Retry run then is
    still a Retry: it is not the Replay asking for the ERP price back."""
    shop = chain.install("retry-corrida", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    failed = _settle(chain, shop, catalog, BAD, "7.77")
    prices.run(shop.shop_id)
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"
    sib = {k: v for k, v in catalog[SIBLING].items() if k != "variant_id"}
    with session_scope() as session:  # the 6-pack's new ERP price is refused: "price:4" failed again
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(SIBLING, GONE, None, sib)])
    _bump_one_packaging(chain, 4, 6, 1.5)
    assert SIBLING in prices.run(shop.shop_id).failed
    with session_scope() as session:
        assert session.get(Message, failed.id).status == "failed"
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(SIBLING, catalog[SIBLING]["variant_id"], None, sib)]
        )
    with flow_lock(shop.shop_id, "prices"), pytest.raises(Transient):
        prices.replay(failed.id)  # the Retry job meets the running pass
    prices.run(shop.shop_id)  # that pass sends the 6-pack: "price:4" done
    with session_scope() as session:
        assert session.get(Message, failed.id).status == "done"

    prices.replay(failed.id)  # the same Retry job, run again by RQ

    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"


def test_the_replay_of_another_packagings_no_price_message_leaves_the_one_settled_by_hand(chain):
    """A SKU's own "no price" message (price:<seq>:<sku>) replayed brings back at most that SKU's
    ERP price, never its sibling's set by hand."""
    shop = chain.install("sem-preco-irmao", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _settle(chain, shop, catalog, BAD, "7.77")
    prices.run(shop.shop_id)
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": 4, "qtdembalagem": 6}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=0, statusvenda="A")
    prices.run(shop.shop_id)  # the 6-pack has no price: "price:4:P4E6" failed
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=12.34, precovalidpromoc=0)
    prices.run(shop.shop_id)  # priced again: that message done
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == f"price:4:{SIBLING}"]
    with session_scope() as session:
        assert session.get(Message, said.id).status == "done"

    prices.replay(said.id, erp_price_back=True)  # a person replays the 6-pack's message

    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "7.77"
    with session_scope() as session:
        assert "settled_by_hand" in bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD].data


GONE2 = "gid://shopify/ProductVariant/999999998"


def _price_by_hand(client, catalog: dict, sku: str, price: str) -> None:
    line = {"id": catalog[sku]["variant_id"], "price": price}
    client.variants_bulk_update(catalog[sku]["product_id"], [line])


def _first_prices_refused(chain, shop, catalog):
    """BAD a new variant at R$ 0.00 (awaiting_price, held at 0 stock), its first price and the
    6-pack's refused in "price:4"; the bindings repaired since, the 6-pack priced by hand and the
    message closed as handled."""
    from jobs import stock

    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    data = {s: {k: v for k, v in catalog[s].items() if k != "variant_id"} for s in (BAD, SIBLING)}
    client = for_shop(shop.domain)
    _price_by_hand(client, catalog, BAD, "0.00")
    with session_scope() as session:
        row = bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD]
        waiting = BindingRow(BAD, None, None, {**row.data, "awaiting_price": True})
        bindings.upsert_many(session, shop.shop_id, "price", [waiting])
        stale = [BindingRow(BAD, GONE, None, data[BAD]), BindingRow(SIBLING, GONE2, None, data[SIBLING])]
        bindings.upsert_many(session, shop.shop_id, "variant", stale)
    assert {BAD, SIBLING} <= set(prices.run(shop.shop_id).failed)
    [msg] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == "price:4"]
    with session_scope() as session:
        fixed = [BindingRow(s, catalog[s]["variant_id"], None, data[s]) for s in (BAD, SIBLING)]
        bindings.upsert_many(session, shop.shop_id, "variant", fixed)
        bindings.upsert_many(session, shop.shop_id, "stock_recheck", [BindingRow(BAD, None)])
    stock.run(shop.shop_id)
    assert (chain.level(shop, catalog[BAD]["inventory_item_id"], 1) or 0) == 0
    six = [{"id": catalog[SIBLING]["variant_id"], "price": "40.00"}]
    client.variants_bulk_update(catalog[SIBLING]["product_id"], six)
    client.close()
    with session_scope() as session:
        handled.mark(session, session.get(Message, msg.id), by="31", note="6-pack priced by hand")


def _price_data(shop) -> dict:
    with session_scope() as session:
        return bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD].data


def _sells(shop, catalog) -> bool:
    with session_scope() as session:
        price = bindings.get_many(session, shop.shop_id, "price", [BAD])[BAD]
        return for_sale(
            {}, price.data, variant_id=catalog[BAD]["variant_id"], priced_variant=price.shopify_id
        )


def test_a_first_price_still_at_zero_is_not_put_on_sale_by_a_siblings_settlement(chain):
    """The product's message closed for the 6-pack settles the unit's refused first price too, but
    Shopify still holds that variant at R$ 0.00: it stays off sale (and at 0 stock) until priced."""
    from jobs import stock

    shop = chain.install("zero-a-venda", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _first_prices_refused(chain, shop, catalog)

    prices.run(shop.shop_id)
    stock.run(shop.shop_id)

    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "0.00"
    assert (chain.level(shop, catalog[BAD]["inventory_item_id"], 1) or 0) == 0
    assert _price_data(shop).get("awaiting_price") and not _sells(shop, catalog)

    # a person prices it in Shopify later: the next pass sees it and puts it on sale
    client = for_shop(shop.domain)
    _price_by_hand(client, catalog, BAD, "5.55")
    client.close()
    prices.run(shop.shop_id)
    assert "awaiting_price" not in _price_data(shop) and _sells(shop, catalog)
    with session_scope() as session:
        assert BAD in bindings.get_many(session, shop.shop_id, "stock_recheck", [BAD])
    assert chain.variant(shop, catalog[BAD]["variant_id"])["price"] == "5.55"


def test_a_first_price_settled_while_shopify_cannot_be_read_stays_off_sale(chain, monkeypatch):
    """Its price in Shopify unread (Shopify down): kept off sale; the next pass asks again."""
    from shopify_app.admin_api.errors import ShopifyNetworkError

    shop = chain.install("zero-sem-leitura", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _first_prices_refused(chain, shop, catalog)
    client = for_shop(shop.domain)
    _price_by_hand(client, catalog, BAD, "5.55")
    client.close()

    def down(*_a, **_k):
        raise ShopifyNetworkError("connection reset")

    with monkeypatch.context() as m:
        m.setattr(prices_mod, "variant_products", down)
        prices.run(shop.shop_id)
    assert _price_data(shop).get("awaiting_price") and "settled_by_hand" in _price_data(shop)

    prices.run(shop.shop_id)

    assert "awaiting_price" not in _price_data(shop) and _sells(shop, catalog)

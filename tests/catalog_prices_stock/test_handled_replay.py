"""A catalog unit closed as handled is final, as an order flow's is: a Retry queued before a person
closed it (a page left open, two people at once) does not run it again, which would send the ERP's
value over the one the person set by hand in Shopify and wipe the record of their decision; nor does
a mark landing while that Retry starts, nor the next scheduled pass (a refused price is due again on
every pass until taken): the price stays as the person set it until the ERP price changes."""

from __future__ import annotations

import jobs.prices as prices_module
from jobs import catalog_ledger, prices
from ledger import bindings, handled
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.shopify.state_dump import dump
from shopify_app.admin_api import for_shop

from .chain import messages
from .test_failures import GONE
from .test_price_lists import _list_market


def _refused_then_priced_by_hand(chain, name: str) -> tuple[object, dict, str, Message]:
    """A shop whose first SKU's price Shopify refused (its variant binding gone stale); the binding
    repaired since and the variant priced R$ 7.77 by hand in Shopify. The failed message is open."""
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop)
    bad = next(iter(catalog))
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    assert prices.run(shop.shop_id).failed == [bad]
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, catalog[bad]["variant_id"], None, data)]
        )
    client = for_shop(shop.domain)
    client.variants_bulk_update(
        catalog[bad]["product_id"], [{"id": catalog[bad]["variant_id"], "price": "7.77"}]
    )
    client.close()
    return shop, catalog, bad, failed


def _closed(message_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        row = session.get(Message, message_id)
        return row.status, (handled.info(row) or {}).get("note")


def test_a_prices_retry_queued_before_the_unit_was_closed_as_handled_leaves_it_closed(chain):
    shop, catalog, bad, failed = _refused_then_priced_by_hand(chain, "preco-a-mao")
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")

    prices.replay(failed.id)  # the Retry clicked before, run by the worker now

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == "7.77"
    assert _closed(failed.id) == ("skipped", "priced by hand in Shopify")


def test_a_mark_landing_after_the_replays_guard_looked_is_neither_wiped_nor_priced_over(chain, monkeypatch):
    shop, catalog, bad, failed = _refused_then_priced_by_hand(chain, "preco-corrida")
    real = prices_module._replay_product

    def mark_lands_first(*args, **kwargs):  # the API's mark commits after the guard looked
        with session_scope() as session:
            handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand")
        return real(*args, **kwargs)

    monkeypatch.setattr(prices_module, "_replay_product", mark_lands_first)

    assert prices.replay(failed.id) == "handled"  # its begin left the row closed: nothing sent

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == "7.77"
    assert _closed(failed.id) == ("skipped", "priced by hand")


def test_the_next_prices_pass_keeps_a_price_closed_as_handled_until_the_erp_price_changes(chain):
    shop, catalog, bad, failed = _refused_then_priced_by_hand(chain, "preco-a-mao2")
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")

    prices.run(shop.shop_id)  # the next scheduled pass: the same ERP price (due, and read again)

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == "7.77"
    assert _closed(failed.id) == ("skipped", "priced by hand in Shopify")

    chain.consinco.erp.simulator.update_prices([catalog[bad]["seq_produto"]], 1.5)
    prices.run(shop.shop_id)  # a new ERP price is new data: sent

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] != "7.77"
    assert _closed(failed.id) == ("done", None)


def test_a_price_closed_as_handled_goes_to_a_variant_the_catalog_replaced_since(chain):
    """The catalog flow replaced the variant after the mark (a new one, at R$ 0.00): what the person
    settled went with the old one, so the ERP price is sent to the new one."""
    shop, catalog, bad, failed = _refused_then_priced_by_hand(chain, "preco-trocado")
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")
    prices.run(shop.shop_id)
    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == "7.77"

    with session_scope() as session:  # what record_sent does for a variant Shopify replaced
        catalog_ledger._reprice(session, shop.shop_id, [bad])
    prices.run(shop.shop_id)

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] != "7.77"


def test_the_next_pass_keeps_a_list_price_closed_as_handled_until_the_erp_price_changes(chain):
    shop = chain.install("lista-a-mao", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    bad, data = next(iter(catalog.items()))
    with session_scope() as session:
        binding = bindings.get_many(session, shop.shop_id, "variant", [bad])[bad]
        gone = BindingRow(bad, GONE, None, dict(binding.data))
        bindings.upsert_many(session, shop.shop_id, "variant", [gone])
    prices.run(shop.shop_id)
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.unit_key.endswith(f":sku:{bad}")]
    assert failed.status == MessageStatus.FAILED.value
    with session_scope() as session:  # the catalog flow binds the variant again; none of this read again
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, data["variant_id"], None, dict(binding.data))]
        )
        handled.mark(session, session.get(Message, failed.id), by="31", note="left at the base price")

    prices.run(shop.shop_id)  # the refused price is due, and read again: the same ERP price

    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] not in price_list["prices"]
    assert _closed(failed.id) == ("skipped", "left at the base price")

    chain.consinco.erp.simulator.update_prices([data["seq_produto"]], 1.5)
    prices.run(shop.shop_id)  # a new ERP price is new data: sent

    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert data["variant_id"] in price_list["prices"], market

"""A catalog unit closed as handled is final, as an order flow's is: a Retry queued before a person
closed it (a page left open, two people at once) does not run it again, which would send the ERP's
value over the one the person set by hand in Shopify and wipe the record of their decision."""

from __future__ import annotations

from jobs import prices
from ledger import bindings, handled
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.admin_api import for_shop

from .chain import messages
from .test_failures import GONE


def test_a_prices_retry_queued_before_the_unit_was_closed_as_handled_leaves_it_closed(chain):
    shop = chain.install("preco-a-mao", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    bad = next(iter(catalog))
    data = {k: v for k, v in catalog[bad].items() if k != "variant_id"}
    with session_scope() as session:
        bindings.upsert_many(session, shop.shop_id, "variant", [BindingRow(bad, GONE, None, data)])
    assert prices.run(shop.shop_id).failed == [bad]
    [failed] = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    # Meanwhile the binding was repaired and a person priced the variant by hand in Shopify.
    with session_scope() as session:
        bindings.upsert_many(
            session, shop.shop_id, "variant", [BindingRow(bad, catalog[bad]["variant_id"], None, data)]
        )
    client = for_shop(shop.domain)
    client.variants_bulk_update(
        catalog[bad]["product_id"], [{"id": catalog[bad]["variant_id"], "price": "7.77"}]
    )
    client.close()
    with session_scope() as session:
        handled.mark(session, session.get(Message, failed.id), by="31", note="priced by hand in Shopify")

    prices.replay(failed.id)  # the Retry clicked before, run by the worker now

    assert chain.variant(shop, catalog[bad]["variant_id"])["price"] == "7.77"
    with session_scope() as session:
        row = session.get(Message, failed.id)
        assert row.status == MessageStatus.SKIPPED.value
        assert handled.info(row)["note"] == "priced by hand in Shopify"

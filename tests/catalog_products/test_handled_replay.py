"""A product unit closed as handled is final: the Retry a person clicked before closing it (a page
left open, two people at once) ends without sending the product, which would create it again beside
the one the person made by hand in Shopify and wipe the record of their decision. A publish failure
closed as handled (kept off the channel on purpose) is not published by a later pass either."""

from __future__ import annotations

from sqlalchemy import select

import jobs.products
from jobs import catalog_flow
from ledger import handled
from ledger.db import session_scope
from ledger.models import Message, MessageStatus

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import set_title
from .test_catalog_flows import products_by_seq


def test_a_products_retry_queued_before_the_unit_was_closed_as_handled_sends_nothing(
    installed: InstalledShop,
) -> None:
    installed.mutations.reject_seq = "9"
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    installed.mutations.reject_seq = None
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:9")).one()
        assert message.status == MessageStatus.FAILED.value
        handled.mark(session, message, by="31", note="created by hand in Shopify")
        message_id = message.id
    calls = installed.mutations.count("productSet")

    jobs.products.replay(message_id)  # the Retry clicked before, run by the worker now

    assert installed.mutations.count("productSet") == calls and 9 not in products_by_seq(installed)
    with session_scope() as session:
        row = session.get(Message, message_id)
        assert row.status == MessageStatus.SKIPPED.value
        assert handled.info(row)["note"] == "created by hand in Shopify"


def test_a_publish_closed_as_handled_is_not_done_by_a_later_product_change(installed: InstalledShop) -> None:
    installed.set_setting("publish_to", ["gid://shopify/Publication/404"])
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:5")).one()
        assert message.error_detail["code"] == "PUBLISH_FAILED"
        handled.mark(session, message, by="31", note="kept off the Online Store on purpose")
    installed.set_setting("publish_to", None)  # the default for the products created from now on
    products = products_by_seq(installed)
    publishes = installed.mutations.count("publishablePublish")

    set_title(installed.erp, 5, "ARROZ NOVO 5KG")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

    shown = installed.shopify.sandbox.store.get(SHOP_NAME, products[5]["id"])["publishedOn"]
    assert (shown, installed.mutations.count("publishablePublish") - publishes) == ([], 0)

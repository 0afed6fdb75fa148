"""New products reach the storefront: productSet publishes nowhere on Shopify, so the app publishes
each product it creates to the Online Store's publication, once (direct and bulk paths); a failed
publish is said on the product's message and a replay publishes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobs import catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND
from ledger import bindings
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.shopify.resolvers.publications import ONLINE_STORE

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import set_title


def products_by_seq(shop: InstalledShop) -> dict[int, dict[str, Any]]:
    store = shop.shopify.sandbox.store
    state = {int(p["metafields"]["consinco.seq_produto"]): p["id"] for p in shop.state()["products"]}
    return {seq: store.get(SHOP_NAME, gid) for seq, gid in state.items()}


def pending(shop_id: int) -> set[str]:
    with session_scope() as session:
        rows = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(s) for s in range(1, 200)])
        return {erp_id for erp_id, row in rows.items() if (row.data or {}).get("publish_pending")}


def test_new_products_are_published_to_the_online_store_once(installed: InstalledShop) -> None:
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (first.created, first.failed, first.bulk) == (38, 0, False)
    products = products_by_seq(installed)
    assert all(p["publishedOn"] == [ONLINE_STORE] and p["publishedAt"] for p in products.values())
    assert installed.mutations.count("publishablePublish") == 38
    assert pending(installed.shop_id) == set()

    # The merchant takes product 5 off the Online Store; its title then changes in the ERP.
    store = installed.shopify.sandbox.store
    taken_off = {**products[5], "publishedOn": [], "publishedAt": None}
    store.put(SHOP_NAME, taken_off)
    set_title(installed.erp, 5, "ARROZ NOVO 5KG")
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.changed == 1
    assert installed.mutations.count("publishablePublish") == 38  # never published again
    assert store.get(SHOP_NAME, products[5]["id"])["publishedOn"] == []


def test_the_initial_bulk_load_publishes_with_a_second_bulk_operation(installed: InstalledShop) -> None:
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert (result.created, result.failed, result.bulk) == (38, 0, True)
    assert all(p["publishedOn"] == [ONLINE_STORE] for p in products_by_seq(installed).values())
    assert installed.mutations.count("publishablePublish") == 0  # lines of a bulk operation
    assert installed.mutations.count("bulkOperationRunMutation") == 2
    assert pending(installed.shop_id) == set()


def test_a_failed_publish_is_said_on_the_message_and_a_replay_publishes(installed: InstalledShop) -> None:
    installed.set_setting("publish_to", ["gid://shopify/Publication/404"])
    result = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (result.created, result.failed) == (38, 38)
    products = products_by_seq(installed)
    assert len(products) == 38 and all(p["publishedOn"] == [] for p in products.values())  # kept, bound
    assert len(pending(installed.shop_id)) == 38
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:5")).one()
        assert message.status == MessageStatus.FAILED.value
        assert message.error_detail["code"] == "PUBLISH_FAILED"
        assert "product 5" in message.error_text and "Publication does not exist" in message.error_text
        message_id = message.id

    installed.set_setting("publish_to", None)  # the merchant fixes the setting, then replays
    catalog_flow.replay(message_id, client=installed.client())
    assert installed.shopify.sandbox.store.get(SHOP_NAME, products[5]["id"])["publishedOn"] == [ONLINE_STORE]
    assert "5" not in pending(installed.shop_id)
    with session_scope() as session:
        assert session.get(Message, message_id).status == MessageStatus.DONE.value

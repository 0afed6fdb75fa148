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
from .erp_writes import set_ean, set_title


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


def test_a_publish_that_failed_transiently_is_retried_by_the_next_pass_without_a_replay(
    installed: InstalledShop, monkeypatch
) -> None:
    """Shopify answers 503 to one product's publish (after the client's own retries): the product
    is created and bound, on no channel. Its message is retrying (not refused), and the next
    products pass publishes it although nothing of it changed; the message is done then."""
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyServerError

    real_publish = AdminClient.publish
    failed: list[str] = []

    def publish(self: AdminClient, product_id: str, targets: list[str]) -> Any:
        if not failed:
            failed.append(product_id)
            raise ShopifyServerError("Shopify answered HTTP 503", status=503)
        return real_publish(self, product_id, targets)

    monkeypatch.setattr(AdminClient, "publish", publish)
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (first.created, first.failed) == (38, 0)  # retrying, not refused
    store = installed.shopify.sandbox.store
    assert store.get(SHOP_NAME, failed[0])["publishedOn"] == []
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.status != MessageStatus.DONE.value)).one()
        assert message.status == MessageStatus.RETRYING.value
        assert message.error_detail["code"] == "PUBLISH_RETRYING" and "HTTP 503" in message.error_text
        assert "try 1 of" in message.error_text
        message_id, seq = message.id, message.unit_key.split(":")[1]
    assert pending(installed.shop_id) == {seq}

    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.created + again.changed == 0
    assert store.get(SHOP_NAME, failed[0])["publishedOn"] == [ONLINE_STORE]
    assert pending(installed.shop_id) == set()
    with session_scope() as session:
        assert session.get(Message, message_id).status == MessageStatus.DONE.value
    published = installed.mutations.count("publishablePublish")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert installed.mutations.count("publishablePublish") == published  # once published, never again


def test_a_publish_that_keeps_failing_transiently_is_given_up_after_its_tries_and_said_so(
    installed: InstalledShop, monkeypatch
) -> None:
    """A publish failing for a transient reason pass after pass costs one call a pass only up to
    PUBLISH_TRIES tries; then its message fails saying how often it was tried (a replay
    publishes it), and later passes no longer try."""
    from jobs import catalog_publish
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyServerError

    monkeypatch.setattr(catalog_publish, "PUBLISH_TRIES", 3)
    real_publish = AdminClient.publish
    calls: list[str] = []
    down = ["gid://shopify/Product/never"]

    def publish(self: AdminClient, product_id: str, targets: list[str]) -> Any:
        if down[0] == "gid://shopify/Product/never":
            down[0] = product_id  # the first product's publish fails from now on
        if product_id == down[0]:
            calls.append(product_id)
            raise ShopifyServerError("Shopify answered HTTP 503", status=503)
        return real_publish(self, product_id, targets)

    monkeypatch.setattr(AdminClient, "publish", publish)
    for _ in range(5):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert len(calls) == 3
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.status != MessageStatus.DONE.value)).one()
        assert message.status == MessageStatus.FAILED.value
        assert message.error_detail["code"] == "PUBLISH_FAILED" and "tried 3 times" in message.error_text
        message_id = message.id

    down[0] = ""  # Shopify is back: the merchant's Retry publishes it
    catalog_flow.replay(message_id, client=installed.client())
    assert pending(installed.shop_id) == set()
    with session_scope() as session:
        assert session.get(Message, message_id).status == MessageStatus.DONE.value


def test_a_bulk_publish_line_shopify_failed_on_its_side_is_retried(installed: InstalledShop) -> None:
    """A publishablePublish line of the initial load's second bulk operation failed on Shopify's
    side: that product's publish is retrying and the next pass publishes it."""
    sandbox_bulk = installed.shopify.sandbox.bulk
    original_line = sandbox_bulk._line

    def hiccup(executor: Any, shop_: str, op: dict, raw: str, number: int) -> Any:
        if number == 0 and "publishablePublish" in op["query"]:
            error = {"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
            return {"errors": [error], "data": {"publishablePublish": None}, "__lineNumber": 0}
        return original_line(executor, shop_, op, raw, number)

    sandbox_bulk._line = hiccup
    try:
        result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    finally:
        sandbox_bulk._line = original_line
    assert (result.created, result.failed) == (38, 0)
    assert len(pending(installed.shop_id)) == 1
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert pending(installed.shop_id) == set()
    assert all(p["publishedOn"] == [ONLINE_STORE] for p in products_by_seq(installed).values())


def _publish_down(monkeypatch) -> list[bool]:
    """Every publish answers 503 while the returned flag is set."""
    from shopify_app.admin_api.client import AdminClient
    from shopify_app.admin_api.errors import ShopifyServerError

    real_publish = AdminClient.publish
    down = [True]

    def publish(self: AdminClient, product_id: str, targets: list[str]) -> Any:
        if down[0]:
            raise ShopifyServerError("Shopify answered HTTP 503", status=503)
        return real_publish(self, product_id, targets)

    monkeypatch.setattr(AdminClient, "publish", publish)
    return down


def _states(unit_key: str) -> dict[str, tuple[str, str | None]]:
    """{flow: (status, error code)} of a unit's catalog messages."""
    with session_scope() as session:
        rows = session.scalars(select(Message).where(Message.unit_key == unit_key)).all()
        return {m.flow: (m.status, (m.error_detail or {}).get("code")) for m in rows}


def test_a_publish_retrying_message_is_done_once_the_other_flow_published_the_product(
    installed: InstalledShop, monkeypatch
) -> None:
    """Product 7's publish failed for a transient reason in a products pass (retrying: "the next
    products pass publishes it"); its SKU then changes and the skus pass sends and publishes it.
    The products message is done too: it no longer says retrying for ever (no pass selects it
    again, the product being published)."""
    down = _publish_down(monkeypatch)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert _states("product:7") == {"products": (MessageStatus.RETRYING.value, "PUBLISH_RETRYING")}
    down[0] = False

    set_ean(installed.erp, 7, 1, "7899999999993")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())  # sends 7, publishes it
    assert _states("product:7") == {
        "products": (MessageStatus.DONE.value, None),
        "skus": (MessageStatus.DONE.value, None),
    }
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())  # the other 37
    assert pending(installed.shop_id) == set()
    with session_scope() as session:
        left = session.scalars(select(Message).where(Message.status != MessageStatus.DONE.value)).all()
        assert [(m.flow, m.unit_key) for m in left] == []


def test_a_publish_failed_in_both_flows_is_done_on_both_messages_and_given_up_on_both(
    installed: InstalledShop, monkeypatch
) -> None:
    """Product 7's publish fails in a products pass and again after a skus pass sent it: both
    flows' messages say so. Retried by the next products pass, both messages follow it: given up
    (PUBLISH_FAILED) on both, and the merchant's Retry of either publishes it and closes both."""
    from jobs import catalog_publish

    monkeypatch.setattr(catalog_publish, "PUBLISH_TRIES", 2)
    down = _publish_down(monkeypatch)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    set_ean(installed.erp, 7, 1, "7899999999993")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    retrying = (MessageStatus.RETRYING.value, "PUBLISH_RETRYING")
    assert _states("product:7") == {"products": retrying, "skus": retrying}

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())  # try 2 of 2
    given_up = (MessageStatus.FAILED.value, "PUBLISH_FAILED")
    assert _states("product:7") == {"products": given_up, "skus": given_up}

    down[0] = False
    with session_scope() as session:
        skus_message = session.scalars(
            select(Message.id).where(Message.flow == "skus", Message.unit_key == "product:7")
        ).one()
    catalog_flow.replay(skus_message, client=installed.client())
    done = (MessageStatus.DONE.value, None)
    assert _states("product:7") == {"products": done, "skus": done}


def test_a_publish_retrying_in_both_flows_is_done_on_both_when_the_next_pass_publishes(
    installed: InstalledShop, monkeypatch
) -> None:
    down = _publish_down(monkeypatch)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    set_ean(installed.erp, 7, 1, "7899999999993")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    down[0] = False
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    done = (MessageStatus.DONE.value, None)
    assert _states("product:7") == {"products": done, "skus": done}
    assert pending(installed.shop_id) == set()

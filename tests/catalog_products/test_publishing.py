"""New products reach the storefront: productSet publishes nowhere on Shopify, so the app publishes
each product it creates to the Online Store's publication, once (direct and bulk paths); a failed
publish is said on the product's message and a replay publishes it."""

from __future__ import annotations

from typing import Any

import pytest
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

    set_ean(installed.erp, 7, 1, "7899999999999")
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
    set_ean(installed.erp, 7, 1, "7899999999999")
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
    set_ean(installed.erp, 7, 1, "7899999999999")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    down[0] = False
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    done = (MessageStatus.DONE.value, None)
    assert _states("product:7") == {"products": done, "skus": done}
    assert pending(installed.shop_id) == set()


class WorkerKilled(BaseException):
    pass


def test_a_bulk_publish_a_killed_worker_ran_is_not_published_again_over_the_merchants_choice(
    installed: InstalledShop, monkeypatch
) -> None:
    """The worker dies after Shopify ran the load's bulk publish, before recording it: the app still
    owes every product its publish (tries 0). The merchant then takes one off the Online Store. The
    next products pass asks Shopify instead of publishing again: the product taken off stays off,
    the others are published already; no binding owes a publish any more. Shopify cannot tell
    "taken off" from "never applied", so the product's message says so for a person (who closes
    it as handled); none of the others' is open."""
    from jobs import catalog_publish

    real = catalog_publish._record
    monkeypatch.setattr(catalog_publish, "_record", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    monkeypatch.setattr(catalog_publish, "_record", real)
    by_seq = products_by_seq(installed)
    assert len(by_seq) == 38 and all(p["publishedOn"] == [ONLINE_STORE] for p in by_seq.values())
    assert len(pending(installed.shop_id)) == 38
    store = installed.shopify.sandbox.store
    store.put(SHOP_NAME, {**by_seq[5], "publishedOn": [], "publishedAt": None})  # taken off by hand
    started = installed.mutations.count("bulkOperationRunMutation")

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert store.get(SHOP_NAME, by_seq[5]["id"])["publishedOn"] == []
    assert installed.mutations.count("bulkOperationRunMutation") == started
    assert installed.mutations.count("publishablePublish") == 0
    assert pending(installed.shop_id) == {"5"}  # a refused publish: its message's replay publishes it
    with session_scope() as session:
        rows = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(s) for s in by_seq])
        retrying = [s for s, row in rows.items() if "publish_retry" in (row.data or {})]
        assert retrying == []  # no pass publishes any of them again
        open_ = session.scalars(select(Message).where(Message.status != MessageStatus.DONE.value)).all()
        assert [(m.unit_key, m.status, m.error_detail["code"]) for m in open_] == [
            ("product:5", MessageStatus.FAILED.value, "PUBLISH_FAILED")
        ]
        assert "taken off by hand" in open_[0].error_text


def test_direct_publishes_a_killed_worker_sent_are_not_sent_again_and_the_others_are(
    installed: InstalledShop, monkeypatch
) -> None:
    """The worker dies after its third direct publish: those three were sent (one is then taken off
    by the merchant), the other 35 never were. The next products pass publishes the 35 once and
    leaves the three alone."""
    from shopify_app.admin_api.client import AdminClient

    real_publish = AdminClient.publish
    sent: list[str] = []

    def publish(self: AdminClient, product_id: str, targets: list[str]) -> Any:
        real_publish(self, product_id, targets)
        sent.append(product_id)
        if len(sent) == 3:
            raise WorkerKilled

    monkeypatch.setattr(AdminClient, "publish", publish)
    with pytest.raises(WorkerKilled):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    monkeypatch.setattr(AdminClient, "publish", real_publish)
    assert len(pending(installed.shop_id)) == 38
    store = installed.shopify.sandbox.store
    store.put(SHOP_NAME, {**store.get(SHOP_NAME, sent[0]), "publishedOn": [], "publishedAt": None})

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert installed.mutations.count("publishablePublish") == 3 + 35
    by_id = {p["id"]: p for p in products_by_seq(installed).values()}
    assert by_id[sent[0]]["publishedOn"] == []
    assert all(p["publishedOn"] == [ONLINE_STORE] for i, p in by_id.items() if i != sent[0])
    taken_off = next(seq for seq, p in products_by_seq(installed).items() if p["id"] == sent[0])
    assert pending(installed.shop_id) == {str(taken_off)}  # said on its message, replay publishes
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == f"product:{taken_off}")).one()
        failed = (MessageStatus.FAILED.value, "PUBLISH_FAILED")
        assert (message.status, message.error_detail["code"]) == failed


def test_an_unconfirmed_publish_is_said_on_the_message_that_said_it_was_retrying(
    installed: InstalledShop, monkeypatch
) -> None:
    """Product 7's publish failed transiently in a products pass (its message: retrying). The skus
    pass sends 7 and its publish, and dies before recording it; Shopify shows 7 on no channel
    (the publish never applied, or the merchant took it off). The next products pass does not
    publish it again blind: the message that said "retrying" now fails saying so, and a replay
    publishes it."""
    from jobs import catalog_publish

    down = _publish_down(monkeypatch)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert _states("product:7") == {"products": (MessageStatus.RETRYING.value, "PUBLISH_RETRYING")}
    real = catalog_publish._record
    monkeypatch.setattr(catalog_publish, "_record", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    set_ean(installed.erp, 7, 1, "7899999999999")
    with pytest.raises(WorkerKilled):
        catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())  # 503: never applied
    monkeypatch.setattr(catalog_publish, "_record", real)
    down[0] = False
    published = installed.mutations.count("publishablePublish")

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    product_7 = products_by_seq(installed)[7]
    assert product_7["publishedOn"] == []
    assert installed.mutations.count("publishablePublish") == published + 37  # the others, not 7
    assert _states("product:7")["products"] == (MessageStatus.FAILED.value, "PUBLISH_FAILED")
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.unit_key == "product:7", Message.flow == "products")
        ).one()
        assert "shows it on none of them" in message.error_text
        assert "mark this message as handled" in message.error_text
        message_id = message.id
    assert pending(installed.shop_id) == {"7"}
    catalog_flow.replay(message_id, client=installed.client())  # it never applied: Retry publishes it
    assert products_by_seq(installed)[7]["publishedOn"] == [ONLINE_STORE]
    assert pending(installed.shop_id) == set()
    assert _states("product:7")["products"] == (MessageStatus.DONE.value, None)

"""Order reads whose lists Shopify truncates at `first`, against the Shopify sandbox over HTTP.

Transactions and fulfillments are plain lists (a `first`, no pageInfo): OrderSettlement reads the
first 50 of each, and an order with as many is read again with Shopify's largest `first` (250);
still full, the settlement is refused for a person rather than made on part of them. Shipping
lines are a connection: the pages past Order's and OrderForErp's first 5 are read by cursor. The
usual order pays one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from ledger.errors import Rejected
from shopify_app.admin_api.client import build_client
from shopify_app.admin_api.order_import_ops import read_order_for_erp
from shopify_app.admin_api.order_settlement import settlement

runner = pytest.importorskip("sandbox.shopify.runner")

SHOP_NAME = "listas"
SHOP = f"{SHOP_NAME}.myshopify.com"
SKU = "LST-1"


@pytest.fixture(scope="module")
def sandbox_handle() -> Iterator[Any]:
    handle = runner.serve_in_thread(port=0, app_url="http://127.0.0.1:9", webhook_retry_delays=())
    yield handle
    handle.stop()


@pytest.fixture
def live(sandbox_handle, redis_conn) -> Iterator[Any]:
    url = sandbox_handle.url
    requests.post(f"{url}/_sandbox/shops", json={"shop": SHOP_NAME}, timeout=10)
    requests.post(f"{url}/_sandbox/shops/{SHOP_NAME}/reset", timeout=10)
    token = requests.post(f"{url}/_sandbox/shops/{SHOP_NAME}/access_token", timeout=10).json()["access_token"]
    client = build_client(
        SHOP,
        base_url=url,
        api_version="2026-10",
        extra_headers={"Host": SHOP},
        token_provider=lambda force: token,
        redis_conn=redis_conn,
    )
    location = client.executor.query("Locations", {"first": 1})["locations"]["nodes"][0]["id"]
    client.product_set(
        {
            "title": "Arroz",
            "status": "ACTIVE",
            "productOptions": [{"name": "Peso", "values": [{"name": "1kg"}]}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Peso", "name": "1kg"}],
                    "sku": SKU,
                    "price": "100.00",
                    "inventoryItem": {"tracked": True, "sku": SKU},
                    "inventoryQuantities": [{"locationId": location, "name": "available", "quantity": 50}],
                }
            ],
        }
    )
    yield client
    client.close()


def place(handle: Any, **checkout: Any) -> str:
    from sandbox.shopify.checkout import place_order

    return place_order(
        handle.sandbox, SHOP_NAME, lines=[{"sku": SKU, "quantity": 1}], discount_rate=0.0, seed=1, **checkout
    )


def change_order(handle: Any, gid: str, change: Any) -> None:
    """Change the sandbox's order document in place (what Shopify shows next)."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context

    ctx = context(handle.sandbox, SHOP_NAME)
    with ctx.store.transaction():
        order = order_store.get(ctx, gid)
        change(ctx, order)
        order_store.save(ctx, order, touch=True)


def counting(client: Any) -> list[str]:
    """The names of the operations `client` sends from now on."""
    sent: list[str] = []
    execute = client.executor.execute

    def recorded(name: str, variables: dict[str, Any] | None = None) -> Any:
        sent.append(name)
        return execute(name, variables)

    client.executor.execute = recorded
    return sent


# -- transactions ---------------------------------------------------------------------------
def declined_then_authorised(declined: int, captures: list[Decimal]):
    """`declined` card tries refused before the authorisation that went through, then one capture
    of it per NF-e (`captures`)."""
    from sandbox.shopify import order_store

    def change(ctx: Any, order: dict[str, Any]) -> None:
        authorised = next(t for t in order["_transactions"] if t["kind"] == "AUTHORIZATION")
        amount = Decimal(authorised["amountSet"]["shopMoney"]["amount"])
        tries = [
            order_store.new_transaction(ctx, "AUTHORIZATION", "FAILURE", authorised["gateway"], amount)
            for _ in range(declined)
        ]
        order["_transactions"][:0] = tries
        for value in captures:
            capture = order_store.new_transaction(
                ctx, "CAPTURE", "SUCCESS", authorised["gateway"], value, parent_id=authorised["id"]
            )
            order["_transactions"].append(capture)
        authorised["totalUnsettledSet"] = order_store.bag(amount - sum(captures, Decimal("0")))

    return change


def test_a_settlement_counts_the_captures_past_the_first_fifty_transactions(sandbox_handle, live):
    """Sixty declined card tries before the authorisation and its two captures (one per NF-e):
    the first 50 transactions held none of the money, so the order read as unpaid and its
    authorisation as missing; with 50 back, every transaction is read."""
    gid = place(sandbox_handle, gateway="cartao", capture="manual")
    captures = [Decimal("30.00"), Decimal("20.00")]
    change_order(sandbox_handle, gid, declined_then_authorised(60, captures))
    state = settlement(live, gid)
    assert state is not None
    assert state.paid == Decimal("50.00")
    assert [c.amount for c in state.captures] == captures
    [authorization] = state.authorizations
    assert authorization.captured == Decimal("50.00")


def test_the_usual_order_pays_one_query_for_its_settlement(sandbox_handle, live):
    gid = place(sandbox_handle, gateway="cartao", capture="manual")
    change_order(sandbox_handle, gid, declined_then_authorised(3, [Decimal("10.00")]))
    sent = counting(live)
    state = settlement(live, gid)
    assert state is not None and state.paid == Decimal("10.00")
    assert sent == ["OrderSettlement"]


def test_more_transactions_than_shopify_gives_at_once_refuse_the_settlement(sandbox_handle, live):
    """250 back on the second read too: what was kept cannot be told, so nothing is settled on it."""
    gid = place(sandbox_handle, gateway="cartao", capture="manual")
    change_order(sandbox_handle, gid, declined_then_authorised(260, [Decimal("10.00")]))
    with pytest.raises(Rejected) as refused:
        settlement(live, gid)
    assert refused.value.code == "ORDER_TRANSACTIONS_NOT_READ" and refused.value.system == "shopify"
    assert "250" in str(refused.value)


# -- fulfillments ---------------------------------------------------------------------------
def fulfilled_after_cancelled(live: Any, handle: Any, gid: str, count: int) -> str:
    """The order fulfilled (its id returned) after `count` fulfillments made and cancelled
    again and again before it (a shipment redone, a label reprinted)."""
    from sandbox.shopify import order_store

    [fulfillment_order] = live.fulfillment_orders(gid)
    fulfillment_id = live.fulfillment_create({fulfillment_order.id: None}, tracking={"number": "BR1"})

    def change(ctx: Any, order: dict[str, Any]) -> None:
        [live_one] = order["_fulfillments"]
        gone = {"status": "CANCELLED", "_trackingInfo": []}
        earlier = [{**live_one, **gone, "id": order_store.new_id(ctx, "Fulfillment")} for _ in range(count)]
        order["_fulfillments"][:0] = earlier

    change_order(handle, gid, change)
    return fulfillment_id


def test_a_settlement_sees_the_fulfillment_past_the_first_fifty(sandbox_handle, live):
    """Sixty cancelled fulfillments before the one that shipped: the first 50 held no active
    one, so a cancellation would not cancel it first and a tracking update would not find it."""
    gid = place(sandbox_handle)
    shipped = fulfilled_after_cancelled(live, sandbox_handle, gid, 60)
    state = settlement(live, gid)
    assert state is not None and len(state.fulfillments) == 61
    [active] = state.active_fulfillments
    assert active.id == shipped and active.tracking_number == "BR1"


def test_more_fulfillments_than_shopify_gives_at_once_refuse_the_settlement(sandbox_handle, live):
    gid = place(sandbox_handle)
    fulfilled_after_cancelled(live, sandbox_handle, gid, 260)
    with pytest.raises(Rejected) as refused:
        settlement(live, gid)
    assert refused.value.code == "ORDER_FULFILLMENTS_NOT_READ" and refused.value.system == "shopify"
    assert "250" in str(refused.value)


# -- shipping lines -------------------------------------------------------------------------
def freight_added_by_edits(count: int, value: Decimal):
    """`count` shipping lines of `value` added after the checkout's (order edits add them)."""
    from sandbox.shopify.order_documents import shipping_line_doc

    def change(ctx: Any, order: dict[str, Any]) -> None:
        for n in range(count):
            order["_shippingLines"].append(
                shipping_line_doc(ctx, (f"Frete adicional {n + 1}", "EXTRA", None, str(value)))
            )

    return change


def freight(order: Any) -> Decimal:
    return sum((s.current_price or s.discounted_price).amount for s in order.shipping_lines if not s.removed)


def test_the_freight_counts_the_shipping_lines_past_the_first_five(sandbox_handle, live):
    """The checkout's PAC (19.90) and six lines of 5.00 the order's edits added: the first five
    read gave the ERP 39.90 of the 49.90 the customer pays."""
    gid = place(sandbox_handle, shipping="PAC")
    change_order(sandbox_handle, gid, freight_added_by_edits(6, Decimal("5.00")))
    read = read_order_for_erp(live, gid)
    assert read is not None and len(read.order.shipping_lines) == 7
    assert freight(read.order) == Decimal("49.90")
    order = live.order(gid)
    assert order is not None and len(order.shipping_lines) == 7
    assert freight(order) == Decimal("49.90")


def test_the_usual_order_reads_its_shipping_lines_in_its_one_query(sandbox_handle, live):
    gid = place(sandbox_handle, shipping="PAC")
    change_order(sandbox_handle, gid, freight_added_by_edits(4, Decimal("5.00")))
    sent = counting(live)
    read = read_order_for_erp(live, gid)
    order = live.order(gid)
    assert read is not None and freight(read.order) == Decimal("39.90")
    assert order is not None and freight(order) == Decimal("39.90")
    assert sent == ["OrderForErp", "Order"]

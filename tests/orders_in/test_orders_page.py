"""The Orders page against real imports: an order the ERP never got (parked on a payment gateway
or a setting, refused before it was mapped) is where the merchant looks for it: found by its name,
under "Not in the ERP" and under "Needs attention" with its reason, until it reaches the ERP. An
order never meant for the ERP (a Shopify test order) is not listed as one that is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from by_hand import api_client
from spine_auth.factories import bearer, make_id_token

from bench._order_stack import SETTINGS
from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from shopify_app.enqueue import resume_parked

from .test_edits_and_cancels import cancel_in_shopify
from .test_not_for_erp import change_order

Orders = Callable[..., list[dict]]


@pytest.fixture
def orders_page(env, world) -> Orders:
    """GET /api/orders as the shop's staff (an admin: flags unmasked); query -> the rows."""
    client, auth = api_client(env), bearer(make_id_token(world.domain, "77"))

    def get(path: str = "/api/orders", **query: str) -> list[dict]:
        response = client.get(path, query_string=query, headers=auth)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        return body.get("orders", [body])

    return get


def test_an_order_parked_on_a_payment_gateway_is_on_the_orders_page_until_it_reaches_the_erp(
    world, orders_page
):
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place(gateway="pix")
    world.drain()
    assert world.message(gid).status == MessageStatus.PARKED.value
    name = world.order_doc(gid)["name"]

    [found] = orders_page(q=name)
    assert (found["shopify_order_id"], found["nro_pedvenda"]) == (gid, None)
    assert found["total"] is not None and found["shopify_status"] == "PAID"
    assert [o["id"] for o in orders_page(status="not_in_erp")] == [found["id"]]
    [flagged] = orders_page(status="needs_attention")
    assert flagged["id"] == found["id"] and "'Pix'" in flagged["needs_attention"], flagged
    [detail] = orders_page(f"/api/orders/{found['id']}")
    assert "'Pix'" in detail["needs_attention"]
    assert [m["flow"] for m in detail["messages"]] == ["orders"]

    with session_scope() as session:  # what the De:Para page does on save
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")
        assert resume_parked(session, world.shop_id, "payment_method", ["Pix"]) == 1
    world.drain()
    [erp_order] = world.erp_orders_for(gid)
    [sent] = orders_page(q=name)
    assert sent["id"] == found["id"] and sent["nro_pedvenda"] == erp_order["nropedvenda"]
    assert sent["needs_attention"] is None
    assert orders_page(status="not_in_erp") == [] and orders_page(status="needs_attention") == []


def test_orders_parked_on_a_setting_or_refused_are_flagged_and_a_test_order_is_not_listed(world, orders_page):
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "seq_canal_venda": None}
    unset = world.place(gateway="pix")
    world.drain()
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "seq_canal_venda": SETTINGS["seq_canal_venda"]}
    refused = world.place(gateway="pix", tax_id="529.982.247-24")
    trial = world.place(gateway="pix")
    change_order(world, trial, lambda order: order.update(test=True))
    world.drain()
    assert [world.message(gid).status for gid in (unset, refused, trial)] == [
        MessageStatus.PARKED.value, MessageStatus.FAILED.value, MessageStatus.SKIPPED.value
    ]  # fmt: skip

    flagged = {o["shopify_order_id"]: o["needs_attention"] for o in orders_page(status="needs_attention")}
    assert set(flagged) == {unset, refused}
    assert "seqCanalVenda" in flagged[unset] and "529.982.247-24" in flagged[refused]
    assert {o["shopify_order_id"] for o in orders_page(status="not_in_erp")} == {unset, refused}
    assert orders_page(q=world.order_doc(trial)["name"]) == []


def test_a_parked_order_cancelled_in_shopify_is_listed_cancelled_not_as_missing_from_the_erp(
    world, orders_page
):
    """Parked (its link written early for this page), then cancelled in Shopify: the cancellation
    closes it as never sent, and the page lists it under "Cancelled", not as a live order the ERP
    is missing (a person might otherwise enter it in the ERP by hand)."""
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place(gateway="pix")
    world.drain()
    assert world.message(gid).status == MessageStatus.PARKED.value
    name = world.order_doc(gid)["name"]

    cancel_in_shopify(world, gid)
    world.drain()
    assert world.message(gid).status == MessageStatus.SKIPPED.value  # closed as never sent
    [row] = orders_page(q=name)
    assert row["cancelled_at"] is not None
    assert gid in [o["shopify_order_id"] for o in orders_page(status="cancelled")]
    assert gid not in [o["shopify_order_id"] for o in orders_page(status="not_in_erp")]
    assert gid not in [o["shopify_order_id"] for o in orders_page(status="needs_attention")]

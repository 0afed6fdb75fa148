"""A delivery address changed in Shopify on an order a person linked by hand (POST
/api/orders/<id>/erp-order) to an ERP order typed there: its import parked before mapping, so it
recorded no delivery. The link records the address Shopify showed (what the person typed the ERP
order from), so a later change is sent (before separation) or flagged (after), and a routine
orders/updated still costs no GraphQL read."""

from __future__ import annotations

import by_hand
import pytest

from bench._order_stack import NRO_EMPRESA
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Role
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.executor import Executor
from tests.orders_in.conftest import create_variant
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_delivery_address_edges import updated


@pytest.fixture
def operator(env, world):
    """The JSON API's test client and an operator's bearer header."""
    return by_hand.staff_api(env, world, Role.OPERATOR)


@pytest.fixture
def link_by_hand(operator, world):
    """POST /api/orders/<id>/erp-order as an operator of the shop: (status, body)."""
    client, auth = operator

    def post(gid: str, nro: int) -> tuple[int, dict]:
        body = {"nro_pedvenda": nro, "confirm_total": True, "confirm_buyer": True}
        answer = client.post(f"/api/orders/{world.link(gid).id}/erp-order", json=body, headers=auth)
        return answer.status_code, answer.get_json()

    return post


@pytest.fixture
def unlink_by_hand(operator, world):
    """DELETE /api/orders/<id>/erp-order as an operator of the shop: (status, body)."""
    client, auth = operator

    def delete(gid: str) -> tuple[int, dict]:
        answer = client.delete(f"/api/orders/{world.link(gid).id}/erp-order", headers=auth)
        return answer.status_code, answer.get_json()

    return delete


def parked(world) -> str:
    """An order whose import parked before mapping (a SKU not bound): no delivery recorded."""
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    create_variant(for_shop(world.domain), unbound, world.chain.prices[unbound.id_sku])
    gid = world.place([(world.sku(0), 1), (unbound.id_sku, 2)])
    world.drain()
    assert world.message(gid).status == MessageStatus.PARKED.value
    return gid


def typed_in_the_erp(world) -> int:
    """The order entered in the ERP by hand (another channel, no channel id of the Shopify order)."""
    lines, obs = [(world.chain.skus[0].id_sku, 1)], "Entrega: typed by hand"
    return by_hand.typed_in_the_erp(
        world.chain, lines, nro_empresa=NRO_EMPRESA, channel=1, cpf_cnpj="52998224725", obs=obs
    )


def hand_linked(world, link_by_hand) -> tuple[str, int]:
    gid, nro = parked(world), typed_in_the_erp(world)
    status, body = link_by_hand(gid, nro)
    assert status == 200, body
    world.drain()  # the check the link enqueues runs at once (before any later change)
    return gid, nro


def shown_address(world, gid: str) -> dict:
    """The order's shipping address as orderUpdate takes it."""
    doc = dict(world.order_doc(gid)["shippingAddress"])
    keys = ("firstName", "lastName", "company", "address1", "address2", "city", "province", "provinceCode",
            "zip", "countryCode", "phone")  # fmt: skip
    return {k: doc[k] for k in keys if doc.get(k) is not None}


def province_renamed(world, gid: str) -> None:
    """Staff change only the province's NAME: obsPedido's "Entrega: ..." text does not carry it."""
    shown = shown_address(world, gid)
    shown["province"] = "Sao Paulo (SP)" if shown.get("province") != "Sao Paulo (SP)" else "SP state"
    order_update(world, gid, shippingAddress=shown)


def test_an_address_changed_after_a_hand_link_is_sent_before_separation(world, link_by_hand):
    gid, nro = hand_linked(world, link_by_hand)
    order_update(world, gid, shippingAddress=NEW)  # the customer phoned: a new address
    world.drain()
    message = address_message(world, gid)
    assert message is not None, "the change was taken as the baseline: neither sent nor flagged"
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert "Rua das Palmeiras" in world.chain.order(nro)["obsPedido"]


def test_an_address_changed_after_a_hand_link_is_flagged_after_separation(world, link_by_hand):
    gid, nro = hand_linked(world, link_by_hand)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message is not None and message.status == MessageStatus.FAILED.value
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert "Rua das Palmeiras" in note
    assert world.chain.order(nro)["obsPedido"] == "Entrega: typed by hand"


def test_routine_updates_after_a_hand_link_cost_no_graphql_read(world, link_by_hand, monkeypatch):
    gid, _nro = hand_linked(world, link_by_hand)
    doc = world.order_doc(gid)["shippingAddress"]
    reads: list[str] = []
    real = Executor.execute
    monkeypatch.setattr(Executor, "execute", lambda self, n, v=None: reads.append(n) or real(self, n, v))
    assert updated(world, gid, doc) == "already"
    assert reads == []


def test_a_change_that_leaves_the_delivery_text_alone_is_not_flagged(world, link_by_hand):
    """After picking, a change none of obsPedido's delivery text carries (the province's name, a
    country, a company beside a person's name): quiet, as on an imported order (the control below).
    The link recorded the address alone; the check it enqueues completes the record with the
    delivery text, which is what is compared from then on."""
    gid, nro = hand_linked(world, link_by_hand)
    world.chain.handle.erp.separate(nro, weights={})
    province_renamed(world, gid)
    world.drain()
    message = address_message(world, gid)
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert message is None or message.status != MessageStatus.FAILED.value, (message.error_text, note)
    assert not note, note


def test_control_an_imported_order_is_not_flagged_for_the_same_change(world):
    from tests.orders_in.test_edits_and_cancels import imported

    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    province_renamed(world, gid)
    world.drain()
    message = address_message(world, gid)
    assert message is None or message.status != MessageStatus.FAILED.value


def test_an_address_change_handled_while_the_link_is_made_is_sent(world, link_by_hand, monkeypatch):
    """The link reads Shopify (address A); staff change it to B and its orders/updated is handled
    while the order is not linked yet (nothing to do); then the link commits recording A. The
    check the link enqueues reads the order again under its lock: B goes to the ERP order."""
    from shopify_app import api_orders

    gid, nro = parked(world), typed_in_the_erp(world)
    real = api_orders._read_shopify_order

    def read_then_change(g: str):
        got = real(g)
        order_update(world, gid, shippingAddress=NEW)
        world.drain()
        return got

    monkeypatch.setattr(api_orders, "_read_shopify_order", read_then_change)
    status, body = link_by_hand(gid, nro)
    assert status == 200, body
    world.drain()
    message = address_message(world, gid)
    assert message is not None and message.status == MessageStatus.DONE.value, message and message.error_text
    assert "Rua das Palmeiras" in world.chain.order(nro)["obsPedido"]


def test_unlink_then_link_elsewhere_leaves_no_flag_about_the_first_erp_order(
    world, link_by_hand, unlink_by_hand
):
    gid, first = hand_linked(world, link_by_hand)
    world.chain.handle.erp.separate(first, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value
    status, body = unlink_by_hand(gid)
    assert status == 200, body
    assert not order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value and f"ERP order {first}" in message.error_text
    second = typed_in_the_erp(world)  # typed from the new address
    status, body = link_by_hand(gid, second)
    assert status == 200, body
    world.drain()
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    message = address_message(world, gid)
    assert not note, f"linked to ERP order {second}, still flagged: {note[:160]}"
    assert message.status == MessageStatus.SKIPPED.value, message.error_text


def test_a_flag_closed_as_handled_stays_so_through_unlink_and_link(world, link_by_hand, unlink_by_hand):
    from ledger import handled

    gid, first = hand_linked(world, link_by_hand)
    world.chain.handle.erp.separate(first, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    with session_scope() as session:
        message = session.get(Message, address_message(world, gid).id)
        handled.mark(session, message, by="31", note="told the driver")
    assert unlink_by_hand(gid)[0] == 200
    status, body = link_by_hand(gid, typed_in_the_erp(world))
    assert status == 200, body
    world.drain()
    message = address_message(world, gid)
    assert handled.info(message)["note"] == "told the driver", message.error_text

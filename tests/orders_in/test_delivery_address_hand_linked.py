"""A delivery address changed in Shopify on an order a person linked by hand (POST
/api/orders/<id>/erp-order) to an ERP order typed there: its import parked before mapping, so it
recorded no delivery. The link records the address Shopify showed (what the person typed the ERP
order from), so a later change is sent (before separation) or flagged (after), and a routine
orders/updated still costs no GraphQL read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from spine_auth.factories import API_KEY, API_SECRET, bearer, make_id_token

from app import create_app
from bench._order_stack import NRO_EMPRESA
from erp.client import ErpClient
from erp.records import CustomerInput, OrderInput, OrderLineInput
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import MessageStatus, Role, StaffRole
from settings import Settings
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.executor import Executor
from tests.orders_in.conftest import create_variant
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_delivery_address_edges import updated


@pytest.fixture
def link_by_hand(env, world):
    """POST /api/orders/<id>/erp-order as an operator of the shop: (status, body)."""
    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    app = create_app(Settings.from_env(), blueprints=("shopify_app.api",), cli_modules=())
    app.testing = True
    with session_scope() as session:
        session.add(StaffRole(shop_id=world.shop_id, user_id="31", role=Role.OPERATOR.value))
    client, auth = app.test_client(), bearer(make_id_token(world.domain, "31"))

    def post(gid: str, nro: int) -> tuple[int, dict]:
        body = {"nro_pedvenda": nro, "confirm_total": True, "confirm_buyer": True}
        answer = client.post(f"/api/orders/{world.link(gid).id}/erp-order", json=body, headers=auth)
        return answer.status_code, answer.get_json()

    return post


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
    sku = world.chain.skus[0]
    body = OrderInput(
        seq_canal_venda=1,
        channel_order_id=f"balcao-{uuid.uuid4().hex[:8]}",
        ordered_at=datetime.now(UTC),
        nro_empresa=NRO_EMPRESA,
        nro_segmento=world.chain.segment,
        cod_geral_oper=207,
        customer=CustomerInput(cpf_cnpj="52998224725", name="MARIA SILVA"),
        lines=(
            OrderLineInput(
                qty=Decimal(1),
                seq_produto=sku.seq_produto,
                qtd_embalagem=sku.qtd_embalagem,
                unit_price=world.chain.prices[sku.id_sku],
            ),
        ),
        obs="Entrega: typed by hand",
    )
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    try:
        return client.insert_order(body).nro_pedvenda
    finally:
        client.close()


def hand_linked(world, link_by_hand) -> tuple[str, int]:
    gid, nro = parked(world), typed_in_the_erp(world)
    status, body = link_by_hand(gid, nro)
    assert status == 200, body
    return gid, nro


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

"""What a person does by hand about an order the app could not take, for the order flows' tests
(tests/orders_in, tests/orders_out): the JSON API as one of the shop's staff (marking a message
handled, linking an order to an ERP order), and an ERP order typed in the ERP by hand."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from spine_auth.factories import API_KEY, API_SECRET, bearer, make_id_token

from app import create_app
from erp.client import ErpClient
from erp.records import CustomerInput, OrderInput, OrderLineInput
from ledger.db import session_scope
from ledger.models import Role, StaffRole
from settings import Settings


def api_client(env: pytest.MonkeyPatch) -> FlaskClient:
    """The JSON API's test client, taking the ID tokens `staff` signs."""
    env.setenv("SHOPIFY_API_KEY", API_KEY)
    env.setenv("SHOPIFY_API_SECRET", API_SECRET)
    app = create_app(Settings.from_env(), blueprints=("shopify_app.api",), cli_modules=())
    app.testing = True
    return app.test_client()


def staff(world: Any, user_id: str, role: Role) -> dict[str, str]:
    """`user_id` made `role` of the world's shop: its bearer header."""
    with session_scope() as session:
        session.add(StaffRole(shop_id=world.shop_id, user_id=user_id, role=role.value))
    return bearer(make_id_token(world.domain, user_id))


def staff_api(
    env: pytest.MonkeyPatch, world: Any, role: Role, user_id: str = "31"
) -> tuple[FlaskClient, dict]:
    """The JSON API's test client and the bearer header of a `role` of the world's shop."""
    return api_client(env), staff(world, user_id, role)


def typed_in_the_erp(
    chain: Any,
    lines: list[tuple[str, int]],
    *,
    nro_empresa: int,
    channel: int,
    cpf_cnpj: str,
    channel_order_id: str | None = None,
    freight: Decimal = Decimal("0"),
    obs: str | None = None,
) -> int:
    """An order a person entered in the ERP by hand: `lines` (SKU id, quantity) at the chain's
    prices, under `channel` and no channel id of a Shopify order (a counter's own, unless given)."""
    skus = {s.id_sku: s for s in chain.skus}
    body = OrderInput(
        seq_canal_venda=channel,
        channel_order_id=channel_order_id or f"balcao-{uuid.uuid4().hex[:8]}",
        ordered_at=datetime.now(UTC),
        nro_empresa=nro_empresa,
        nro_segmento=chain.segment,
        cod_geral_oper=207,
        customer=CustomerInput(cpf_cnpj=cpf_cnpj, name="MARIA SILVA"),
        lines=tuple(
            OrderLineInput(
                qty=Decimal(q),
                seq_produto=skus[s].seq_produto,
                qtd_embalagem=skus[s].qtd_embalagem,
                unit_price=chain.prices[s],
            )
            for s, q in lines
        ),
        freight=freight,
        obs=obs,
    )
    client = ErpClient(chain.handle.url, "ecommerce", "consinco")
    try:
        return client.insert_order(body).nro_pedvenda
    finally:
        client.close()


def cancel_in_shopify(
    domain: str, gid: str, *, refund: bool | None = None, staff_note: str | None = None
) -> None:
    """A person cancels the order in Shopify's admin (reason CUSTOMER, restocked; `refund`: to the
    original payment, None: Shopify's default; `staff_note`: theirs). orderCancel is asynchronous:
    this waits for Shopify's job (orders/cancelled is sent when it ends)."""
    from shopify_app.admin_api import for_shop

    client = for_shop(domain)
    try:
        job = client.order_cancel(
            gid, reason="CUSTOMER", restock=True, refund_to_original=refund, staff_note=staff_note
        )
        for _ in range(100):
            if job.done:
                return
            time.sleep(0.05)
            job = client.job(job.id)
    finally:
        client.close()
    raise AssertionError(f"Shopify's cancel job {job.id} never finished")

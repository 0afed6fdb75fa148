"""An order the import refused, entered in the ERP by hand: its detail on the Orders page offers
"Link to ERP order"; the number typed links it, and the page shows it in the ERP, linked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from erp.client import ErpClient
from erp.records import CustomerInput, OrderInput, OrderLineInput
from ledger.db import session_scope
from ledger.models import OrderLink

from .conftest import SHOP_DOMAIN, connect_erp, screenshot
from .ledger_rows import rejected_order, shop_id

pytestmark = pytest.mark.browser


def _typed_by_hand(url: str) -> int:
    client = ErpClient(url, "ecommerce", "consinco")
    try:
        item = next(i for i in client.price_items(nro_empresa=1) if i.sale_active)
        sku = next(s for s in client.skus() if s.id_sku == item.id_sku)
        body = OrderInput(
            seq_canal_venda=1, channel_order_id="balcao-1044", ordered_at=datetime.now(UTC), nro_empresa=1,
            nro_segmento=item.nro_segmento, cod_geral_oper=207,
            customer=CustomerInput(cpf_cnpj="52998224725", name="MARIA SILVA"),
            lines=(OrderLineInput(qty=Decimal(1), seq_produto=sku.seq_produto,
                                  qtd_embalagem=sku.qtd_embalagem, unit_price=item.effective),),
            freight=Decimal(0),
        )  # fmt: skip
        return client.insert_order(body).nro_pedvenda
    finally:
        client.close()


def test_link_a_refused_order_to_the_erp_order_typed_by_hand(open_page, fresh) -> None:
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    rejected_order(database, shop, "#1044", "Impostos somados ao total")
    with session_scope(database) as db:
        link = OrderLink(
            shop_id=shop, shopify_order_id="gid://shopify/Order/1044", shopify_order_name="#1044"
        )
        db.add(link)
        db.flush()
        order_id = link.id
    nro = _typed_by_hand(fresh.consinco.url)

    page = open_page(f"/app/orders/{order_id}", locale="en")
    form = page.get_by_test_id("link-erp-order")
    expect(form).to_be_visible()
    page.get_by_label("ERP order number").fill(str(nro))
    form.get_by_role("button", name="Link to ERP order").click()
    expect(page.get_by_test_id("link-erp-order")).to_have_count(0)
    expect(page.get_by_text("linked by hand", exact=False)).to_be_visible()
    screenshot(page, "order-linked-by-hand-en")
    with session_scope(database) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda == nro
    assert page.errors == []

"""An order the import refused, entered in the ERP by hand: its detail on the Orders page offers
"Link to ERP order"; the number typed links it, and the page shows it in the ERP, linked by hand.
The API compares the ERP order with the Shopify order placed in the sandbox: a total far from it
shows both totals and "Link anyway" (sent again with confirm_total); a hand link is undone with
"Unlink" after a confirm."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from playwright.sync_api import expect

from erp.client import ErpClient
from erp.records import CustomerInput, OrderInput, OrderLineInput
from ledger.db import session_scope
from ledger.models import OrderLink

from .conftest import API_KEY, SHOP, SHOP_DOMAIN, Stack, connect_erp, screenshot
from .ledger_rows import rejected_order, shop_id

pytestmark = pytest.mark.browser

BUYER_CPF = "52998224725"
PRODUCT = """
mutation Upsert($input: ProductSetInput!) {
  productSet(input: $input) { product { id } userErrors { field message } }
}"""


def _admin(fresh: Stack, query: str, variables: dict | None = None) -> dict:
    token = fresh.shopify.sandbox.tokens.issue_access_token(SHOP, API_KEY, expiring=False)["access_token"]
    answer = requests.post(
        f"{fresh.shopify.url}/admin/api/2026-10/graphql.json",
        timeout=10,
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token, "X-Forwarded-Host": SHOP_DOMAIN},
    )
    answer.raise_for_status()
    return answer.json()["data"]


def _refused_shopify_order(fresh: Stack, sku: str, price: str) -> int:
    """One unit of `sku` at `price` bought by BUYER_CPF in the sandbox store, its import refused
    (its link without an ERP number, its failed orders message): the link's id."""
    from sandbox.shopify.checkout import place_order

    location = _admin(fresh, "{ locations(first: 1) { nodes { id } } }")["locations"]["nodes"][0]["id"]
    product = {
        "title": f"Arroz {sku}",
        "status": "ACTIVE",
        "productOptions": [{"name": "Peso", "values": [{"name": "1 kg"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Peso", "name": "1 kg"}],
                "price": price,
                "inventoryItem": {"sku": sku, "tracked": True},
                "inventoryQuantities": [{"locationId": location, "name": "available", "quantity": 5}],
            }
        ],
    }
    assert _admin(fresh, PRODUCT, {"input": product})["productSet"]["userErrors"] == []
    gid = place_order(
        fresh.shopify.sandbox,
        SHOP,
        lines=[{"sku": sku, "quantity": 1}],
        gateway="pix",
        shipping="RETIRADA",
        tax_id=BUYER_CPF,
        discount_rate=0.0,
        seed=3,
    )
    name = _admin(fresh, "query O($id: ID!) { order(id: $id) { name } }", {"id": gid})["order"]["name"]
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    rejected_order(database, shop, name, "Impostos somados ao total")
    with session_scope(database) as db:
        link = OrderLink(shop_id=shop, shopify_order_id=gid, shopify_order_name=name)
        db.add(link)
        db.flush()
        return link.id


def _typed_by_hand(url: str, unit_price: Decimal | None = None, cpf: str = BUYER_CPF) -> int:
    """The order entered in the ERP by hand for the same buyer (unless `cpf` names another); at the
    item's own price unless `unit_price` says otherwise. Its number."""
    client = ErpClient(url, "ecommerce", "consinco")
    try:
        item = next(i for i in client.price_items(nro_empresa=1) if i.sale_active)
        sku = next(s for s in client.skus() if s.id_sku == item.id_sku)
        body = OrderInput(
            seq_canal_venda=1, channel_order_id=f"balcao-{datetime.now(UTC).timestamp()}",
            ordered_at=datetime.now(UTC), nro_empresa=1,
            nro_segmento=item.nro_segmento, cod_geral_oper=207,
            customer=CustomerInput(cpf_cnpj=cpf, name="MARIA SILVA"),
            lines=(OrderLineInput(qty=Decimal(1), seq_produto=sku.seq_produto,
                                  qtd_embalagem=sku.qtd_embalagem, unit_price=unit_price or item.effective),),
            freight=Decimal(0),
        )  # fmt: skip
        return client.insert_order(body).nro_pedvenda
    finally:
        client.close()


def _erp_total(url: str, nro: int) -> Decimal:
    client = ErpClient(url, "ecommerce", "consinco")
    try:
        found = client.get_order(nro)
        assert found is not None and found.total is not None
        return found.total
    finally:
        client.close()


def test_link_a_refused_order_to_the_erp_order_typed_by_hand(open_page, fresh) -> None:
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    nro = _typed_by_hand(fresh.consinco.url)
    order_id = _refused_shopify_order(fresh, "BR-LINK-1", str(_erp_total(fresh.consinco.url, nro)))

    page = open_page(f"/app/orders/{order_id}", locale="en")
    form = page.get_by_test_id("link-erp-order")
    expect(form).to_be_visible()
    page.get_by_label("ERP order number").fill(str(nro))
    form.get_by_role("button", name="Link to ERP order").click()
    expect(page.get_by_test_id("link-erp-order")).to_have_count(0)
    expect(page.get_by_text("linked by hand", exact=False)).to_be_visible()
    screenshot(page, "order-linked-by-hand-en")
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda == nro
    assert page.errors == []


def test_a_far_total_is_linked_once_confirmed_then_unlinked(open_page, fresh) -> None:
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    nro = _typed_by_hand(fresh.consinco.url, unit_price=Decimal("250.00"))
    order_id = _refused_shopify_order(fresh, "BR-LINK-2", "12.50")

    page = open_page(f"/app/orders/{order_id}", locale="en")
    form = page.get_by_test_id("link-erp-order")
    page.get_by_label("ERP order number").fill(str(nro))
    form.get_by_role("button", name="Link to ERP order").click()
    warning = form.locator("s-banner[tone=warning]")
    expect(warning).to_contain_text("R$250.00")  # both totals, in the page's money format
    expect(warning).to_contain_text("R$12.50")
    # the refusal's words in the page's language (the API's English stays its `message`)
    expect(warning).to_contain_text(
        f"The totals of ERP order {nro} and of the Shopify order differ by more than R$5.00"
    )
    screenshot(page, "order-link-total-differs-en")
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda is None  # nothing linked before the confirm
    warning.get_by_role("button", name="Link anyway").click()
    expect(page.get_by_test_id("link-erp-order")).to_have_count(0)
    expect(page.get_by_text("linked by hand", exact=False)).to_be_visible()
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda == nro

    unlink = page.get_by_test_id("unlink-erp-order")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    unlink.get_by_role("button", name="Unlink").click()
    expect(unlink).to_be_visible()  # dismissed: still linked
    assert dialogs == [f"Unlink this order from ERP order {nro}?"]
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda == nro
    page.once("dialog", lambda d: d.accept())
    unlink.get_by_role("button", name="Unlink").click()
    expect(page.get_by_test_id("unlink-erp-order")).to_have_count(0)
    expect(page.get_by_test_id("link-erp-order")).to_be_visible()  # can be linked to the right one
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda is None
    assert page.errors == []


def test_another_buyers_erp_order_is_linked_only_once_confirmed(open_page, fresh) -> None:
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    nro = _typed_by_hand(fresh.consinco.url, cpf="11144477735")  # another buyer's CPF
    order_id = _refused_shopify_order(fresh, "BR-LINK-3", str(_erp_total(fresh.consinco.url, nro)))

    page = open_page(f"/app/orders/{order_id}", locale="en")
    form = page.get_by_test_id("link-erp-order")
    page.get_by_label("ERP order number").fill(str(nro))
    form.get_by_role("button", name="Link to ERP order").click()
    warning = form.locator("s-banner[tone=warning]")
    expect(warning).to_contain_text("Another buyer's CPF/CNPJ")
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda is None  # nothing linked before the confirm
    warning.get_by_role("button", name="Link anyway").click()
    expect(page.get_by_test_id("link-erp-order")).to_have_count(0)
    expect(page.get_by_text("linked by hand", exact=False)).to_be_visible()
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(OrderLink, order_id).nro_pedvenda == nro
    assert page.errors == []

"""A message's page names its thing as the merchant knows it (order #1002, the product's title),
links the Shopify gid into the admin with the gid only as small text under the link, and keeps the
app's own ids (unit of work, RQ job) in a closed technical section."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope
from ledger.models import Binding, OrderLink

from .conftest import SHOP_DOMAIN
from .ledger_rows import done_message, shop_id

pytestmark = pytest.mark.browser

JOB = "orders-import-7c1f0e2a9b"


@pytest.mark.parametrize(("locale", "open_in", "technical"), [
    ("pt-BR", "Abrir na Shopify", "Detalhes técnicos"), ("en", "Open in Shopify", "Technical details"),
])  # fmt: skip
def test_an_order_message_reads_by_its_name(open_page, fresh, locale, open_in, technical) -> None:
    page = open_page("/app/messages", locale=locale)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    gid = "gid://shopify/Order/5512093"
    with session_scope(fresh.settings.database_url) as db:
        db.add(OrderLink(shop_id=shop, shopify_order_id=gid, shopify_order_name="#1002", nro_pedvenda=41))
    message_id = done_message(
        fresh.settings.database_url, shop, "orders", "order:5512093", shopify_id=gid, erp_id="41", job_id=JOB
    )
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale=locale))
    expect(page.get_by_test_id("detail-subject")).to_have_text("#1002 · ERP 41")
    link = page.get_by_test_id("open-in-shopify")
    expect(link).to_have_text(open_in)
    expect(link).to_have_attribute("href", "shopify://admin/orders/5512093")
    expect(page.get_by_test_id("shopify-gid")).to_have_text(gid)  # small, under the link, to copy

    details = page.get_by_test_id("technical-details")
    expect(details.get_by_text(JOB)).to_be_hidden()  # closed: a job id is not the merchant's
    expect(details.get_by_text("order:5512093", exact=True)).to_be_hidden()
    details.locator("summary").filter(has_text=technical).click()
    expect(details.get_by_text(JOB)).to_be_visible()
    expect(details.get_by_text("order:5512093", exact=True)).to_be_visible()
    assert page.errors == []


def test_a_product_message_reads_by_its_title(open_page, fresh) -> None:
    page = open_page("/app/messages")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    cached = {"product": {"seq_produto": 778, "description": "ARROZ TIO JOÃO 5KG"}, "skus": {}}
    with session_scope(fresh.settings.database_url) as db:
        db.add(Binding(shop_id=shop, kind="erp_catalog", erp_id="778", data=cached))
    message_id = done_message(
        fresh.settings.database_url, shop, "products", "product:778", erp_id="778",
        shopify_id="gid://shopify/Product/91",
    )  # fmt: skip
    page.reload()
    row = page.get_by_test_id("messages-results").locator(f"s-table-row[data-message-id='{message_id}']")
    expect(row.get_by_test_id("message-subject")).to_have_text("ARROZ TIO JOÃO 5KG (produto 778)")
    page.goto(fresh.page_url(f"/app/messages/{message_id}"))
    expect(page.get_by_test_id("detail-subject")).to_have_text("ARROZ TIO JOÃO 5KG (produto 778)")
    expect(page.get_by_test_id("open-in-shopify")).to_have_attribute("href", "shopify://admin/products/91")
    assert page.errors == []


def test_an_unreadable_sku_record_reads_by_its_products_title_and_its_sku(open_page, fresh) -> None:
    """The message of an unreadable SKU record (erp_id: its idSku) is named by the title of the
    product the record names and by the SKU, not as the product whose number is the idSku."""
    from ledger import trace
    from ledger.flows import ERP_TO_SHOPIFY

    page = open_page("/app/messages")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        for seq, title in ((4021, "CERVEJA HEINEKEN LATA 350ML"), (987, "ARROZ TIO JOÃO 5KG")):
            data = {"product": {"seq_produto": seq, "description": title}, "skus": {}}
            db.add(Binding(shop_id=shop, kind="erp_catalog", erp_id=str(seq), data=data))
        message = trace.begin(db, shop, "skus", "record:4021", ERP_TO_SHOPIFY, erp_id="4021",
                              request={"id_sku": "4021", "seq_produto": "987"})  # fmt: skip
        db.flush()
        message_id = message.id
    page.reload()
    row = page.get_by_test_id("messages-results").locator(f"s-table-row[data-message-id='{message_id}']")
    expect(row.get_by_test_id("message-subject")).to_have_text("ARROZ TIO JOÃO 5KG (SKU 4021)")
    assert page.errors == []

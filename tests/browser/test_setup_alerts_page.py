"""Setup > Alert e-mails: the team types its addresses, sends a test e-mail through the sandbox's mail
server (a refusal shown in the page's words), saves them, and reads how the last alert went."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from jobs import alerts
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import Message, Shop, utcnow

from .conftest import SHOP_DOMAIN, screenshot, settled

pytestmark = pytest.mark.browser


def test_the_team_sets_its_alert_emails_tests_them_and_sees_the_last_alert(open_page, fresh) -> None:
    page = open_page("/app/setup")
    settled(page)  # the sections above grew as their answers came: the clicks below land on their buttons
    section = page.get_by_test_id("alerts-section")
    expect(section).to_contain_text("Alertas por e-mail")
    expect(section).to_contain_text("A cada 10 minutos no máximo")
    expect(section.get_by_test_id("alerts-last")).to_have_text("Nenhum alerta enviado ainda.")

    addresses = section.get_by_label("Endereços (separados por vírgula)")
    addresses.fill("ecommerce@loja.com.br; gerente@loja.com.br")
    section.get_by_role("button", name="Enviar e-mail de teste").click()
    expect(page.get_by_test_id("alerts-test-result")).to_contain_text(
        "E-mail de teste enviado para ecommerce@loja.com.br, gerente@loja.com.br"
    )
    assert fresh.mail.received[-1].rcpt_to == ("ecommerce@loja.com.br", "gerente@loja.com.br")
    section.get_by_label("Idioma dos e-mails").select_option("en")
    section.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Salvo", exact=True).first).to_be_visible()
    expect(addresses).to_have_value("ecommerce@loja.com.br, gerente@loja.com.br")
    with session_scope() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP_DOMAIN)).one()
        assert shop.settings["alert_emails"] == ["ecommerce@loja.com.br", "gerente@loja.com.br"]
        assert shop.settings["alert_locale"] == "en"
        message = trace.begin(session, shop.id, "orders", "order:gid://shopify/Order/7", "shopify_to_erp")
        trace.fail(session, message, MappingMissing("payment_method", "pix"))
        shop_id = shop.id

    fresh.mail.refuse("nao-existe@loja.com.br")
    addresses.fill("nao-existe@loja.com.br")
    section.get_by_role("button", name="Enviar e-mail de teste").click()
    result = page.get_by_test_id("alerts-test-result")
    expect(result).to_contain_text("O e-mail de teste não foi enviado")
    expect(result).to_contain_text("O servidor de e-mail recusou o e-mail: confira os endereços")

    assert alerts.run(shop_id)["items"] == 1  # the job's alert, in the saved language
    assert fresh.mail.received[-1].subject == f"[Consinco-Shopify] {SHOP_DOMAIN}: 1 new item needs a person"
    page.reload()
    settled(page)
    section = page.get_by_test_id("alerts-section")
    last = section.get_by_test_id("alerts-last")
    expect(last).to_contain_text("1 item(ns), enviado para ecommerce@loja.com.br")
    screenshot(page, "setup-alerts")

    # The mail server busy at the next alert: the Flows page, where the team looks, says so
    fresh.mail.busy()
    with session_scope() as session:
        message = trace.begin(session, shop_id, "orders", "order:gid://shopify/Order/8", "shopify_to_erp")
        trace.fail(session, message, MappingMissing("payment_method", "boleto"))
        boleto = message.id
    assert "421" in alerts.run(shop_id)["error"]
    fresh.mail.busy(False)
    flows = open_page("/app/flows", locale="en")
    banner = flows.get_by_test_id("alert-failed")
    expect(banner).to_contain_text("The last alert e-mail was not sent")
    expect(banner).to_contain_text("(1 item(s)): they go with the next one")
    expect(banner.get_by_role("link", name="Setup > Alert e-mails")).to_be_visible()
    screenshot(flows, "flows-alert-failed")

    # What it held settled before the next alert (a person's Retry went through): nothing left to
    # send, and neither page says "not sent" any more
    with session_scope() as session:
        trace.succeed(session, session.get(Message, boleto))
    assert alerts.run(shop_id, now=utcnow() + timedelta(minutes=10)) == {"items": 0}
    flows.reload()
    expect(flows.get_by_test_id("flows-table")).to_be_visible()
    expect(flows.get_by_test_id("alert-failed")).to_have_count(0)
    page.reload()
    settled(page)
    expect(page.get_by_test_id("alerts-section").get_by_test_id("alerts-last")).to_contain_text(
        "Nada a enviar"
    )
    assert page.errors == [] and flows.errors == []  # type: ignore[attr-defined]

"""An order held for its fraud risk (jobs.order_risk): its message says why it waits and what to do,
in the page's language, and an operator (not a viewer) sends it with "Send to the ERP anyway"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message
from ledger.order_risk import ACCEPTED

from .conftest import SHOP_DOMAIN
from .ledger_rows import shop_id

pytestmark = pytest.mark.browser

DETAIL = {
    "waiting": "risk",
    "recommendation": "CANCEL",
    "pending": False,
    "setting": "cancel",
    "assessments": [
        {"level": "HIGH", "provider": None, "facts": ["Características semelhantes a pedidos fraudulentos"]},
        {"level": "HIGH", "provider": "ClearSale", "facts": []},
    ],
}
SAID = {
    "pt-BR": ("Retido para análise de fraude", "ClearSale: risco alto", "Enviar ao ERP mesmo assim"),
    "en": ("Held for a fraud review", "ClearSale: high risk", "Send to the ERP anyway"),
}


def _held(database_url: str) -> int:
    with session_scope(database_url) as db:
        message = trace.begin(db, shop_id(database_url, SHOP_DOMAIN), "orders", "order:7301", SHOPIFY_TO_ERP,
                              shopify_id="gid://shopify/Order/7301", search=["#1301"],
                              request={"order_name": "#1301"})  # fmt: skip
        message.error_text = "Held for a fraud review: Shopify recommends cancelling this order"
        message.error_detail = DETAIL
        return message.id


TOAST = {
    "pt-BR": "Enviado para importação",
    "en": "Sent for import",
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_an_operator_sends_a_held_order_a_viewer_only_reads_why(open_page, fresh, locale: str) -> None:
    title, assessed, button = SAID[locale]
    page = open_page("/app/messages", locale=locale)  # the shop installed, its first staff member the owner
    viewer = open_page("/app/messages", user="estoquista", locale=locale)  # nobody gave Ana a role: viewer
    message_id = _held(fresh.settings.database_url)
    viewer.goto(fresh.page_url(f"/app/messages/{message_id}", user="estoquista", locale=locale))
    expect(viewer.get_by_text(title).first).to_be_visible()
    expect(viewer.locator("s-page")).to_contain_text(assessed)
    expect(viewer.get_by_test_id("risk-accept")).to_have_count(0)
    page.goto(fresh.page_url(f"/app/messages/{message_id}", locale=locale))
    accept = page.get_by_test_id("risk-accept")
    expect(accept).to_contain_text(button)
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))  # it asks first
    accept.click()
    expect(page.locator("#stand-in-toasts")).to_contain_text(TOAST[locale])
    with session_scope(fresh.settings.database_url) as db:
        decision = db.get(Message, message_id).request_payload[ACCEPTED]
        assert decision["recommendation"] == "CANCEL"
    assert asked and "ERP" in asked[0]
    assert viewer.errors == [] and page.errors == []

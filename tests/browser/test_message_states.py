"""What a message's state reads like (UX review): a skipped message's page says why it was skipped,
a refusal of the app's own check is named the integration's (not "refused by the target") in the
list and the detail's facts, and a message retrying by itself is not shown as critical."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from ledger import trace
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message

from .conftest import SHOP_DOMAIN, WAIT_MS, screenshot
from .ledger_rows import rejected_order, shop_id

pytestmark = pytest.mark.browser

REASON = "ERP order 880012 already has these lines"


def _message(database: str, shop: int, unit_key: str, flow: str = "orders") -> int:
    with session_scope(database) as db:
        return trace.begin(db, shop, flow, unit_key, SHOPIFY_TO_ERP, request={"unit": unit_key}).id


def _skipped(database: str, shop: int) -> int:
    """An order edit with nothing to send (as jobs.order_edits skips it)."""
    message_id = _message(database, shop, "edit:46070", "order_edits")
    with session_scope(database) as db:
        trace.skip(db, db.get(Message, message_id), REASON)
    return message_id


def _failed(database: str, shop: int, unit_key: str, error: Exception) -> int:
    message_id = _message(database, shop, unit_key)
    with session_scope(database) as db:
        trace.fail(db, db.get(Message, message_id), error)
    return message_id


def _fact(page, name: str):
    return (
        page.locator("s-table-row")
        .filter(has=page.locator("s-table-cell", has_text=name))
        .locator("s-table-cell")
        .nth(1)
    )


@pytest.mark.parametrize(("locale", "frame"), [("pt-BR", "Ignorada:"), ("en", "Skipped:")])
def test_a_skipped_messages_page_says_why_it_was_skipped(locale: str, frame: str, open_page, fresh) -> None:
    """Demo (#7267): the page showed the payload only; the reason was in the list alone."""
    open_page("/app/setup", locale=locale)
    database = fresh.settings.database_url
    message_id = _skipped(database, shop_id(database, SHOP_DOMAIN))
    page = open_page(f"/app/messages/{message_id}", locale=locale)
    reason = page.get_by_test_id("skipped-reason")
    expect(reason).to_have_text(f"{frame} {REASON}")
    expect(reason).to_have_attribute("tone", "info")
    expect(page.locator("s-banner[tone=critical]")).to_have_count(0)
    screenshot(page, f"message-skipped-{locale}")
    assert page.errors == []


def test_the_app_stopping_an_order_is_not_called_refused_by_the_target(open_page, fresh) -> None:
    """Demo: an invalid CPF read "Recusada pelo destino" in the list and the facts; the ERP never saw it."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    invalid_cpf = Rejected("the CPF 111.111.111-11 is not valid", system="app", code="INVALID_TAX_ID")
    stopped = _failed(database, shop, "order:46159", invalid_cpf)
    refused = rejected_order(database, shop, "#2001", "Forma de pagamento inativa na empresa 1")
    page = open_page("/app/messages")
    rows = page.get_by_test_id("messages-results")
    expect(
        rows.locator(f"s-table-row[data-message-id='{stopped}']").get_by_test_id("error-kind")
    ).to_have_text("Parado pela integração")
    expect(
        rows.locator(f"s-table-row[data-message-id='{refused}']").get_by_test_id("error-kind")
    ).to_have_text("Recusada pelo destino")
    page = open_page(f"/app/messages/{stopped}")
    expect(page.locator("s-banner[tone=critical]")).to_have_attribute("heading", "Parado pela integração")
    expect(_fact(page, "Tipo de erro")).to_have_text("Parado pela integração")
    page = open_page(f"/app/messages/{refused}")
    expect(_fact(page, "Tipo de erro")).to_have_text("Recusada pelo destino")
    assert page.errors == []


def test_a_message_retrying_by_itself_is_a_warning_not_critical(open_page, fresh) -> None:
    """Demo: a red banner over "Nada a fazer", the list's badge for it yellow."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    message_id = _failed(database, shop_id(database, SHOP_DOMAIN), "order:46160",
                         Transient("the ERP did not answer in time", system="consinco"))  # fmt: skip
    page = open_page(f"/app/messages/{message_id}")
    banner = page.locator("s-banner[tone=warning]")
    expect(banner).to_have_attribute("heading", "Falha temporária")
    expect(banner).to_contain_text("Nada a fazer")
    expect(page.locator("s-banner[tone=critical]")).to_have_count(0)
    assert page.errors == []


def _polled(page, message_id: int):
    """The next time the detail page re-reads its message (GET /api/messages/<id>)."""
    path = f"/api/messages/{message_id}"
    return page.expect_response(
        lambda r: r.request.method == "GET" and urlsplit(r.url).path == path, timeout=WAIT_MS
    )


def test_a_retried_failure_is_followed_until_its_job_lands(open_page, fresh) -> None:
    """Review (pages): after Retry the page re-read the message once, 3 s later, and stopped
    unless it was pending/retrying/parked. A retry whose job had not started by then (a busy
    orders queue) still read "Falhou", so the page kept "Falhou" and Retry for good, though the
    order reached the ERP a moment later. It follows the message until it moves, then as before."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    refused = Rejected("Forma de pagamento inativa", system="consinco")
    message_id = _failed(database, shop, "order:#3001", refused)
    page = open_page(f"/app/messages/{message_id}")
    status = _fact(page, "Situação")
    expect(status).to_have_text("Falhou")
    with _polled(page, message_id):  # no worker here: the retry job is still queued at the first look
        page.get_by_role("button", name="Tentar de novo").click()
    expect(status).to_have_text("Falhou")
    with session_scope(database) as db:  # the worker runs the retry now: the order lands in the ERP
        message = trace.begin(db, shop, "orders", "order:#3001", SHOPIFY_TO_ERP)
        trace.succeed(db, message, response={"nro_pedvenda": 880001})
    expect(status).to_have_text("Concluída")
    expect(page.get_by_role("button", name="Tentar de novo")).to_have_count(0)
    assert page.errors == []

"""A viewer (read-only) is never told to press a button their role hides: the texts that name
Retry, Run now or a requeue tell a viewer to ask someone with the Operator role or above; an
operator (or owner) still reads the button's name."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from ledger.db import session_scope
from ledger.models import Schedule, utcnow

from .conftest import SHOP_DOMAIN
from .ledger_rows import rejected_order, shop_id

pytestmark = pytest.mark.browser

ASK = "a alguém com papel de Operador ou acima"  # "peça a alguém...", "Peça a alguém..."
FAILED_JOB = {"jobs": [{"id": "flow-stock-due", "func": "jobs.stock.run", "error": "ErpUnavailable: down",
                        "ended_at": "2026-11-30T08:00:00+00:00", "queue": "catalog"}]}  # fmt: skip


def test_a_rejected_message_tells_a_viewer_whom_to_ask(open_page, fresh) -> None:
    owner = open_page("/app/messages")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    message_id = rejected_order(fresh.settings.database_url, shop, "#2001", "Forma de pagamento inativa")
    owner.goto(fresh.page_url(f"/app/messages/{message_id}"))
    expect(owner.get_by_role("button", name="Tentar de novo")).to_be_visible()
    expect(owner.locator("s-banner").first).not_to_contain_text(ASK)

    viewer = open_page(f"/app/messages/{message_id}", user="estoquista")
    explanation = viewer.locator("s-banner").filter(has_text="O que fazer")
    expect(explanation).to_contain_text(ASK)
    expect(viewer.get_by_role("button", name="Tentar de novo")).to_have_count(0)
    assert viewer.errors == []


def test_the_flows_page_tells_a_viewer_whom_to_ask(open_page, fresh) -> None:
    owner = open_page("/app/flows")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        failed = {"last_status": "failed", "last_ended_at": utcnow(), "last_error": "ErpUnavailable: down"}
        db.execute(
            update(Schedule).where(Schedule.shop_id == shop, Schedule.flow == "stock").values(**failed)
        )

    owner.route("**/api/jobs/failed*", lambda route: route.fulfill(json=FAILED_JOB))  # one failed for good
    owner.reload()
    stock = "s-table-row:has-text('Estoque')"
    expect(owner.locator(stock).get_by_test_id("run-hint")).to_contain_text("clique em Executar agora")
    expect(owner.get_by_test_id("failed-jobs-intro")).not_to_contain_text(ASK)

    viewer = open_page("/app/flows", user="estoquista")
    viewer.route("**/api/jobs/failed*", lambda route: route.fulfill(json=FAILED_JOB))
    viewer.reload()
    hint = viewer.locator(stock).get_by_test_id("run-hint")
    expect(hint).to_contain_text(ASK)
    expect(hint).not_to_contain_text("clique em Executar agora")
    expect(viewer.get_by_test_id("failed-jobs-intro")).to_contain_text(ASK)
    expect(viewer.get_by_role("button", name="Executar agora")).to_have_count(0)
    assert viewer.errors == []

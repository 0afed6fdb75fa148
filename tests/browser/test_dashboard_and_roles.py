"""The flows dashboard updates live (a row written to the ledger shows up without a reload),
and the role rules: a viewer sees no edit controls and the API refuses a forced call."""

from __future__ import annotations

import json
import re
import socket
from datetime import timedelta

import pytest
import redis
from playwright.sync_api import expect
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import select, update

from jobs.locks import flow_lock
from jobs.worker import build_worker
from ledger import mappings, queues, trace
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, Message, Role, Schedule, utcnow
from shopify_app.roles import set_role

from .conftest import SHOP_DOMAIN, api_call, screenshot
from .ledger_rows import done_message, parked_order, shop_id

pytestmark = pytest.mark.browser

FORCED_CHANGE = ("PUT", "/api/setup/settings", {"seq_canal_venda": 99})


def test_dashboard_counts_change_without_reload(open_page, fresh) -> None:
    page = open_page("/app/flows")
    done = page.get_by_test_id("counts-orders").locator("[data-count=done]")
    parked = page.get_by_test_id("counts-orders").locator("[data-count=parked]")
    expect(done).to_have_text("0")
    page.evaluate("window.__sameDocument = true")

    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    done_message(
        fresh.settings.database_url, shop, "orders", "order:#3001", shopify_id="gid://shopify/Order/3001"
    )
    parked_order(fresh.settings.database_url, shop, "#3002", "carrier", "retira-loja")
    expect(done).to_have_text("1")
    expect(parked).to_have_text("1")
    expect(page.get_by_test_id("messages-total")).to_contain_text("2")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(page, "flows-pt-BR")

    parked.click()  # the count links to the messages it counts
    expect(page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")).to_have_count(1)
    assert page.errors == []


def test_a_change_the_cursor_cannot_see_is_shown_by_the_next_full_read(open_page, fresh) -> None:
    """A write stamped before the latest change but committed after it (its transaction's time is
    taken before its commit) leaves the change cursor as it was: the page still shows it, at its
    next full re-read (every 30 s whatever the cursor says), without a reload."""
    page = open_page("/app/flows", clock=True)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    parked_id = parked_order(fresh.settings.database_url, shop, "#3004", "carrier", "retira-loja")
    counts = page.get_by_test_id("counts-orders")
    expect(counts.locator("[data-count=parked]")).to_have_text("1")
    page.evaluate("window.__sameDocument = true")
    cursor = json.loads(api_call(page, "GET", "/api/flows")["body"])["cursor"]
    with session_scope(fresh.settings.database_url) as db:
        stamped = db.get(Message, parked_id).updated_at
        db.execute(update(Message).where(Message.id == parked_id).values(status="done", updated_at=stamped))
    assert json.loads(api_call(page, "GET", f"/api/flows/changes?since={cursor}")["body"])["changed"] is False
    page.clock.fast_forward(31_000)  # past FULL_MS: the next poll reads the rows again
    expect(counts.locator("[data-count=done]")).to_have_text("1")
    expect(counts.locator("[data-count=parked]")).to_have_text("0")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.errors == []


def _wait_for_setup(page) -> None:
    erp = page.locator("s-section").filter(has_text="Conexão com o ERP")
    expect(erp.get_by_label("Usuário")).to_be_visible()


def _staff_id(fresh, handle: str) -> str:
    """The numeric Shopify id of a sandbox staff member (what ID tokens carry as `sub`)."""
    return str(fresh.shopify.sandbox.shops.staff_member("mercado-teste", handle)["id"]).rsplit("/", 1)[-1]


def test_viewer_sees_no_controls_and_the_api_refuses(open_page, fresh) -> None:
    owner = open_page("/app/setup", user="owner")  # the first staff member becomes the owner
    _wait_for_setup(owner)
    expect(owner.get_by_role("button", name="Testar conexão")).to_be_visible()

    viewer = open_page("/app/setup", user="estoquista")  # nobody gave Ana a role: viewer
    _wait_for_setup(viewer)
    section = viewer.locator("s-section").filter(has_text="Conexão com o ERP")
    expect(section.get_by_label("Usuário")).to_be_disabled()
    expect(viewer.get_by_role("button", name="Salvar")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Testar conexão")).to_have_count(0)
    screenshot(viewer, "setup-viewer-pt-BR")
    assert api_call(viewer, *FORCED_CHANGE)["status"] == 403

    viewer.goto(fresh.page_url("/app/flows", user="estoquista"))
    expect(viewer.get_by_test_id("counts-orders")).to_be_visible()
    expect(viewer.get_by_role("button", name="Executar agora")).to_have_count(0)
    viewer.goto(fresh.page_url("/app/audit", user="estoquista"))
    expect(viewer.get_by_test_id("roles")).to_contain_text("Proprietário")
    expect(viewer.get_by_role("button", name="Dar papel")).to_have_count(0)
    assert api_call(owner, *FORCED_CHANGE)["status"] == 200


def test_operator_runs_flows_but_cannot_configure(open_page, fresh) -> None:
    owner = open_page("/app/audit", user="owner")
    expect(owner.get_by_test_id("roles")).to_contain_text("Proprietário")
    user_id = _staff_id(fresh, "gerente")
    roles = owner.get_by_test_id("roles")
    roles.get_by_label("Usuário (ID Shopify)").fill(user_id)
    roles.get_by_label("Nome").fill("João Santos")
    roles.get_by_label("Papel", exact=True).select_option("operator")
    roles.get_by_role("button", name="Dar papel").click()
    expect(roles).to_contain_text("João Santos")
    expect(owner.get_by_test_id("audit")).to_contain_text("Papel concedido")
    screenshot(owner, "audit-pt-BR")

    operator = open_page("/app/flows", user="gerente")
    expect(operator.get_by_role("button", name="Executar Produtos agora")).to_be_visible()
    expect(operator.get_by_label("Agenda de Produtos")).to_have_count(0)  # schedules are admin's
    operator.get_by_role("button", name="Executar Produtos agora").click()
    expect(operator.get_by_text("Execução enfileirada")).to_be_visible()


def test_role_set_in_the_ledger_is_what_the_page_shows(open_page, fresh) -> None:
    owner = open_page("/app/setup")
    _wait_for_setup(owner)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    user_id = _staff_id(fresh, "estoquista")
    with session_scope(fresh.settings.database_url) as db:
        set_role(db, shop, user_id, Role.ADMIN, actor="test")
    admin = open_page("/app/setup", user="estoquista")
    _wait_for_setup(admin)
    expect(admin.get_by_role("button", name="Testar conexão")).to_be_visible()


def _set_progress(database_url: str, shop: int, done: int, total: int) -> None:
    """What a running catalog flow writes as it goes (Schedule.progress)."""
    with session_scope(database_url) as db:
        row = db.scalars(
            select(Schedule).where(Schedule.shop_id == shop, Schedule.flow == "products")
        ).one_or_none()
        if row is None:
            row = Schedule(shop_id=shop, flow="products", cron="*/30 * * * *", enabled=True)
            db.add(row)
        row.progress = {"done": done, "total": total}


def test_catalog_run_progress_shows_live(open_page, fresh) -> None:
    page = open_page("/app/flows")
    expect(page.get_by_test_id("counts-products")).to_be_visible()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    progress = page.get_by_label("Progresso de Produtos")
    with flow_lock(shop, "products", conn=redis.Redis.from_url(fresh.settings.redis_url)):
        _set_progress(fresh.settings.database_url, shop, 20, 80)
        expect(progress).to_have_attribute("value", "20")
        expect(page.get_by_role("button", name="Executar Produtos agora")).to_be_disabled()
        for n in range(3):
            done_message(fresh.settings.database_url, shop, "products", f"product:{n}", erp_id=str(n))
        _set_progress(fresh.settings.database_url, shop, 60, 80)
        expect(progress).to_have_attribute("value", "60")
        expect(page.get_by_test_id("counts-products").locator("[data-count=done]")).to_have_text("3")
        screenshot(page, "flows-running-pt-BR")
    expect(progress).to_have_count(0)  # the lock is gone: the run ended


def _closed_port() -> int:
    """A loopback port nothing listens on: the ERP down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_stock_run_that_failed_for_good_shows_on_its_row_and_is_requeued_from_the_page(
    open_page, fresh
) -> None:
    """The ERP down through every retry of a stock pass writes no message: the Flows row says it
    failed and why (live), and the run is listed under what needs attention, with its requeue."""
    page = open_page("/app/flows")
    expect(page.get_by_test_id("failed-jobs-none")).to_be_visible()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        db.add(ErpConnection(shop_id=shop, base_url=f"http://127.0.0.1:{_closed_port()}/api", username="u",
                             password_enc=encrypt("p", fresh.settings.encryption_keys)))  # fmt: skip
        mappings.set_store_link(db, shop, 1, 1)
    conn = redis.Redis.from_url(fresh.settings.redis_url)
    catalog = Queue("catalog", connection=conn)
    job = queues.enqueue(
        "jobs.stock.run", shop, queue="catalog", job_id="flow-stock-due", conn=conn, schedule="stock"
    )
    job.retries_left = 0  # its last try
    job.save()
    build_worker(["catalog"], simple=True, conn=conn).work(burst=True, with_scheduler=False)
    assert FailedJobRegistry(queue=catalog).get_job_ids() == ["flow-stock-due"]

    rows = page.get_by_test_id("flows-table").locator("s-table-row")
    stock = rows.filter(has=page.get_by_test_id("counts-stock"))  # not "Estoque completo"
    expect(stock.get_by_test_id("last-run")).to_have_attribute("data-status", "failed")
    expect(stock.get_by_test_id("last-run")).to_contain_text("Falhou")
    expect(stock.get_by_test_id("last-error")).to_contain_text("O ERP (Consinco) não respondeu")
    failed = page.get_by_test_id("failed-jobs")
    expect(failed).to_contain_text("Execução de Estoque")
    # why, in the page's language (the failure's words the worker kept); RQ's line under the details
    expect(failed.get_by_test_id("failed-job-reason")).to_contain_text("O ERP (Consinco) não respondeu")
    expect(failed.get_by_test_id("failed-job-technical")).to_contain_text("Consinco unreachable")
    screenshot(page, "flows-failed-run-pt-BR")
    page.get_by_role("button", name="Tentar Execução de Estoque de novo").click()
    expect(page.get_by_text("Enfileirada de novo")).to_be_visible()
    expect(page.get_by_test_id("failed-jobs-none")).to_be_visible()
    assert catalog.job_ids == ["flow-stock-due"]
    assert page.errors == []


def test_an_order_parked_days_ago_still_counts_as_open_work(open_page, fresh) -> None:
    """Its count links to the Messages list, which shows it whatever its age: so does the count."""
    page = open_page("/app/flows", locale="en")
    expect(page.get_by_test_id("open-failures")).to_contain_text(
        "Nothing failed, parked, retrying or interrupted"
    )
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    parked = parked_order(fresh.settings.database_url, shop, "#3003", "carrier", "retira-loja")
    with session_scope(fresh.settings.database_url) as db:
        db.execute(
            update(Message).where(Message.id == parked).values(updated_at=utcnow() - timedelta(days=3))
        )
    page.reload()
    expect(page.get_by_test_id("counts-orders").locator("[data-count=parked]")).to_have_text("1")
    expect(page.get_by_test_id("open-failures")).to_contain_text("Orders")
    assert page.errors == []


def test_a_unit_whose_worker_was_killed_counts_as_open_and_its_count_lists_it_alone(open_page, fresh) -> None:
    """Left pending, its job lost (trace.is_stale): nothing redoes it but a Retry, so the dashboard
    counts it among the open failures. Its count opens the Messages list of the interrupted units
    alone, not every pending one (orders waiting for their payment are pending on purpose), the
    filter shown as active and cleared from there."""
    from jobs.orders import _mark_waiting

    page = open_page("/app/flows", locale="en")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        lost = trace.begin(db, shop, "orders", "order:#4001", "shopify_to_erp")
        lost.updated_at = utcnow() - timedelta(hours=2)
        for n in range(3):  # unpaid boletos, as old
            waiting = trace.begin(db, shop, "orders", f"order:#410{n}", "shopify_to_erp")
            _mark_waiting(waiting, "PENDING", "paid")
            waiting.updated_at = utcnow() - timedelta(hours=2)
        db.flush()
        lost_id = lost.id
    page.reload()
    count = page.get_by_test_id("counts-orders").locator("[data-count=stuck]")
    expect(count).to_have_text("1")
    expect(page.get_by_test_id("open-failures")).to_contain_text("Orders")
    count.click()  # the count links to the messages it counts
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-message-id", str(lost_id))
    expect(rows.get_by_test_id("stuck")).to_contain_text("Interrupted")
    expect(page.get_by_test_id("filter-stuck")).to_contain_text("Interrupted")
    screenshot(page, "messages-interrupted-en")
    page.get_by_role("button", name="Clear the filter: Interrupted").click()
    expect(rows).to_have_count(4)  # the flow's every message: its filter kept
    expect(page.get_by_test_id("active-filters")).to_have_count(0)
    pt = open_page("/app/messages", flow="orders", stuck="true")
    expect(pt.get_by_test_id("filter-stuck")).to_contain_text("Interrompidas")
    expect(pt.get_by_role("button", name="Limpar o filtro: Interrompidas")).to_be_visible()
    assert page.errors == [] and pt.errors == []


def test_a_retry_whose_job_was_lost_is_one_open_failure(open_page, fresh) -> None:
    """Left retrying, its replay's job lost: counted retrying and interrupted (each count lists it),
    one open failure all the same, not two."""
    from ledger.errors import Transient

    page = open_page("/app/flows", locale="en")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        lost = trace.begin(db, shop, "products", "product:10", "erp_to_shopify", erp_id="10",
                           job_id=f"replay-{shop}-1-2")  # fmt: skip
        trace.fail(db, lost, Transient("Shopify answered HTTP 503"))
        lost.updated_at = utcnow() - timedelta(minutes=20)
    page.reload()
    counts = page.get_by_test_id("counts-products")
    expect(counts.locator("[data-count=retrying]")).to_have_text("1")
    expect(counts.locator("[data-count=stuck]")).to_have_text("1")
    bars = page.get_by_test_id("open-failures").locator("svg text")
    expect(bars).to_have_text(["Products", "1"])
    assert page.errors == []


def test_the_done_count_lists_the_units_done_in_the_hours_it_counts(open_page, fresh) -> None:
    """Done is counted over the last 24 hours: its link lists those, not every unit ever done."""
    page = open_page("/app/flows", locale="en")
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    recent = done_message(fresh.settings.database_url, shop, "stock", "stock:1:recent")
    old = [done_message(fresh.settings.database_url, shop, "stock", f"stock:1:old-{n}") for n in range(2)]
    with session_scope(fresh.settings.database_url) as db:
        db.execute(update(Message).where(Message.id.in_(old)).values(updated_at=utcnow() - timedelta(days=3)))
    page.reload()
    count = page.get_by_test_id("counts-stock").locator("[data-count=done]")
    expect(count).to_have_text("1")
    count.click()
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-message-id", str(recent))
    expect(page.get_by_test_id("filter-updated_since")).to_contain_text("Changed since")
    page.get_by_role("button", name=re.compile("^Clear the filter: Changed since")).click()
    expect(rows).to_have_count(3)
    assert page.errors == []


def test_a_reconciliation_that_found_drift_shows_it_on_both_pages(open_page, fresh) -> None:
    """Its last run is not plain "Concluída" on the Flows page, and its message on the Messages
    list says what it found, in the merchant's language (English too)."""
    from .ledger_rows import drift_report

    first = open_page("/app/flows")  # installs the shop
    expect(first.get_by_test_id("counts-orders")).to_be_visible()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    drift_report(fresh.settings.database_url, shop, {"order_totals_differ": 1, "prices_differ_in_shopify": 2})
    page = open_page("/app/flows")
    row = page.get_by_test_id("last-run").and_(page.locator("[data-status=drift]"))
    expect(row).to_contain_text("Concluída, com divergências")
    expect(page.get_by_test_id("last-findings")).to_have_text(
        "Divergências encontradas: totais de pedido diferentes 1, preços diferentes na Shopify 2"
    )
    screenshot(page, "flows-drift-pt-BR")
    messages = open_page("/app/messages", flow="reconcile")
    expect(messages.get_by_test_id("findings")).to_contain_text("totais de pedido diferentes 1")
    screenshot(messages, "messages-drift-pt-BR")
    english = open_page("/app/messages", locale="en", flow="reconcile")
    expect(english.get_by_test_id("findings")).to_have_text(
        "Drift found: order totals that differ 1, prices that differ in Shopify 2"
    )
    assert page.errors == [] and messages.errors == [] and english.errors == []


def test_a_role_row_refusal_marks_nothing_in_the_add_role_box(open_page, fresh) -> None:
    """A staff row's Save refused for its fields: the messages go in the toast (the row has no
    such inputs), not on the add-role box's inputs that happen to bear the same names."""
    page = open_page("/app/audit")
    roles = page.get_by_test_id("roles")
    save = roles.locator("s-table-row").locator("s-button", has_text="Salvar")
    expect(save).to_have_count(1)  # the shop's owner row
    refusal = {
        "error": {
            "code": "invalid",
            "message": "some fields are not valid",
            "fields": {
                "name": "must be text of at most 200 characters",
                "user_id": "must be a Shopify staff user id",
            },
        }
    }
    page.route("**/api/roles/*", lambda route: route.fulfill(status=400, json=refusal)
               if route.request.method == "PUT" else route.continue_())  # fmt: skip
    save.click()
    toast = page.locator("#stand-in-toasts")
    expect(toast).to_contain_text("Alguns campos não são válidos")
    expect(toast).to_contain_text("200")  # the name's message, listed since the row has no name input
    add_box_fields = roles.locator("s-text-field[name=name], s-text-field[name=user_id]")
    expect(add_box_fields).to_have_count(2)
    for field in add_box_fields.all():
        assert field.get_attribute("error") is None, field.get_attribute("name")
    assert page.errors == []  # the refusal was told in the toast, not left as an uncaught page error


def test_a_webhook_whose_body_could_not_be_read_is_dismissed_from_the_page(open_page, fresh) -> None:
    """A delivery kept `rejected` (its body no JSON object) is listed under the failed jobs saying so
    in the page's language, with Dismiss instead of Try again (a retry would read the same)."""
    from ledger.models import InboxStatus, WebhookInbox

    page = open_page("/app/flows")
    expect(page.get_by_test_id("failed-jobs-none")).to_be_visible()
    with session_scope(fresh.settings.database_url) as db:
        db.add(WebhookInbox(shop_domain=SHOP_DOMAIN, topic="orders/paid", webhook_id="w-unreadable",
                            raw_body=b"<html>", status=InboxStatus.REJECTED.value, processed_at=utcnow(),
                            reason="body is not valid JSON: Expecting value"))  # fmt: skip
    page.reload()  # no job failed in RQ: the page's live refresh has nothing to notice
    failed = page.get_by_test_id("failed-jobs")
    expect(failed.get_by_test_id("failed-job-reason")).to_contain_text(
        "A Shopify enviou um webhook orders/paid cujo conteúdo não pôde ser lido"
    )
    expect(failed.get_by_role("button", name=re.compile("^Tentar "))).to_have_count(0)
    failed.get_by_role("button", name=re.compile("^Descartar ")).click()
    expect(page.get_by_text("Descartado")).to_be_visible()
    expect(page.get_by_test_id("failed-jobs-none")).to_be_visible()
    assert page.errors == []

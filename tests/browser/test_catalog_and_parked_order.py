"""The whole path with a real RQ worker: run the catalog from the dashboard and watch it move,
place an order paid with an unmapped gateway, find it parked by its name, create the missing
De:Para line from the message, and watch the order resume into the ERP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from playwright.sync_api import expect
from rq import Worker
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from settings import ROOT

from .conftest import SHOP, Stack, api_call, connect_erp, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORKER_START_SECONDS = 30
WORKER_LOG = ROOT / "test-artifacts" / "worker.log"
# (button to press, flow whose done count must move): a SKU pass publishes the products it
# touches (their messages are the products flow's); the prices pass prices them (an unpriced
# variant is not for sale); the stock pass sets what can be bought.
CATALOG = (("SKUs", "products"), ("Preços", "prices"), ("Estoque", "stock"))


@pytest.fixture
def worker(fresh: Stack) -> Iterator[subprocess.Popen[bytes]]:
    """`flask --app app worker --simple` on the test's Redis and database (the environment).

    Its output goes to test-artifacts/worker.log, kept for whoever reads a failure.
    """
    conn = redis.Redis.from_url(fresh.settings.redis_url)
    WORKER_LOG.parent.mkdir(parents=True, exist_ok=True)
    log = WORKER_LOG.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--simple"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + WORKER_START_SECONDS
    while not Worker.all(connection=conn) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Worker.all(connection=conn), WORKER_LOG.read_text()
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    log.close()


def _configure(page: Any, fresh: Stack) -> None:
    """Setup through the API, as the Setup page does: ERP, store link, locations, channel."""
    connect_erp(page, fresh)
    choices = api_call(page, "GET", "/api/setup/erp-choices")
    assert choices["status"] == 200, choices
    erp = json.loads(choices["body"])
    companies = sorted(c["nro_empresa"] for c in erp["companies"] if c["active"])
    segment = next(s["nro_segmento"] for s in erp["segments"] if s["active"])
    link = {"nro_empresa": companies[0], "nro_segmento": segment}
    assert api_call(page, "PUT", "/api/setup/store-link", link)["status"] == 200
    locations = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    pairs = [{"nro_empresa": n, "location_id": loc["id"], "location_name": loc["name"]}
             for n, loc in zip(companies, locations, strict=False)]  # fmt: skip
    version = json.loads(api_call(page, "GET", "/api/setup/location-mappings")["body"])["version"]
    saved = api_call(page, "PUT", "/api/setup/location-mappings", {"version": version, "mappings": pairs})
    assert saved["status"] == 200, saved
    settings = {"seq_canal_venda": 3, "cod_geral_oper": 207, "payment_confirmation": "authorized"}
    assert api_call(page, "PUT", "/api/setup/settings", settings)["status"] == 200


def _wait_until_parked(fresh: Stack, name: str, seconds: float = 60) -> None:
    """Wait for the order's message to be parked in the ledger (the worker got there)."""
    query = select(Message.status).where(Message.flow == "orders", Message.search_text.contains(name.lower()))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with session_scope(fresh.settings.database_url) as db:
            if MessageStatus.PARKED.value in db.scalars(query).all():
                return
        time.sleep(0.3)
    raise AssertionError(f"order {name} never parked; see {WORKER_LOG}")


def _sellable_sku(fresh: Stack) -> str:
    from sandbox.shopify.state_dump import dump

    # The stack is the session's: other files' tests leave products of their own in the store
    # (BR-LINK-1...), which no catalog sync bound; only the ERP's SKUs (P{seq}E{qty}) are taken.
    for product in dump(fresh.shopify.sandbox, SHOP)["products"]:
        if product["status"] != "ACTIVE":
            continue
        for variant in product["variants"]:
            if not re.fullmatch(r"P\d+E[\d.]+", str(variant["sku"])):
                continue
            if any((q or {}).get("available", 0) >= 3 for q in variant["inventory"].values()):
                return str(variant["sku"])
    raise AssertionError("the catalog sync left no active variant in stock")


def test_catalog_runs_live_then_a_parked_order_resumes(open_page, fresh, worker) -> None:
    page = open_page("/app/setup")
    _configure(page, fresh)
    page.reload()
    # The page renders again once its data is in (the steps get their ticks): a click before that
    # lands on a button about to be replaced, and its result on a detached node (a CI flake).
    expect(page.locator("main")).to_contain_text("4. Canal de venda ✓", timeout=30_000)
    diff = page.get_by_test_id("catalog-diff-result")
    for attempt in range(3):  # the dry run before the first publish (it changes nothing: repeatable)
        page.get_by_role("button", name="Simular").click()
        try:
            expect(diff).to_contain_text("Criar", timeout=45_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    expect(page.locator('[data-step="catalog_diff"]')).to_contain_text("✓")
    screenshot(page, "setup-dry-run-pt-BR")

    page.goto(fresh.page_url("/app/flows"))
    for button, flow in CATALOG:
        done = page.get_by_test_id(f"counts-{flow}").locator("[data-count=done]")
        expect(done).to_have_text("0")
        page.get_by_role("button", name=f"Executar {button} agora").click()
        expect(done).not_to_have_text("0", timeout=90_000)  # the dashboard moves without a reload
    screenshot(page, "flows-after-catalog-pt-BR")

    from sandbox.shopify.checkout import place_order

    gid = place_order(fresh.shopify.sandbox, SHOP, lines=[{"sku": _sellable_sku(fresh), "quantity": 1}],
                      gateway="pix", seed=5, discount_rate=0.0)  # fmt: skip
    name = fresh.shopify.sandbox.store.get(SHOP, gid)["name"]

    _wait_until_parked(fresh, name)  # webhook -> inbox -> worker: the order parks

    page.goto(fresh.page_url("/app/messages", q=name))
    row = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Parada")
    row.first.get_by_role("link").click()
    create = page.get_by_role("link", name="Criar o De:Para de pix")
    expect(create).to_be_visible()
    screenshot(page, "parked-order-pt-BR")
    create.click()

    erp_method = page.get_by_label("Forma de pagamento (ERP)")
    expect(erp_method.locator("option")).not_to_have_count(1)
    erp_method.select_option(index=1)
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("1 mensagem(ns) retomada(s)")).to_be_visible()

    page.go_back()  # back to the message: it updates by itself until it is final
    expect(page.locator("s-badge", has_text="Concluída").first).to_be_visible(timeout=90_000)
    screenshot(page, "resumed-order-pt-BR")
    page.goto(fresh.page_url("/app/orders", q=name))
    expect(page.get_by_test_id("orders-results")).to_contain_text("No ERP")

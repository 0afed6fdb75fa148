"""Texts the jobs write in English, said on the pages in the request's language: a flow's last
run's error line (shopify_app.run_words), the catalog dry run's reasons (dry_run_words), an
order line's change reason (line_words) and a failure's words (fail_words). Each keeps the
English beside its words; a row older than them, or words under a key the catalogue lacks, read
as the English."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path
from string import Formatter

import pytest

from ledger import run_outcome
from ledger.db import session_scope
from ledger.models import OrderLineChange, Role, Schedule
from ledger.schedules import ensure_default_schedules
from shopify_app import (
    catalog_hold_words,
    dry_run_words,
    fail_words,
    line_words,
    note_words,
    reconcile_words,
    run_words,
    skip_words,
    stock_words,
)

from .conftest import headers
from .test_api_orders_admin import seed_order
from .test_api_skip_words import _used_keys

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {
    "run": run_words.WORDS,
    "dry_run": dry_run_words.WORDS,
    "line": line_words.WORDS,
    "reconcile": reconcile_words.WORDS,
    "stock": stock_words.WORDS,
    "catalog_hold": catalog_hold_words.WORDS,
    "fail": fail_words.WORDS,
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_key_is_said_in_both_languages_with_the_same_placeholders(name):
    catalogue = CATALOGUES[name]
    assert catalogue
    for key, (pt, en) in catalogue.items():
        assert pt.strip() and en.strip() and pt != en, key
        assert _fields(pt) == _fields(en), key


def test_no_key_is_in_two_catalogues():
    seen: dict[str, str] = {}
    for name, catalogue in {**CATALOGUES, "skip": skip_words.WORDS, "note": note_words.WORDS}.items():
        for key in catalogue:
            assert key not in seen, f"{key} in {seen.get(key)} and {name}"
            seen[key] = name


def _worded_keys() -> set[str]:
    """The keys failures are given with `.worded("key", ...)` in erp/, jobs/ and ledger/."""
    found: set[str] = set()
    for folder in ("erp", "jobs", "ledger"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "worded"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(node.args[0].value)
    return found


def test_every_run_key_a_failure_is_given_is_in_the_catalogue():
    # ledger.run_outcome's (the dead worker's), and jobs.scheduler's for a run it could not start
    # (given as words, not .worded)
    dead = {"worker_killed_signal", "worker_killed_status", "worker_abandoned"}
    used = _worded_keys() | dead | {"tick_could_not_start"}
    assert used and used <= set(run_words.WORDS)
    assert set(run_words.WORDS) <= used


def test_every_line_key_is_one_a_job_writes():
    """An order line's change words are written by jobs/ (jobs.order_edits): every catalogue key is
    a string there, so none is left unused when a step's text changes."""
    written = {
        node.value
        for path in (ROOT / "jobs").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert sorted(set(line_words.WORDS) - written) == []


def test_every_failure_key_is_given_by_a_job_and_every_key_a_failure_is_given_is_said():
    """fail_words' own keys are all given by jobs (as words=("key", {...}) or a part inside them);
    the words a classified failure is given (`words=` on a raise, `.worded`) all have a text in
    FAILURES, the catalogue the pages say failures from."""
    used = _used_keys()
    assert sorted(set(fail_words.WORDS) - set(used)) == []
    given = _worded_keys() | _raised_keys()
    assert len(given) >= 15
    assert sorted(given - set(fail_words.FAILURES)) == []


def _raised_keys() -> set[str]:
    """The keys of the words given to a failure raised in erp/, jobs/ and ledger/ (`words=(...)`
    on the raise; a conditional key counts both); not a skip raised (order_events.Skipped: the
    skip's words, shopify_app.skip_words)."""
    found: set[str] = set()
    for folder in ("erp", "jobs", "ledger"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                if ast.unparse(node.exc.func).endswith("Skipped"):
                    continue
                for keyword in node.exc.keywords:
                    value = keyword.value
                    if keyword.arg == "words" and isinstance(value, ast.Tuple) and value.elts:
                        first = value.elts[0]
                        options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
                        found |= {o.value for o in options if isinstance(o, ast.Constant)}
    return found


def test_a_runs_error_line_is_said_in_the_requests_language_and_an_old_one_as_written(
    client, settings, shops
):
    with session_scope(settings.database_url) as session:
        ensure_default_schedules(session, shops.a)
    line = "WorkHorseKilled: the worker process running it died (signal 9; out of memory?)"
    assert run_outcome.record(shops.a, "stock", "failed", line, ("worker_killed_signal", {"signal": 9}))
    assert run_outcome.record(shops.a, "prices", "failed", "Consinco down, as an older row says")
    assert run_outcome.record(shops.a, "orders", "failed", "a key since retired", ("no_such_key", {}))

    def errors(locale: str) -> dict[str, str | None]:
        answer = client.get(f"/api/flows?locale={locale}", headers=headers(Role.VIEWER)).get_json()
        return {f["name"]: (f["schedule"] or {}).get("last_error") for f in answer["flows"]}

    pt, en = errors("pt-BR"), errors("en")
    assert pt["stock"] == "O processo do worker que rodava esta execução morreu (sinal 9; falta de memória?)"
    assert en["stock"] == "The worker process running it died (signal 9; out of memory?)"
    assert pt["prices"] == en["prices"] == "Consinco down, as an older row says"
    assert pt["orders"] == "a key since retired"
    # a run stopped by a Shopify refusal (its words are the notes' catalogue's: fail_words.FAILURES)
    refused = ("shopify_refused", {"what": ("refused_capture", {}), "message": "nothing left to capture"})
    assert run_outcome.record(
        shops.a, "products", "failed", "OrderCapture rejected: nothing left to capture", refused
    )
    assert errors("pt-BR")["products"] == "A Shopify recusou a captura: nothing left to capture"
    with session_scope(settings.database_url) as session:
        row = session.query(Schedule).filter_by(shop_id=shops.a, flow="stock").one()
        assert row.last_error == line  # the English line stays, for logs and search


def test_the_dry_runs_reasons_are_said_in_the_requests_language_and_an_old_result_as_stored(
    client, shops, rq
):
    job_id = client.post("/api/setup/catalog-diff", headers=headers()).get_json()["job_id"]
    result = {
        "counts": {"waiting": 2, "unreadable": 1},
        "waiting": [
            {
                "seq_produto": 7,
                "reason": "waiting for its packagings (ProdutoSku)",
                "words": {"key": "waiting_packagings", "params": {}},
            },
            {"seq_produto": 8, "reason": "an older result's reason"},
        ],
        "unreadable": [
            {
                "record": "record:P9E1",
                "problem": "The ERP SKU record (ProdutoSku) P9E1 (product 9) ...",
                "words": {
                    "key": "unreadable_skus",
                    "params": {"sku": "P9E1", "product": "9", "field": "qtd"},
                },
            },
        ],
        "held": {
            "count": 60,
            "why": "that is 30% of the 200 packagings in the catalog: ...",
            "skus": [],
            "words": {"key": "held_too_many_packagings", "params": {"share": 30, "known": 200}},
        },
    }
    rq.set(f"catalog_diff:{shops.a}:{job_id}", json.dumps(result))

    def said(locale: str) -> dict:
        url = f"/api/setup/catalog-diff/{job_id}?locale={locale}"
        return client.get(url, headers=headers(Role.VIEWER)).get_json()["result"]

    pt, en = said("pt-BR"), said("en")
    assert [w["reason"] for w in pt["waiting"]] == [
        "aguardando as embalagens do produto (ProdutoSku)",
        "an older result's reason",
    ]
    assert pt["held"]["why"].startswith("isso é 30% das 200 embalagens do catálogo")
    assert en["held"]["why"].startswith("that is 30% of the 200 packagings in the catalog")
    assert pt["unreadable"][0]["problem"].startswith(
        "O registro do SKU P9E1 (produto 9) no ERP (ProdutoSku) não pôde ser lido: o campo 'qtd'"
    )
    assert json.loads(rq.get(f"catalog_diff:{shops.a}:{job_id}")) == result  # stored as the job wrote it


def test_an_orders_line_changes_are_said_in_the_requests_language_and_old_rows_as_written(
    client, settings, shops
):
    order = seed_order(settings, shops.a, "#1001", 880123)
    with session_scope(settings.database_url) as session:
        for key, reason, words in (
            ("event:1:item:1", "cut at picking: 1.0 of 3.0 served",
             [{"key": "line_cut", "params": {"served": "1", "ordered": "3"}}]),
            ("event:1:item:2", "an older row's reason", None),
            ("edit:9:A", "Shopify order edit 9", [{"key": "line_edit_sent", "params": {"edit": "9"}}]),
        ):  # fmt: skip
            session.add(OrderLineChange(order_link_id=order, change_key=key, direction="erp_to_shopify",
                                        kind="cut", sku="A", qty_before=Decimal(3), qty_after=Decimal(1),
                                        reason=reason, reason_words=words, applied=True))  # fmt: skip

    def reasons(locale: str) -> list[str]:
        detail = client.get(f"/api/orders/{order}?locale={locale}", headers=headers()).get_json()
        return [c["reason"] for c in detail["changes"]]

    assert reasons("pt-BR") == [
        "Corte na separação: 1 de 3 atendido(s)",
        "an older row's reason",
        "Edição do pedido na Shopify (9)",
    ]
    english = ["Cut at picking: 1 of 3 served", "an older row's reason", "Shopify order edit (9)"]
    assert reasons("en") == english


def test_an_order_lines_kilograms_and_money_are_written_as_the_pages_language_writes_them(
    client, settings, shops
):
    order = seed_order(settings, shops.a, "#1002", 880124)
    params = {"served": "1.5", "ordered": "2", "difference": "1234.5", "per_unit": "3.40", "units": 2,
              "description": "Ajuste de peso: 1,5 kg"}  # fmt: skip
    with session_scope(settings.database_url) as session:
        words = [{"key": "line_weight_discount", "params": params}]
        session.add(OrderLineChange(order_link_id=order, change_key="event:1:item:1",
                                    direction="erp_to_shopify",
                                    kind="weight", sku="A", qty_before=Decimal(2), qty_after=Decimal("1.5"),
                                    reason="weighed 1.5 kg", reason_words=words, applied=True))  # fmt: skip

    def reason(locale: str) -> str:
        detail = client.get(f"/api/orders/{order}?locale={locale}", headers=headers()).get_json()
        [change] = detail["changes"]
        return change["reason"]

    assert reason("pt-BR") == (
        "Pesado com 1,5 kg em vez de 2 kg: desconto de R$ 1.234,50 no item (R$ 3,40 por unidade x 2) "
        "'Ajuste de peso: 1,5 kg'"
    )
    assert reason("en") == (
        "Weighed 1.5 kg instead of 2 kg: line discount 1234.5 (3.40 per unit x 2) 'Ajuste de peso: 1,5 kg'"
    )


def test_every_run_job_a_shop_can_see_failed_is_named_in_both_languages():
    """The Flows page names a failed `jobs.<module>.run` (its first argument the shop's id) "<flow>
    run" by the catalogue's flow.<module>: the dry run's and the alert e-mails' read "Execução de
    catalog_diff" on the pt-BR page. Every such job the app enqueues (by name in its code, or as a
    schedule's flow) has the name."""
    import re

    from ledger.schedules import DEFAULT_SCHEDULES

    named = set()
    for folder in ("jobs", "shopify_app", "ledger"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"jobs\.([a-z_]+)\.run\b", path.read_text()))
    named |= set(DEFAULT_SCHEDULES)
    assert {"catalog_diff", "alerts", "stock"} <= named
    for locale in ("en", "pt-BR"):
        catalogue = json.loads((ROOT / "frontend" / "i18n" / f"{locale}.json").read_text())
        assert not [m for m in sorted(named) if f"flow.{m}" not in catalogue], locale

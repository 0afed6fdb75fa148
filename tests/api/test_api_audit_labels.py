"""The audit page labels each event's action through the i18n catalogue (`label("action.", a)`),
which falls back to the raw code: every action the app writes has a label in both languages.
The actions are read from the code itself (every call that writes an audit event), so a new one
cannot be left without its label."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

from shopify_app.frontend import I18N_DIR

from .conftest import headers

ROOT = Path(__file__).resolve().parents[2]
# The calls that write an audit event, and where their action is when given by position.
WRITERS = {"write_audit": 1, "_audit": 3, "record": 4, "AuditEvent": None}


def _writer(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):  # audit.record(...), not any other object's record()
        return func.attr in WRITERS and (func.attr != "record" or ast.unparse(func.value) == "audit")
    return isinstance(func, ast.Name) and func.id in WRITERS and func.id != "record"


def _values(node: ast.expr, module: dict) -> set[str]:
    if isinstance(node, ast.IfExp):
        return _values(node.body, module) | _values(node.orelse, module)
    try:
        value = eval(ast.unparse(node), dict(module))  # noqa: S307 (a constant of the app's own module)
    except NameError:
        value = None  # built at run time (an f-string): the catalogue cannot be checked against it
    assert isinstance(value, str), f"write the audit action {ast.unparse(node)} whole (a constant)"
    return {value}


def written_actions() -> dict[str, str]:
    """Action -> where the app writes it. A call passing on its own `action` parameter is a
    wrapper (api_common.write_audit, shops.write_audit, audit.record): its callers are read."""
    found: dict[str, str] = {}
    for package in ("jobs", "erp", "ledger", "shopify_app"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(ROOT))
            module: dict | None = None
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef):
                    continue
                params = {a.arg for a in function.args.args + function.args.kwonlyargs}
                for call in ast.walk(function):
                    if not isinstance(call, ast.Call) or not _writer(call):
                        continue
                    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
                    keywords = {k.arg: k.value for k in call.keywords}
                    index = WRITERS[name]
                    arg = keywords.get("action")
                    if arg is None and index is not None and len(call.args) > index:
                        arg = call.args[index]
                    assert arg is not None, f"{where}:{call.lineno}: no action found"
                    if isinstance(arg, ast.Name) and arg.id in params:
                        continue  # a wrapper
                    if module is None:  # its constants (privacy.DATA_EXPORTED) are read from it
                        module = vars(importlib.import_module(where.removesuffix(".py").replace("/", ".")))
                    for action in _values(arg, module):
                        found.setdefault(action, f"{where}:{call.lineno}")
    return found


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def test_every_audit_action_the_app_writes_has_a_label_in_both_languages() -> None:
    actions = written_actions()
    assert {
        "message.retry",
        "flow.run_now",
        "role.granted",
        "app.uninstalled",
        "customer.data_exported",
    } <= set(actions), actions
    for lang in ("pt-BR", "en"):
        labels = catalogue(lang)
        missing = sorted(f"{a} ({where})" for a, where in actions.items() if f"action.{a}" not in labels)
        assert missing == [], f"{lang}: audit actions shown as raw codes: {missing}"
        stale = sorted(
            k for k in labels if k.startswith("action.") and k.removeprefix("action.") not in actions
        )
        assert stale == [], f"{lang}: labels of actions nothing writes: {stale}"


def test_the_merchants_clicks_are_audited_with_actions_the_catalogue_labels(client, shops, message, rq):
    """What the audit page shows after the usual clicks: each action is one the code reading above
    found (so it misses none) and has its label."""
    from ledger.errors import Rejected

    failed = message(shops.a, "orders", "order-1", error=Rejected("no", system="consinco"))
    done = message(shops.a, "orders", "order-2", done=True)
    h = headers()
    assert client.post(f"/api/messages/{failed}/retry", headers=h).status_code == 202
    assert client.post(f"/api/messages/{done}/replay", headers=h).status_code == 202
    assert client.post("/api/messages/retry-failed?flow=orders", headers=h).status_code == 202
    assert client.post("/api/flows/stock/run", headers=h).status_code == 202
    assert client.put("/api/flows/stock/schedule", json={"cron": "*/5 * * * *"}, headers=h).status_code == 200
    for erp_code in ("3", "4"):  # created, then changed
        line = {"kind": "carrier", "shopify_code": "Sedex", "erp_code": erp_code}
        saved = client.put("/api/mappings", json=line, headers=h)
        assert saved.status_code == 200, saved.get_json()
    csv = {"kind": "carrier", "csv": "shopify_code,erp_code\nPAC,5\n"}
    imported = client.post("/api/mappings/import", json=csv, headers=h)
    assert imported.status_code == 200, imported.get_json()
    assert client.put("/api/setup/settings", json={"seq_canal_venda": 7}, headers=h).status_code == 200
    events = client.get("/api/audit?limit=200", headers=h).get_json()["events"]
    seen = {e["action"] for e in events}
    assert {
        "message.retry",
        "message.replay",
        "mapping.created",
        "mapping.changed",
        "settings.changed",
    } <= seen
    assert seen <= set(written_actions()), seen - set(written_actions())
    for lang in ("pt-BR", "en"):
        labels = catalogue(lang)
        assert sorted(a for a in seen if f"action.{a}" not in labels) == [], lang

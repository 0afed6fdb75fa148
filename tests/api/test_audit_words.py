"""Every field and target the code writes in an audit row has its words on the audit page
(frontend/static/app/pages/audit_words.js: a field by `audit.field.<key>`, else a setting's
`setup.settings.<key>`; a target by `audit.target.<target>`, or by its kind before ":"): one without
showed its raw code ("to: ", "alerts", "cancelled run") on the pt-BR page.

The rows are read from the source: each audit call's dict literals, the dicts its arguments were
assigned or updated with in the same function, and the dict a function it calls for them returns
(ledger.setup_moves.erp_moved: erp_generation, cursors_forgotten)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("shopify_app/*.py"), *ROOT.glob("jobs/*.py"), *ROOT.glob("ledger/*.py")])
# audit call -> where its target is among the positional arguments (also passed as target=)
AUDIT_CALLS = {"write_audit": 2, "_audit": 4, "record": 5}
TARGET_KINDS = {"mapping", "user", "flow", "schedule", "message", "job", "order", "customer"}  # targetCell


def _callee(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _is_audit(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or _callee(node) not in AUDIT_CALLS:
        return False
    base = getattr(node.func, "value", None)  # record: audit.record only (not run_outcome.record)
    return _callee(node) != "record" or getattr(base, "id", None) == "audit"


def _returns() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in SOURCES:
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
                        keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
                        out.setdefault(fn.name, set()).update(keys)
    return out


def _keys(node: ast.AST, returns: dict[str, set[str]]) -> set[str]:
    """The keys of the dicts `node` builds (nested ones too: the page names their fields alike)."""
    if isinstance(node, ast.Dict):
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        return keys.union(*(_keys(v, returns) for v in node.values))
    if isinstance(node, ast.Call) and not _is_audit(node) and _callee(node) in returns:
        return set(returns[str(_callee(node))])
    if isinstance(node, (ast.BoolOp, ast.IfExp, ast.List, ast.Tuple, ast.Call)):
        return set().union(*(_keys(child, returns) for child in ast.iter_child_nodes(node)))
    return set()


def _given(fn: ast.FunctionDef, names: set[str], returns: dict[str, set[str]]) -> set[str]:
    """The keys of what `names` were given in the function: assigned, `name["key"] = `, `.update`."""
    keys: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name) and target.id in names:
                    keys |= _keys(node.value, returns)
                keyed = isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                if keyed and getattr(target.value, "id", None) in names:
                    keys.add(target.slice.value)
        owner = getattr(getattr(node, "func", None), "value", None)
        if isinstance(node, ast.Call) and _callee(node) == "update" and getattr(owner, "id", None) in names:
            keys |= set().union(*(_keys(arg, returns) for arg in node.args))
    return keys


def _written() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """{field: where}, {target or "kind:": where} of every audit call."""
    returns, fields, targets = _returns(), {}, {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for call in filter(_is_audit, ast.walk(fn)):
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                given = {k.arg: k.value for k in call.keywords}
                args = [*call.args, *given.values()]
                keys = set().union(*(_keys(arg, returns) for arg in args))
                names = {arg.id for arg in args if isinstance(arg, ast.Name)}
                keys |= _given(fn, names, returns)
                for key in keys:
                    fields.setdefault(key, set()).add(where)
                position = AUDIT_CALLS[str(_callee(call))]
                target = given.get("target", call.args[position] if len(call.args) > position else None)
                if isinstance(target, ast.Constant) and isinstance(target.value, str):
                    targets.setdefault(target.value, set()).add(where)
                elif isinstance(target, ast.JoinedStr) and isinstance(target.values[0], ast.Constant):
                    targets.setdefault(str(target.values[0].value), set()).add(where)
    return fields, targets


def test_every_audit_field_and_target_the_code_writes_has_words_in_both_languages() -> None:
    from shopify_app.api_settings import SETTINGS

    fields, targets = _written()
    for key in SETTINGS:  # settings.changed: the keys changed, as PUT /api/setup/settings takes them
        fields.setdefault(key, set()).add("shopify_app/api_settings.py")
    assert {"to", "ok", "code", "cancelled_run", "erp_generation"} <= set(fields)  # the scan reads them
    assert "alerts" in targets and "schedule:" in targets
    for locale in ("en", "pt-BR"):
        words = json.loads((ROOT / "frontend" / "i18n" / f"{locale}.json").read_text(encoding="utf-8"))
        unnamed = {
            key: sorted(where)
            for key, where in fields.items()
            if f"audit.field.{key}" not in words and f"setup.settings.{key}" not in words
        }
        assert unnamed == {}, locale
        untold = {
            target: sorted(where)
            for target, where in targets.items()
            if (target.endswith(":") and target[:-1] not in TARGET_KINDS)
            or (not target.endswith(":") and f"audit.target.{target}" not in words)
        }
        assert untold == {}, locale


def test_every_coded_value_an_audit_row_holds_is_named_in_both_languages() -> None:
    """A message's status (Retry, Replay, Mark handled), a hand-linked ERP order's situation and
    Shopify's risk recommendation are codes: the page names them by VALUE_LABELS (audit_words.js),
    and showed "Situação: failed -> skipped" and "Situação no ERP: — -> L" raw on the pt-BR page."""
    from ledger.models import MessageStatus, ShopStatus

    script = (ROOT / "frontend/static/app/pages/audit_words.js").read_text(encoding="utf-8")
    labels = dict(re.findall(r'^\s+(\w+): "([\w.]+\.)",', script, re.MULTILINE))
    assert {"status", "erp_status", "recommendation"} <= set(labels), labels
    wanted = [labels["status"] + s.value for s in (*MessageStatus, *ShopStatus)]
    wanted += [labels["recommendation"] + r for r in ("ACCEPT", "CANCEL", "INVESTIGATE", "NONE")]
    wanted += [labels["erp_status"] + s for s in "ACDFLPRSW"]
    for locale in ("en", "pt-BR"):
        catalogue = json.loads((ROOT / f"frontend/i18n/{locale}.json").read_text(encoding="utf-8"))
        assert sorted(key for key in wanted if key not in catalogue) == [], locale

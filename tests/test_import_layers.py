"""The house's layering (../shared/design.md, "Rules of the road"): imports point down,
app.py -> jobs/ -> (shopify_app/admin_api, erp/) -> ledger, and the app never imports the sandbox.

Read from the source (every import statement, top-level or inside a function), so a lazy import
that would form a package circle at run time is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level packages it must never import
FORBIDDEN = {
    "ledger": {"jobs", "shopify_app", "erp", "sandbox", "app"},
    "erp": {"jobs", "shopify_app", "sandbox", "app"},
    "mail": {"jobs", "shopify_app", "erp", "sandbox", "app"},  # the mail server's client, beside erp/
    "shopify_app": {"jobs", "sandbox", "app"},
    "jobs": {"app", "sandbox"},
    "app.py": {"sandbox"},
    "sandbox": {"jobs", "shopify_app", "erp", "ledger", "mail", "app"},
}
# the demo (README's demo command) starts both sandboxes and the app in-process and drives them:
# its modules may reach across to the sandbox, and its stack up to app.py
DEMO_MAY_IMPORT = {
    "jobs/demo_stack.py": {"sandbox", "app"},
    "jobs/demo_catalog.py": {"sandbox"},
    "jobs/demo_orders.py": {"sandbox"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _crossings(package: str) -> list[str]:
    bad = []
    paths = [ROOT / package] if package.endswith(".py") else sorted((ROOT / package).rglob("*.py"))
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        for lineno, module in _imports(path):
            top = module.split(".")[0]
            if top not in FORBIDDEN[package]:
                continue
            if top in DEMO_MAY_IMPORT.get(rel, ()):
                continue
            bad.append(f"{rel}:{lineno} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package: str) -> None:
    assert _crossings(package) == []


def test_the_check_sees_a_crossing(tmp_path, monkeypatch) -> None:
    """The scan itself: a lazy import inside a function is found."""
    pkg = tmp_path / "ledger"
    pkg.mkdir()
    (pkg / "x.py").write_text("def f():\n    from jobs import orders\n    return orders\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert _crossings("ledger") == ["ledger/x.py:2 imports jobs"]


def test_the_check_sees_a_flow_or_the_app_reaching_the_sandbox(tmp_path, monkeypatch) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "orders.py").write_text("from sandbox.shopify import checkout\n", encoding="utf-8")
    (tmp_path / "jobs" / "demo_orders.py").write_text(
        "import sandbox.consinco\nimport app\n", encoding="utf-8"
    )
    (tmp_path / "app.py").write_text("def f():\n    import sandbox\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert _crossings("jobs") == [
        "jobs/demo_orders.py:2 imports app",
        "jobs/orders.py:1 imports sandbox.shopify",
    ]
    assert _crossings("app.py") == ["app.py:2 imports sandbox"]

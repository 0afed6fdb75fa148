"""Shopify is feminine in every pt-BR text ("a Shopify", "na Shopify", "da Shopify", "pela
Shopify", "à Shopify"), the form most of them already used: a page mixing "a Shopify cobra" and
"o Shopify cobra" reads badly. The catalogues (shopify_app/*_words.py and the explanations'
texts), the page's pt-BR.json and any other pt-BR text in the app's modules (the ERP's cancellation
motive) are scanned; the masculine form ("o/no/do/pelo/ao Shopify") fails the test."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

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
from shopify_app.frontend import I18N_DIR

ROOT = Path(__file__).resolve().parents[2]
MASCULINE = re.compile(r"\b(?:o|no|do|pelo|ao) Shopify\b", re.IGNORECASE)
# A text in pt-BR, told from an English one ("no Shopify line to adjust" is English): an accented
# letter or a word English does not use.
PORTUGUESE = re.compile(r"[ãõçáéíóúâêôà]|\b(?:não|pedido|de|em|para|com|que|foi)\b", re.IGNORECASE)
CATALOGUES = [catalog_hold_words, dry_run_words, fail_words, line_words, note_words, reconcile_words,
              run_words, skip_words, stock_words]  # fmt: skip


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string in the module (f-strings by their text parts), implicit concatenations whole."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def test_every_catalogues_pt_br_text_says_a_shopify():
    masculine = [
        f"{module.__name__}.{key}: {pt}"
        for module in CATALOGUES
        for key, (pt, _en) in module.WORDS.items()
        if MASCULINE.search(pt)
    ]
    assert masculine == []


def test_the_pages_pt_br_catalogue_says_a_shopify():
    catalogue = json.loads((I18N_DIR / "pt-BR.json").read_text(encoding="utf-8"))
    assert sorted(f"{key}: {text}" for key, text in catalogue.items() if MASCULINE.search(text)) == []


def test_every_pt_br_text_in_the_apps_modules_says_a_shopify():
    """The explanations (api_explain), the texts beside the catalogues and what jobs write in
    Portuguese (jobs.cancellations.to_erp's motive)."""
    masculine = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for folder in ("shopify_app", "jobs", "ledger")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in _strings(path)
        if any(m.group().lower() != "no shopify" or PORTUGUESE.search(text) for m in MASCULINE.finditer(text))
    ]
    assert masculine == []

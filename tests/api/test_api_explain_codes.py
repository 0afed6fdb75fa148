"""Every refusal code the app itself raises has its own explanation for the merchant: the generic
"fix the data, then Retry" is wrong for most of them (Retry cannot fix an invalid CPF typed at
checkout, or an invoice for a cancelled order)."""

from __future__ import annotations

import re
from pathlib import Path

from shopify_app.api_explain import KNOWN_CODES

ROOT = Path(__file__).resolve().parents[2]
RAISED = re.compile(r'\bcode="([A-Z][A-Z_]+)"')


def test_every_code_the_app_raises_is_explained_in_both_languages() -> None:
    raised = {
        code
        for package in ("jobs", "erp", "ledger", "shopify_app")
        for path in (ROOT / package).rglob("*.py")
        for code in RAISED.findall(path.read_text(encoding="utf-8"))
    }
    assert raised, "no code found: the pattern is out of date"
    missing = sorted(raised - set(KNOWN_CODES))
    assert missing == []
    for code in raised:
        (what_pt, what_en), (todo_pt, todo_en) = KNOWN_CODES[code]
        assert all(text.strip() for text in (what_pt, what_en, todo_pt, todo_en)), code

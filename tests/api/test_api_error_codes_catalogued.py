"""The page toasts a refusal by its code (api.js refusalText: `error.code.<code>`), not by the API's
English message: every code the API answers with has words in both catalogues."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from shopify_app.frontend import I18N_DIR

ROOT = Path(__file__).resolve().parents[2]
RAISERS = {"ApiError", "json_error", "InstallRefused"}
# Codes built at run time: api_upstream.call (f"{system}_...") for its two systems, api_messages'
# f"not_{action}able" for retry and replay, api._http_error (werkzeug's names) for the usual ones.
BUILT = {
    f"{system}_{what}"
    for system in ("consinco", "shopify")
    for what in ("unavailable", "error", "secret_unreadable")
} | {"erp_not_configured", "shopify_not_configured", "not_retryable", "not_replayable"}
HTTP = {"bad_request", "method_not_allowed", "unsupported_media_type", "request_entity_too_large"}


def raised_codes() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "shopify_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            code = node.args[1]
            if name in RAISERS and isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(code.value)
    return found


def test_every_error_code_the_api_answers_with_has_words_in_both_languages() -> None:
    codes = raised_codes()
    assert {"invalid", "last_owner", "not_found", "mapping_conflict"} <= codes  # the scan reads the code
    for language in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{language}.json").read_text(encoding="utf-8"))
        missing = sorted(c for c in codes | BUILT | HTTP if f"error.code.{c}" not in catalogue)
        assert missing == [], f"{language}: refusals toasted in the API's English: {missing}"


def refusal_keys() -> set[str]:
    """The words' keys of every hand-link refusal (ledger.order_link_by_hand.Refusal(text, (key, ...)))."""
    found: set[str] = set()
    source = ROOT / "ledger" / "order_link_by_hand.py"
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Refusal" and len(node.args) == 2:
            words = node.args[1]
            if isinstance(words, ast.Tuple) and isinstance(words.elts[0], ast.Constant):
                found.add(words.elts[0].value)
    return found


def test_every_hand_link_refusal_has_words_in_both_languages() -> None:
    """The Orders page says a refused link or unlink from its `words` (api.js knownRefusal:
    `error.reason.<key>`), not from the API's English message."""
    keys = refusal_keys()
    assert {"taken", "taken_other_store", "erp_order_cancelled", "nfe_written"} <= keys  # the scan reads them
    for language in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{language}.json").read_text(encoding="utf-8"))
        missing = sorted(k for k in keys if f"error.reason.{k}" not in catalogue)
        assert missing == [], f"{language}: hand-link refusals said in the API's English: {missing}"

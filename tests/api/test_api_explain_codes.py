"""Every refusal code the app itself raises has its own explanation for the merchant: the generic
"fix the data, then Retry" is wrong for most of them (Retry cannot fix an invalid CPF typed at
checkout, or an invoice for a cancelled order). So has every kind of missing mapping it parks on."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from ledger.flows import BY_NAME
from ledger.mappings import MappingKind
from ledger.models import ErrorClass, Message
from shopify_app.api_explain import CLASS_TEXT, KNOWN_CODES, explain
from shopify_app.api_mappings import KINDS as DE_PARA_KINDS

ROOT = Path(__file__).resolve().parents[2]
# code="X", and the fallback of code=exc.code or "X" (Shopify's own code when it gives one).
RAISED = re.compile(r'\bcode=(?:[\w.]+ or )?"([A-Z][A-Z_]+)"')


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


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


# A kind its caller chooses: ledger.mappings.erp_code(kind, ...) looks up a De:Para line.
CHOSEN_BY_CALLER = {("ledger/mappings.py", "kind"): {kind.value for kind in MappingKind}}


def _mapping_kinds_raised() -> dict[str, list[str]]:
    """Kind -> where it is raised: every MappingMissing(kind, ...) of the app, its kind evaluated
    in its module (a constant, an enum's value) or named in CHOSEN_BY_CALLER."""
    kinds: dict[str, list[str]] = {}
    for package in ("jobs", "erp", "ledger", "shopify_app"):
        for path in (ROOT / package).rglob("*.py"):
            where = str(path.relative_to(ROOT))
            calls = [
                node
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Call) and _call_name(node) == "MappingMissing" and node.args
            ]
            if not calls:
                continue
            module = vars(importlib.import_module(where.removesuffix(".py").replace("/", ".")))
            for call in calls:
                arg = call.args[0]
                chosen = CHOSEN_BY_CALLER.get((where, ast.unparse(arg)))
                values = chosen if chosen is not None else {str(eval(ast.unparse(arg), dict(module)))}  # noqa: S307
                for kind in values:
                    kinds.setdefault(kind, []).append(f"{where}:{call.lineno}")
    return kinds


def test_every_mapping_kind_the_app_parks_on_is_explained_in_both_languages() -> None:
    """A unit parked on a missing setting was explained as a SKU not published in Shopify: every
    kind has its own words, and a link to create a De:Para line only for a kind the page has."""
    kinds = _mapping_kinds_raised()
    assert {"setting", "variant", "payment_method", "location", "erp_connection"} <= set(kinds), kinds
    generic = {
        CLASS_TEXT[ErrorClass.MAPPING_MISSING.value][1][0],
        CLASS_TEXT[ErrorClass.MAPPING_MISSING.value][1][1],
    }
    problems = []
    for kind, raised_at in sorted(kinds.items()):
        detail = {"mapping": {"kind": kind, "code": "X1"}}
        message = Message(status="parked", error_class=ErrorClass.MAPPING_MISSING.value, error_detail=detail,
                          error_text=f"no {kind} mapping for 'X1'")  # fmt: skip
        for locale in ("pt-BR", "en"):
            shown = explain(message, locale)
            assert shown is not None
            said = f"{shown['what_happened']} {shown['what_to_do']}"
            if shown["what_happened"] in generic:
                problems.append(f"{kind} ({raised_at[0]}), {locale}: the generic text {said!r}")
            if kind != "variant" and "SKU" in said:
                problems.append(f"{kind} ({raised_at[0]}), {locale}: explained as a SKU: {said!r}")
            if shown["mapping"] is not None and shown["mapping"]["kind"] not in DE_PARA_KINDS:
                problems.append(
                    f"{kind} ({raised_at[0]}), {locale}: links to a De:Para kind that does not exist"
                )
    assert problems == []


def test_a_stock_company_waiting_for_its_location_names_the_not_sold_box() -> None:
    """In a chain most ERP companies are other stores: the stock refusal of a company with no
    location tells the merchant both ways out, map it or mark it not sold in this store (which
    closes the message for good), not only "create the mapping"."""
    detail = {"mapping": {"kind": "location", "code": "4"}}
    refusal = Message(flow="stock", status="parked", error_class=ErrorClass.MAPPING_MISSING.value,
                      error_detail=detail, error_text="ERP company 4 has no location")  # fmt: skip
    assert "Não vendida nesta loja" in explain(refusal, "pt-BR")["what_to_do"]
    assert "Not sold in this store" in explain(refusal, "en")["what_to_do"]
    assert explain(refusal, "en")["mapping"] == {
        "kind": "location",
        "code": "4",
        "side": "erp",
    }  # the link stays
    order = Message(flow="orders", status="parked", error_class=ErrorClass.MAPPING_MISSING.value,
                    error_detail=detail, error_text="no location")  # fmt: skip
    assert "Not sold" not in explain(order, "en")["what_to_do"]  # an order must ship from somewhere


def test_a_card_brand_or_network_waited_for_is_named_in_the_merchants_words() -> None:
    """The card kinds are named as the finance team says them, and link to their De:Para table."""
    said = {("card_brand", "pt-BR"): "Não há De:Para de bandeira do cartão para “Elo”.",
            ("card_brand", "en"): "There is no card brand mapping for “Elo”.",
            ("card_network", "pt-BR"): "Não há De:Para de rede adquirente para “Elo”.",
            ("card_network", "en"): "There is no card network (acquirer) mapping for “Elo”."}  # fmt: skip
    for (kind, locale), words in said.items():
        detail = {"mapping": {"kind": kind, "code": "Elo"}}
        parked = Message(flow="orders", status="parked", error_class=ErrorClass.MAPPING_MISSING.value,
                         error_detail=detail, error_text=f"no {kind} mapping")  # fmt: skip
        shown = explain(parked, locale)
        assert shown["what_happened"] == words
        assert shown["mapping"] == {"kind": kind, "code": "Elo", "side": "shopify"}


def test_codes_the_jobs_name_by_constant_and_flow_codes_are_explained_in_both_languages() -> None:
    """Codes a job sets through a constant (the scan above reads only literals), and the words a
    code has in one flow (FLOW_CODES), are as complete as the rest."""
    from jobs import catalog_unlisted, price_unpriced
    from jobs.cancellations import to_erp as cancellations_to_erp
    from shopify_app.api_explain import FLOW_CODES

    constants = {price_unpriced.CODE, price_unpriced.UNLISTED_CODE, price_unpriced.LIST_CODE,
                 cancellations_to_erp.INVOICED, catalog_unlisted.MOVED_CODE}  # fmt: skip
    assert sorted(constants - set(KNOWN_CODES)) == []
    for (flow, code), ((what_pt, what_en), (todo_pt, todo_en)) in FLOW_CODES.items():
        assert flow in BY_NAME, flow
        assert all(text.strip() for text in (what_pt, what_en, todo_pt, todo_en)), (flow, code)


def _refused(flow: str, system: str, code: str, text: str = "refused") -> Message:
    detail = {"system": system, "code": code}
    return Message(flow=flow, direction="erp_to_shopify", status="failed",
                   error_class=ErrorClass.REJECTED.value, error_detail=detail, error_text=text)  # fmt: skip


def test_shopify_access_and_bulk_failures_are_not_told_to_fix_the_data() -> None:
    """A revoked token, a missing scope or a bulk operation that failed without a reason: none is
    fixed by correcting the data the message names."""
    generic = {CLASS_TEXT[ErrorClass.REJECTED.value][2][0], CLASS_TEXT[ErrorClass.REJECTED.value][2][1]}
    for code, pt, en in (
        ("HTTP_401", "Reinstale o app", "Reinstall the app"),
        ("HTTP_403", "aprove as permissões", "approve the permissions"),
        ("ACCESS_DENIED", "aprove as permissões", "approve the permissions"),
        ("needs_reauth", "Abra o app", "Open the app"),
        ("FAILED", "Tentar de novo", "Retry"),
    ):
        for locale, words in (("pt-BR", pt), ("en", en)):
            shown = explain(_refused("products", "shopify", code), locale)
            assert shown["what_to_do"] not in generic and words in shown["what_to_do"], (code, locale, shown)


def test_an_order_deleted_in_shopify_is_not_to_be_restored() -> None:
    """Shopify cannot restore a deleted order: the words for NOT_FOUND never ask for it, and on an
    order's flow they say so."""
    for flow in ("products", "invoices", "cancellations", "order_edits"):
        for locale in ("pt-BR", "en"):
            said = explain(_refused(flow, "shopify", "NOT_FOUND"), locale)["what_to_do"]
            assert "restored there" not in said and "restaurado lá" not in said, (flow, said)
    said = explain(_refused("invoices", "shopify", "NOT_FOUND"), "en")
    assert "does not restore deleted orders" in said["what_to_do"] and "order" in said["what_happened"]


def test_the_bulk_retry_button_says_what_it_leaves_out() -> None:
    """POST /api/messages/retry-failed replays failed messages only, and not those only their own
    Retry redoes (trace.RETRY_ALONE): "every failure" promised more."""
    import json

    for language, skipped in (("en", "parked"), ("pt-BR", "paradas")):
        labels = json.loads((ROOT / "frontend" / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
        assert (
            "every" not in labels["messages.retry_failed_of"]
            and "todas" not in labels["messages.retry_failed_of"]
        )
        assert skipped in labels["messages.retry_failed_hint"]


def test_an_order_waiting_for_several_payment_mappings_names_them_all() -> None:
    """jobs.order_map.map_payments parks on the first unmapped gateway and names every one in
    detail "gateways": the explanation (which hides the job's own words when it links to a
    mapping) must name them all too, not only the one the link creates."""
    detail = {
        "mapping": {"kind": "payment_method", "code": "gift_card"},
        "gateways": ["gift_card", "shopify_payments"],
    }
    parked = {"flow": "orders", "status": "parked", "error_class": ErrorClass.MAPPING_MISSING.value}
    message = Message(**parked, error_detail=detail, error_text="gateways 'gift_card', 'shopify_payments'")
    for locale in ("pt-BR", "en"):
        shown = explain(message, locale)
        assert "“gift_card”" in shown["what_happened"] and "“shopify_payments”" in shown["what_happened"], (
            shown
        )
        assert shown["mapping"] == {"kind": "payment_method", "code": "gift_card", "side": "shopify"}
    one = Message(
        **parked, error_detail={**detail, "gateways": ["gift_card"]}, error_text="gateway 'gift_card'"
    )
    assert explain(one, "en")["what_happened"] == "There is no payment method mapping for “gift_card”."

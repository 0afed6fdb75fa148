"""Why a message was skipped, in the merchant's language: the words a job stored with its skip
(ledger.trace.skip `words`) said in pt-BR or en (shopify_app.skip_words) in the Messages list, a
message's detail and an order's messages; an older row without words reads as its error_text."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ledger import handled, trace
from ledger.db import session_scope
from ledger.models import Message, Role
from shopify_app import (
    dry_run_words,
    fail_words,
    line_words,
    note_words,
    reconcile_words,
    run_words,
    stock_words,
)
from shopify_app.frontend import I18N_DIR
from shopify_app.skip_words import WORDS

from .conftest import headers
from .test_api_orders_admin import seed_order

ROOT = Path(__file__).resolve().parents[2]


def _skipped(settings, shop_id: int, unit: str, reason: str, words=None, **ids) -> int:
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shop_id, "order_edits", unit, "shopify_to_erp", **ids)
        trace.skip(session, message, reason, words=words)
        return message.id


def _reasons(client, locale: str) -> dict[int, str | None]:
    response = client.get(f"/api/messages?status=skipped&locale={locale}", headers=headers(Role.VIEWER))
    assert response.status_code == 200, response.get_json()
    return {m["id"]: m["reason"] for m in response.get_json()["messages"]}


def test_a_skip_reason_is_said_in_the_requests_language(client, settings, shops):
    cancelled = _skipped(
        settings,
        shops.a,
        "edit:1",
        "ERP order 6 is already cancelled",
        ("erp_order_already_cancelled", {"nro": 6}),
    )
    picked = _skipped(
        settings,
        shops.a,
        "edit:2",
        "Shopify already matches ERP order 3 as picked: nothing to change",
        ("edit_matches_picked", {"nro": 3}),
    )
    nothing = _skipped(
        settings, shops.a, "edit:3", "picking changed nothing on this order", ("picking_nothing_changed", {})
    )
    before = _skipped(
        settings,
        shops.a,
        "edit:4",
        "cancelled in Shopify before it reached the ERP",
        ("cancelled_before_erp", {}),
    )
    pt = _reasons(client, "pt-BR")
    assert pt[cancelled] == "O pedido 6 do ERP já está cancelado"
    assert pt[picked] == "A Shopify já confere com o pedido 3 do ERP como separado: nada a mudar"
    assert pt[nothing] == "A separação não mudou nada neste pedido"
    assert pt[before] == "Cancelado na Shopify antes de chegar ao ERP"
    en = _reasons(client, "en")
    assert en[cancelled] == "ERP order 6 is already cancelled"
    assert en[picked] == "Shopify already matches ERP order 3 as picked: nothing to change"
    assert en[nothing] == "Picking changed nothing on this order"
    # the detail says it too, and error_text stays the English reason (logs, search)
    detail = client.get(f"/api/messages/{cancelled}?locale=pt-BR", headers=headers()).get_json()
    assert detail["reason"] == "O pedido 6 do ERP já está cancelado"
    assert detail["error_text"] == "ERP order 6 is already cancelled"
    assert detail["error_detail"]["skip"] == {"key": "erp_order_already_cancelled", "params": {"nro": 6}}


def test_an_orders_messages_say_their_skip_reason_in_its_language(client, settings, shops):
    order = seed_order(settings, shops.a, "#1001", 880123)
    _skipped(
        settings,
        shops.a,
        "address:1001",
        "ERP order 880123 already names this delivery: nothing to send",
        ("address_already_in_erp", {"nro": 880123}),
        shopify_id="gid://shopify/Order/1001",
    )
    for locale, said in (
        ("pt-BR", "O pedido 880123 do ERP já indica esta entrega: nada a enviar"),
        ("en", "ERP order 880123 already names this delivery: nothing to send"),
    ):
        detail = client.get(f"/api/orders/{order}?locale={locale}", headers=headers()).get_json()
        assert [m["reason"] for m in detail["messages"]] == [said]


def test_a_skip_without_words_reads_as_its_error_text(client, settings, shops, message):
    old = _skipped(settings, shops.a, "edit:9", "an older row's reason, as stored")
    unknown = _skipped(settings, shops.a, "edit:10", "a key since retired", ("no_such_key", {}))
    failed = message(shops.a, "orders", "order-7", error=RuntimeError("boom"))
    for locale in ("pt-BR", "en"):
        assert _reasons(client, locale)[old] == "an older row's reason, as stored"
        assert _reasons(client, locale)[unknown] == "a key since retired"
    assert client.get(f"/api/messages/{failed}", headers=headers()).get_json()["reason"] is None


def test_a_skip_closed_as_handled_reads_as_its_handled_text(client, settings, shops):
    """Marked handled afterwards (its words kept in the detail), the reason is the person's, not the job's."""
    skipped = _skipped(
        settings,
        shops.a,
        "edit:11",
        "ERP order 6 is already cancelled",
        ("erp_order_already_cancelled", {"nro": 6}),
    )
    with session_scope(settings.database_url) as session:
        message = session.get(Message, skipped)
        handled.mark(session, message, by="staff-1", note="typed in the ERP by hand")
    assert _reasons(client, "pt-BR")[skipped] == "resolvida fora do app: typed in the ERP by hand"
    assert _reasons(client, "en")[skipped] == "handled outside the app: typed in the ERP by hand"


def test_a_skip_keeps_what_the_flow_put_in_the_detail(settings, shops):
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shops.a, "orders", "order-8", "shopify_to_erp")
        message.error_detail = {"not_for_erp": True}
        trace.skip(
            session,
            message,
            "cancelled in Shopify before it reached the ERP",
            words=("cancelled_before_erp", {}),
        )
        assert message.error_detail == {
            "not_for_erp": True,
            "skip": {"key": "cancelled_before_erp", "params": {}},
        }


def _used_keys() -> dict[str, list[str]]:
    """The keys of the words the jobs give their skips: ("key", {params}) tuples (a conditional key
    counts both), and any tuple given as `words=`, in jobs/, ledger/ and erp/."""
    found: dict[str, list[str]] = {}
    for path in sorted(
        path for folder in ("jobs", "ledger", "erp") for path in (ROOT / folder).rglob("*.py")
    ):
        tree = ast.parse(path.read_text())
        nodes = list(ast.walk(tree))
        tuples = [
            n
            for n in nodes
            if isinstance(n, ast.Tuple) and len(n.elts) == 2 and isinstance(n.elts[1], ast.Dict)
        ]
        tuples += [
            k.value
            for n in nodes
            if isinstance(n, ast.Call)
            for k in n.keywords
            if k.arg == "words" and isinstance(k.value, ast.Tuple) and len(k.value.elts) == 2
        ]
        for node in tuples:
            first = node.elts[0]
            options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for option in options:
                if isinstance(option, ast.Constant) and isinstance(option.value, str):
                    found.setdefault(option.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_skip_key_the_jobs_use_is_in_the_catalogue_and_none_is_unused():
    used = _used_keys()
    assert len(used) >= 25
    # the same (key, params) shape gives the other texts' words (their own catalogues)
    others = {
        *run_words.WORDS,
        *dry_run_words.WORDS,
        *line_words.WORDS,
        *note_words.WORDS,
        *reconcile_words.WORDS,
        *stock_words.WORDS,
        *fail_words.WORDS,
    }
    # a hand link's refusal (ledger.order_link_by_hand.Refusal): said by the page (error.reason.<key>)
    page = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    others |= {key.removeprefix("error.reason.") for key in page if key.startswith("error.reason.")}
    assert {k: v for k, v in used.items() if k not in WORDS and k not in others} == {}
    assert sorted(set(WORDS) - set(used)) == []


def test_every_skip_text_has_the_same_placeholders_in_both_languages():
    from string import Formatter

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert {k: t for k, t in WORDS.items() if fields(t[0]) != fields(t[1])} == {}


def test_an_order_waiting_for_its_payment_says_so_in_the_requests_language(client, settings, shops):
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shops.a, "orders", "order:77", "shopify_to_erp")
        message.error_text = "Waiting for payment: Shopify says PENDING; orders go to the ERP once paid"
        message.error_detail = {"waiting": "payment", "financial_status": "PENDING", "unpaid": "1234.50",
                                "total": "2000.00", "readable_until": "2026-12-05 14:30"}  # fmt: skip
        waiting = message.id

    def reason(locale: str) -> str | None:
        response = client.get(f"/api/messages/{waiting}?locale={locale}", headers=headers(Role.VIEWER))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["reason"]

    # Shopify's financial status in words (fail_words' financial_*), not its code; money and the time
    # as the team writes them (R$ 1.234,50; 05/12/2026 at the chain's time: it said "1234.50" and
    # "2026-12-05 14:30 UTC" on the pt-BR page)
    assert reason("pt-BR") == (
        "aguardando pagamento: a Shopify diz pendente; faltam R$ 1.234,50 do total R$ 2.000,00; o app não "
        "poderá mais ler este pedido depois de 05/12/2026 11:30 (60 dias, sem o acesso read_all_orders): se "
        "não for pago até lá, lance-o no ERP à mão"
    )
    assert reason("en").startswith(
        "waiting for payment: Shopify says pending; 1234.50 of its total 2000.00 not paid; the app can no "
        "longer read this order after 2026-12-05 14:30 UTC (60 days"
    )
    with session_scope(settings.database_url) as session:  # a status Shopify added since: its code
        session.get(Message, waiting).error_detail = {"waiting": "payment", "financial_status": "ON_HOLD_NEW"}
    assert reason("pt-BR") == "aguardando pagamento: a Shopify diz ON_HOLD_NEW"


def test_an_order_that_will_not_be_paid_says_its_status_in_words(client, settings, shops):
    """jobs.orders skips an order Shopify says EXPIRED/VOIDED/REFUNDED ('order_will_not_be_paid',
    {'status': <code>}): the status is said in words (fail_words.financial_status), as the waiting
    twin says it, not as Shopify's English code; a status Shopify added since stays its code."""

    def skipped(unit: str, status: str) -> int:
        text = f"Shopify says {status}: this order will not be paid as it stands"
        return _skipped(settings, shops.a, unit, text, ("order_will_not_be_paid", {"status": status}))

    expired, voided = skipped("order:3001", "EXPIRED"), skipped("order:3002", "VOIDED")
    unknown = skipped("order:3003", "LAPSED_NEW")
    pt, en = _reasons(client, "pt-BR"), _reasons(client, "en")
    assert "EXPIRED" not in pt[expired] and "expirado" in pt[expired], pt[expired]
    assert "VOIDED" not in pt[voided] and "anulado" in pt[voided], pt[voided]
    assert "EXPIRED" not in en[expired] and "expired" in en[expired], en[expired]
    assert "LAPSED_NEW" in pt[unknown], pt[unknown]
    detail = client.get(f"/api/messages/{expired}?locale=pt-BR", headers=headers(Role.VIEWER)).get_json()
    assert detail["reason"] == pt[expired]


def test_an_order_awaiting_the_fraud_app_says_until_when_at_the_chains_time(client, settings, shops):
    """It said "(até 2026-12-04T12:05:00+00:00)" on the pt-BR page, in its reason and explanation."""
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shops.a, "orders", "order:78", "shopify_to_erp")
        message.error_text = "held for the fraud app"
        awaiting = {"minutes": 5, "until": "2026-12-04T12:05:00+00:00"}
        message.error_detail = {
            "waiting": "risk",
            "recommendation": "ACCEPT",
            "pending": True,
            "assessments": [],
            "awaiting_app": awaiting,
        }
        held = message.id
    got = client.get(f"/api/messages/{held}?locale=pt-BR", headers=headers(Role.VIEWER)).get_json()
    assert "(até 04/12/2026 09:05)" in got["reason"], got["reason"]
    assert "(até 04/12/2026 09:05)" in got["explanation"]["what_happened"]
    got = client.get(f"/api/messages/{held}?locale=en", headers=headers(Role.VIEWER)).get_json()
    assert "(until 2026-12-04 12:05 UTC)" in got["reason"], got["reason"]

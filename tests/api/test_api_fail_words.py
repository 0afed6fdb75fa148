"""Why a message failed, is parked or is retrying, in the merchant's language: the words a classified
failure carries (ledger.errors.IntegrationError.words), kept by ledger.trace.fail, said in pt-BR or en
(shopify_app.fail_words) in the Messages list and detail (`failure_reason`, the explanation's own
words) and an order's "needs attention" notes; a row without words (older, a bug's, the ERP's own
refusal) or with a key no catalogue has reads as its English error_text."""

from __future__ import annotations

import json

from ledger.errors import MappingMissing, Rejected, Transient
from ledger.models import Role
from shopify_app import fail_words

from .conftest import headers
from .test_api_orders_admin import seed_order

NO_LINES = Rejected(
    "order #1001 has no line left to send",
    system="app",
    code="NO_LINES",
    words=("order_no_lines", {"order": "#1001"}),
)
TAX_ID = Rejected(
    "CPF/CNPJ '123.456.789-00' is invalid: CPF check digits (modulo 11) do not match",
    system="app",
    code="INVALID_TAX_ID",
    words=("tax_id_invalid", {"value": "123.456.789-00", "rule": ("cpf_check_digits", {})}),
)


def _payment() -> MappingMissing:
    return MappingMissing(
        "payment_method",
        "Pix",
        "order #1002: payment gateway 'Pix' has no ERP payment form; map it under De:Para > payment methods "
        "and the order resumes by itself",
        words=("payment_unmapped_one", {"order": "#1002", "gateway": "Pix"}),
    )


def _erp_down() -> Transient:
    return Transient("Consinco unreachable at /pedido (timeout)").worded(
        "erp_unreachable", endpoint="/pedido", error="timeout"
    )


def _failures(client, locale: str, status: str) -> dict[int, str | None]:
    response = client.get(f"/api/messages?status={status}&locale={locale}", headers=headers(Role.VIEWER))
    assert response.status_code == 200, response.get_json()
    return {m["id"]: m["failure_reason"] for m in response.get_json()["messages"]}


def test_a_failures_words_are_said_in_the_requests_language(client, shops, message):
    refused = message(shops.a, "orders", "order-1001", error=NO_LINES)
    document = message(shops.a, "orders", "order-1003", error=TAX_ID)
    parked = message(shops.a, "orders", "order-1002", error=_payment())
    retrying = message(shops.a, "orders", "order-1004", error=_erp_down())

    pt, en = _failures(client, "pt-BR", "failed"), _failures(client, "en", "failed")  # a viewer: PII masked
    assert pt[refused] == "o pedido #1001 não tem mais nenhum item a enviar"
    assert en[refused] == "order #1001 has no line left to send"
    assert (
        pt[document]
        == "CPF/CNPJ '***.***.*89-00' inválido: os dígitos verificadores do CPF (módulo 11) não conferem"
    )
    assert en[document] == "CPF/CNPJ '***.***.*89-00' is invalid: CPF check digits (modulo 11) do not match"
    assert _failures(client, "pt-BR", "parked")[parked] == (
        "pedido #1002: o gateway de pagamento 'Pix' não tem forma de pagamento do ERP; mapeie-o em De:Para > "
        "formas de pagamento e o pedido segue sozinho"
    )
    assert _failures(client, "pt-BR", "retrying")[retrying].startswith(
        "O ERP (Consinco) não respondeu em /pedido"
    )

    # the detail says it too, in its explanation's own words; error_text stays the English message
    detail = client.get(f"/api/messages/{refused}?locale=pt-BR", headers=headers()).get_json()
    assert detail["failure_reason"] == "o pedido #1001 não tem mais nenhum item a enviar"
    assert detail["explanation"]["system_message"] == "o pedido #1001 não tem mais nenhum item a enviar"
    assert detail["error_text"] == "order #1001 has no line left to send"
    assert detail["error_detail"]["fail"] == {"key": "order_no_lines", "params": {"order": "#1001"}}
    english = client.get(f"/api/messages/{refused}?locale=en", headers=headers()).get_json()
    assert english["explanation"]["system_message"] == "order #1001 has no line left to send"


def test_a_failure_without_words_reads_as_its_english_error_text(client, shops, message):
    old = message(shops.a, "orders", "order-7", error=Rejected("CPF inválido", system="consinco", code="E12"))
    bug = message(shops.a, "orders", "order-8", error=RuntimeError("boom"))
    retired = message(
        shops.a,
        "orders",
        "order-9",
        error=Rejected("a key since retired", system="app", words=("no_such_key", {})),
    )
    done = message(shops.a, "orders", "order-10", done=True)
    for locale in ("pt-BR", "en"):
        said = _failures(client, locale, "failed")
        assert said[old] == "CPF inválido"  # the ERP's own words, as it said them
        assert said[bug] == "RuntimeError: boom"
        assert said[retired] == "a key since retired"
        detail = client.get(f"/api/messages/{old}?locale={locale}", headers=headers()).get_json()
        assert detail["explanation"]["system_message"] == "CPF inválido"
    assert client.get(f"/api/messages/{done}", headers=headers()).get_json()["failure_reason"] is None


def test_an_orders_needs_attention_says_its_held_messages_in_the_requests_language(
    client, settings, shops, message
):
    order = seed_order(settings, shops.a, "#1001", None)
    message(shops.a, "orders", "order-1001", error=NO_LINES, shopify_id="gid://shopify/Order/1001")
    old = seed_order(settings, shops.a, "#1005", None)
    message(shops.a, "orders", "order-1005", error=Rejected("CPF inválido", system="consinco"),
            shopify_id="gid://shopify/Order/1005")  # fmt: skip

    def notes(link: int, locale: str) -> tuple[list[str], str]:
        detail = client.get(f"/api/orders/{link}?locale={locale}", headers=headers()).get_json()
        return [n["text"] for n in detail["attention_notes"]], detail["needs_attention"]

    pt, stored = notes(order, "pt-BR")
    assert pt == ["o pedido #1001 não tem mais nenhum item a enviar"]
    assert stored == "orders: order #1001 has no line left to send"  # as stored: English
    assert notes(order, "en")[0] == ["order #1001 has no line left to send"]
    assert notes(old, "pt-BR")[0] == ["CPF inválido"]
    listed = client.get("/api/orders?status=needs_attention&locale=pt-BR", headers=headers()).get_json()
    said = {o["id"]: [n["text"] for n in o["attention_notes"]] for o in listed["orders"]}
    assert said[order] == ["o pedido #1001 não tem mais nenhum item a enviar"]


def test_every_failure_key_is_said_in_both_languages_with_the_same_placeholders():
    from string import Formatter

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert fail_words.WORDS
    assert {k: t for k, t in fail_words.WORDS.items() if fields(t[0]) != fields(t[1]) or t[0] == t[1]} == {}


def test_an_order_shipping_from_several_companies_is_said_in_the_requests_language(client, shops, message):
    """MULTI_COMPANY's failure reason (the Messages page) is its words: the companies, locations and
    lines in pt-BR; in en as the message the flow wrote."""
    from .test_api_app_checks_explained import _several_companies

    refused = _several_companies()
    failed = message(shops.a, "orders", "order-1008", error=refused)
    assert _failures(client, "pt-BR", "failed")[failed] == (
        "o pedido #1008 sai de 2 empresas do ERP: empresa 1 (local Loja Centro): P39E1 (PAPEL) x1; empresa 3 "
        "(local CD): P16E1 (PRESUNTO) x1"
    )
    assert _failures(client, "en", "failed")[failed] == refused.message


def test_a_b2b_order_without_a_cnpj_is_said_in_the_requests_language(client, shops, message):
    from jobs.order_customer import CompanyTaxIdMissing
    from shopify_app.admin_api.order_results import CompanyBuyer

    location = "gid://shopify/CompanyLocation/2"
    buyer = CompanyBuyer("gid://shopify/Company/1", "Atacado", location, "Loja Centro", None)
    words = (("company_location_no_tax_id", {}), ("checkout_no_cnpj", {}))
    rule = (
        "the location has no tax registration ID (its CNPJ) in Shopify, and the checkout gave no CNPJ either"
    )
    refused = CompanyTaxIdMissing(buyer, rule, None, words)
    failed = message(shops.a, "orders", "order-1009", error=refused)
    pt = _failures(client, "pt-BR", "failed")[failed]
    assert pt is not None and pt.startswith(
        "pedido B2B da empresa 'Atacado', local 'Loja Centro': o local não tem ID de registro fiscal (seu "
        "CNPJ) na Shopify, e o checkout também não trouxe CNPJ. O cliente no ERP de um pedido B2B é a empresa"
    ), pt
    assert _failures(client, "en", "failed")[failed] == refused.message


def test_an_order_busy_with_another_worker_is_said_in_the_requests_language(
    client, shops, message, monkeypatch
):
    """The order's lock held by another job (jobs.orders.order_lock): the retrying message's reason
    on the Messages page is its words, not the English "is being handled by another worker"."""
    import pytest

    from jobs import orders
    from jobs.locks import record_lock

    monkeypatch.setattr(orders, "ORDER_LOCK_WAIT", 0.1)
    lock = orders.order_lock(shops.a, "gid://shopify/Order/4242")
    with record_lock(f"shop:{shops.a}:order:4242"), pytest.raises(Transient) as busy, lock:
        raise AssertionError("the lock was free")
    retrying = message(shops.a, "orders", "order:4242", error=busy.value)
    assert _failures(client, "pt-BR", "retrying")[retrying] == (
        "O pedido 4242 está sendo tratado por outro worker: esta mensagem é tentada de novo mais tarde"
    )
    assert _failures(client, "en", "retrying")[retrying] == (
        "Order 4242 is being handled by another worker: this message is tried again later"
    )


def test_a_mistyped_cpf_of_the_wrong_length_is_masked_for_a_viewer_everywhere(client, shops, message):
    """A digit left out is not CPF/CNPJ-shaped, yet the buyer's: a viewer sees it masked in the error
    text, the failure said in their language and the detail (its value and its words' param)."""
    from jobs.order_customer import InvalidTaxId, validate_tax_id

    typed = "529.982.247-2"
    try:
        validate_tax_id(typed)
    except InvalidTaxId as refused:
        error = refused
    shown = message(shops.a, "orders", "order-1005", error=error)

    assert typed not in str(_failures(client, "pt-BR", "failed")[shown])
    detail = client.get(f"/api/messages/{shown}?locale=en", headers=headers(Role.VIEWER)).get_json()
    found = json.dumps(detail)
    assert typed not in found, found[max(0, found.index(typed) - 300) : found.index(typed) + 40]
    assert "a CPF has 11 digits and a CNPJ 14 characters" in detail["error_text"]
    revealed = client.get(f"/api/messages/{shown}?locale=en", headers=headers()).get_json()
    assert typed in revealed["error_text"]  # an admin reads it as typed

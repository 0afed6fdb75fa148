"""An order's import parked or refused by the app's own checks carries its failure's words
(ledger.errors.IntegrationError.words): the unit keeps them (ledger.trace.fail) and the pages say
them in pt-BR or en (shopify_app.fail_words); said in English they read as the message the flow
wrote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import order_map
from jobs.order_map import InvalidTaxId, validate_tax_id
from ledger import mappings
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import MessageStatus
from ledger.words import stored
from shopify_app import fail_words
from shopify_app.admin_api.order_import_ops import parse_erp_order

from .test_order_map import TARGET, raw_order, variants_for


def _said(exc, locale: str) -> str | None:
    return fail_words.said(stored(exc.words), locale)


@pytest.mark.parametrize(
    ("value", "pt"),
    [
        ("529.982.247-24", "CPF/CNPJ '529.982.247-24' inválido: os dígitos verificadores do CPF (módulo 11)"),
        ("111.111.111-11", "CPF/CNPJ '111.111.111-11' inválido: um CPF feito de um só dígito repetido"),
        ("12ABC34501DE36", "CPF/CNPJ '12ABC34501DE36' inválido: os dígitos verificadores do CNPJ"),
        ("1234", "CPF/CNPJ '1234' inválido: um CPF tem 11 dígitos e um CNPJ 14 caracteres; este tem 4"),
        (None, "CPF/CNPJ (vazio) inválido: o pedido não traz CPF/CNPJ"),
    ],
)
def test_an_invalid_tax_id_is_said_in_the_merchants_language(value, pt):
    with pytest.raises(InvalidTaxId) as caught:
        validate_tax_id(value)
    assert _said(caught.value, "pt-BR").startswith(pt)
    assert _said(caught.value, "en") == caught.value.message


def test_lines_the_erp_cannot_sell_are_said_in_the_merchants_language() -> None:
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0)), (Decimal("0.50"), 1, 1, Decimal(0))])
    raw["lineItems"]["nodes"][1].update({"sku": "SACOLA-01", "name": "Sacola retornável"})
    with pytest.raises(MappingMissing) as made:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert made.value.words[0] == "order_lines_held"
    assert _said(made.value, "en") == made.value.message
    assert _said(made.value, "pt-BR").startswith(
        f"pedido {raw['name']}: 'Sacola retornável' (SKU SACOLA-01) foi criado(s) na Shopify"
    )
    raw["lineItems"]["nodes"][1].update({"sku": "P77E1", "name": "Feijão 1kg"})
    with pytest.raises(MappingMissing) as unbound:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert _said(unbound.value, "en") == unbound.value.message
    assert "nenhum SKU do ERP vinculado a P77E1 (Feijão 1kg) ainda" in _said(unbound.value, "pt-BR")


def test_a_payment_gateway_not_mapped_is_said_in_the_merchants_language() -> None:
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {})
    assert parked.value.kind == "payment_method"
    assert _said(parked.value, "en") == parked.value.message
    assert "não tem forma de pagamento do ERP; mapeie-o em De:Para > formas de pagamento" in _said(
        parked.value, "pt-BR"
    )


def test_a_parked_orders_unit_keeps_its_words(world):
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place(gateway="pix")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    assert message.error_detail["fail"]["key"] == "payment_unmapped_one"
    assert fail_words.reason(message, "en") == message.error_text  # the English as the flow wrote it
    assert fail_words.reason(message, "pt-BR").startswith("pedido #")


def test_a_line_made_in_shopify_without_a_sku_reads_in_en_as_the_stored_english():
    """A line made in Shopify with no SKU: the words said in en are the English error_text
    ("(SKU none)"), and pt-BR says it has none ("sem SKU")."""
    from jobs.order_map import _missing_text, _missing_words
    from ledger.words import stored
    from shopify_app import fail_words
    from shopify_app.words import said

    class Line:
        sku, variant_id, name = None, "gid://shopify/ProductVariant/1", "Sacola"

    class Order:
        name, tips = "#1001", None

    english = _missing_text([Line()])
    words = stored(("order_lines_held", {"order": "#1001", "why": _missing_words(Order(), [Line()])}))
    assert said(fail_words.FAILURES, words, "en") == f"order #1001: {english}"
    assert "'Sacola' (sem SKU)" in said(fail_words.FAILURES, words, "pt-BR")


@pytest.mark.parametrize(
    ("status", "pt", "en"),
    [
        ("PAID", "a Shopify o mostra como pago, mas", "Shopify shows it paid but"),
        ("AUTHORIZED", "a Shopify o mostra como autorizado, mas", "Shopify shows it authorized but"),
        ("PARTIALLY_PAID", "como parcialmente pago, mas", "Shopify shows it partially paid but"),
        ("PENDING", "a Shopify o mostra como pendente, mas", "Shopify shows it pending but"),
        ("SOME_NEW_STATUS", "a Shopify o mostra como SOME_NEW_STATUS, mas", "shows it SOME_NEW_STATUS but"),
    ],
)
def test_an_order_with_no_payment_recorded_says_shopifys_status_in_the_merchants_language(status, pt, en):
    """Shopify's financial status is said in words (pt-BR "pago", en "paid"), not as its raw code
    (PAID); a status the app does not know keeps its code."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))])
    raw["transactions"], raw["paymentGatewayNames"], raw["displayFinancialStatus"] = [], [], status
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert parked.value.words[0] == "payment_unmapped_none"
    said_pt, said_en = _said(parked.value, "pt-BR"), _said(parked.value, "en")
    assert pt in said_pt and en in said_en and en in parked.value.message
    assert said_en == parked.value.message
    if status != "SOME_NEW_STATUS":
        assert status not in said_pt and status not in said_en


@pytest.mark.parametrize(
    ("registered", "typed", "pt"),
    [
        (None, None, "o local não tem ID de registro fiscal (seu CNPJ) na Shopify, e o checkout também não"),
        ("  ", "529.982.247-25", "e o documento digitado no checkout '529.982.247-25' é um CPF (do contato"),
        (
            "11.222.333/0001-80",
            None,
            "'11.222.333/0001-80' não é um CNPJ válido (os dígitos verificadores do",
        ),
        ("529.982.247-25", None, "o ID de registro fiscal do local '529.982.247-25' é um CPF, não um CNPJ"),
        (None, "11.222.333/0001-80", "no checkout '11.222.333/0001-80' é inválido (os dígitos verificadores"),
    ],
)
def test_a_b2b_order_without_a_valid_cnpj_is_said_in_the_merchants_language(registered, typed, pt):
    """CompanyTaxIdMissing has words of its own (the company, its location, what the location and
    the checkout lack): the Messages and Orders pages say it in pt-BR, in en as its message."""
    from jobs.order_customer import CompanyTaxIdMissing, map_customer

    from .test_b2b_orders import b2b_order, company_entity

    with pytest.raises(CompanyTaxIdMissing) as refused:
        map_customer(b2b_order(company_entity(registered), typed))
    said = _said(refused.value, "pt-BR")
    assert said is not None and said.startswith(
        "pedido B2B da empresa 'Atacado Bom Preço Ltda', local 'Loja Centro': "
    ), said
    assert pt in said and "Clientes > Empresas > Atacado Bom Preço Ltda > Loja Centro" in said, said
    assert "is a CPF" not in said and "Retry" not in said and "checkout gave" not in said
    assert _said(refused.value, "en") == refused.value.message


def test_an_order_shopify_no_longer_has_is_named_as_the_merchant_knows_it(world, monkeypatch):
    """An order Shopify reads as null (deleted there) is named by its name (#1001), from the
    webhook's payload or the order's link, never by its gid; with neither, by its number."""
    from jobs import orders

    gid = world.place(gateway="pix")
    name = world.order_doc(gid)["name"]
    num = gid.rsplit("/", 1)[-1]
    real, gone = orders.read_order_for_erp, [True]
    monkeypatch.setattr(orders, "read_order_for_erp", lambda *a, **k: None if gone[0] else real(*a, **k))
    world.drain()  # orders/create: the payload names it
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["fail"] == {"key": "shopify_order_not_found", "params": {"order": name}}
    assert message.error_text.endswith(f"Shopify has no order {name}")
    assert fail_words.reason(message, "pt-BR") == f"A Shopify não tem o pedido {name}"
    assert fail_words.reason(message, "en") == f"Shopify has no order {name}"
    assert "gid://" not in message.error_text

    assert world.link(gid) is None  # a Retry knows no name: the order's number
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.FAILED.value
    assert world.message(gid).error_detail["fail"]["params"] == {"order": num}

    gone[0] = False  # read again, parked (the gateway unmapped): linked, with its name
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.PARKED.value
    assert world.link(gid).shopify_order_name == name
    gone[0] = True
    assert orders.import_order(world.shop_id, num, trigger="retry") == MessageStatus.FAILED.value
    message = world.message(gid)
    assert message.error_detail["fail"]["params"] == {"order": name}
    assert fail_words.reason(message, "pt-BR") == f"A Shopify não tem o pedido {name}"


def test_a_row_stored_when_the_order_was_named_by_its_gid_reads_as_its_english_error_text():
    """shopify_order_missing ({gid}) is retired for shopify_order_not_found ({order}): a row stored
    before has words no catalogue says, so the page shows its error_text, as it did before words."""
    from ledger.words import stored

    old = stored(("shopify_order_missing", {"gid": "gid://shopify/Order/7"}))
    assert fail_words.said(old, "pt-BR") is None

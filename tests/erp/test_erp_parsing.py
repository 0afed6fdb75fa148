"""Parse functions for every record type, from the contract's own examples; shape errors name
the endpoint and the wire field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from erp_samples import (
    COMPANY,
    EVENT,
    INSERTED,
    ITEM,
    ORDER,
    PAYMENT_METHOD,
    PRICE_ITEM,
    PRICE_TABLE,
    PRODUCT,
    SEGMENT,
    SKU,
    SKU_SPEC,
    STOCK,
    sample,
)

from erp.errors import ErpUnexpectedShape
from erp.parse_catalogue import (
    parse_company,
    parse_payment_method,
    parse_price_item,
    parse_price_table,
    parse_product,
    parse_segment,
    parse_sku,
    parse_sku_spec,
    parse_stock,
)
from erp.parse_orders import parse_insert_result, parse_order, parse_order_event
from ledger.errors import classify
from ledger.models import ErrorClass

CHANGED = datetime(2026, 11, 28, 18, 23, 53, 123456, tzinfo=UTC)


def test_product() -> None:
    p = parse_product(PRODUCT)
    assert (p.seq_produto, p.seq_familia, p.brand, p.ncm, p.cest) == (
        919,
        311,
        "CAMIL",
        "10063021",
        "1700100",
    )
    assert p.integrate_ecommerce is True and p.weighed is False
    assert p.changed_at == CHANGED and p.changed_at.tzinfo is UTC
    assert p.created_at == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


def test_sku() -> None:
    s = parse_sku(SKU)
    assert (s.id_sku, s.seq_produto, s.unit, s.ean, s.packaging) == (
        "P919E12",
        919,
        "CX-12",
        "7891234567895",
        "CX",
    )
    assert s.qtd_embalagem == Decimal(12) and s.gross_weight == Decimal("61.2")
    assert s.active is True and s.weighed is False


def test_weighed_sku_without_ean_and_inactive() -> None:
    s = parse_sku(sample(SKU, pesavel=True, codAcesso=None, ativo=False, embalagem="KG", qtdEmbalagem=1))
    assert s.weighed and s.ean is None and not s.active


def test_sku_spec_orders_images() -> None:
    spec = parse_sku_spec(SKU_SPEC)
    assert spec.codes[0].code == "7891234567895" and spec.codes[0].for_sale
    assert [a.name for a in spec.specs] == ["NCM", "Marca"]
    assert [i.order for i in spec.images] == [1, 2]


def test_price_table() -> None:
    t = parse_price_table(PRICE_TABLE)
    assert (t.nro_empresa, t.segments, t.active) == (1, (1, 2), True)


def test_price_item_with_running_promotion() -> None:
    p = parse_price_item(PRICE_ITEM)
    assert (p.normal, p.promotional, p.effective) == (Decimal("239.4"), Decimal("215.9"), Decimal("215.9"))
    assert (p.promo_start, p.promo_end) == (date(2026, 11, 20), date(2026, 12, 5))
    assert p.promotion_running and p.sale_active


def test_price_item_without_promotion_stored_as_zero() -> None:
    raw = sample(PRICE_ITEM, precoValidPromoc=0, promocaoVigente=False, precoVigente=..., statusVenda="I")
    p = parse_price_item(raw)
    assert p.promotional is None and not p.promotion_running
    assert p.effective == Decimal("239.4") and not p.sale_active


def test_stock() -> None:
    s = parse_stock(STOCK)
    assert (s.available, s.safety, s.available_ecommerce) == (Decimal(162), Decimal(10), Decimal(152))
    assert s.controlled and [(k.id_sku, k.available_ecommerce) for k in s.skus] == [
        ("P919E1", Decimal(152)),
        ("P919E12", Decimal(12)),
    ]


def test_uncontrolled_stock_has_no_limit() -> None:
    s = parse_stock(sample(STOCK, controlaEstoque=False, qtdDisponivelEcommerce=None))
    assert s.available_ecommerce is None and all(k.available_ecommerce is None for k in s.skus)


def test_company_segment_payment_method() -> None:
    c = parse_company(COMPANY)
    assert (c.nro_empresa, c.cnpj, c.uf, c.main_segment, c.active) == (1, "12345678000195", "SP", 1, True)
    s = parse_segment(SEGMENT)
    assert (s.nro_segmento, s.description, s.price_by_packaging) == (2, "ECOMMERCE", True)
    m = parse_payment_method(PAYMENT_METHOD)
    assert (m.nro_forma_pagto, m.name, m.kind) == (3, "CARTAO DE CREDITO", "C")


def test_order() -> None:
    o = parse_order(ORDER)
    assert (o.nro_pedvenda, o.situacao, o.freight, o.total_served) == (
        1001,
        "F",
        Decimal(15),
        Decimal("440.1"),
    )
    assert o.created_at == datetime(2026, 11, 28, tzinfo=UTC)
    line = o.lines[0]
    assert (line.qty_ordered, line.qty_served, line.unit_price) == (Decimal(2), Decimal(1), Decimal("215.9"))
    assert not line.is_substitute
    assert o.payments[0].amount == Decimal("447.8")
    assert o.invoices[0].key.startswith("3526") and not o.invoices[0].cancelled


def test_invoiced_event() -> None:
    e = parse_order_event(EVENT)
    assert (e.seq_evento, e.kind, e.nro_pedvenda, e.altered) == (17, "F", 1001, True)
    assert e.invoice is not None and (e.invoice.number, e.invoice.series, e.invoice.model) == (123, "1", "55")
    assert e.invoice.total == Decimal("440.1") and e.invoice.issuer_cnpj == "12345678000195"
    assert e.tracking is not None and e.tracking.code == "SB123456789BR"
    assert e.lines[0].qty_served == Decimal(1)


def test_an_event_without_alterado_is_altered_when_its_lines_say_so() -> None:
    """`alterado` is the lines' own summary (docs/consinco-api.md: a line served other than
    ordered, or a substitute): an ERP leaving it out must not make a cut, weighed or substituted
    invoice look unaltered (jobs.invoices applies an altered 'F' event's picking)."""
    cut = sample(EVENT, alterado=...)  # ITEM: 2 ordered, 1 served
    assert parse_order_event(cut).altered
    assert parse_order_event(sample(cut, alterado=None)).altered
    whole = sample(cut, itens=[sample(ITEM, qtdAtendida=2.0)])
    assert not parse_order_event(whole).altered
    unserved = sample(cut, tipoEvento="C", itens=[sample(ITEM, qtdAtendida=None)])
    assert not parse_order_event(unserved).altered
    substitute = sample(ITEM, seqItem=2, qtdPedida=1, qtdAtendida=1, seqItemSubstituido=1)
    swapped = sample(cut, itens=[sample(ITEM, qtdAtendida=2.0), substitute])
    assert parse_order_event(swapped).altered
    assert not parse_order_event(sample(swapped, alterado=False)).altered  # the ERP's word wins


def test_separation_event_with_substitute_and_cancel_event() -> None:
    substitute = sample(ITEM, seqItem=2, qtdPedida=0, qtdAtendida=1, seqItemSubstituido=1)
    e = parse_order_event(
        sample(
            EVENT,
            tipoEvento="S",
            documentoFiscal=None,
            rastreio=None,
            itens=[sample(ITEM, qtdAtendida=0), substitute],
        )
    )
    assert e.kind == "S" and e.invoice is None and e.tracking is None
    assert e.lines[1].is_substitute and e.lines[1].replaces_seq_item == 1
    c = parse_order_event(
        sample(
            EVENT,
            tipoEvento="C",
            motivoCancelamento="Cliente desistiu",
            nfeCancelada=True,
            documentoFiscal=sample(EVENT["documentoFiscal"], statusDf="C"),
        )
    )
    assert c.cancel_reason == "Cliente desistiu" and c.nfe_cancelled and c.invoice and c.invoice.cancelled


def test_insert_result() -> None:
    assert parse_insert_result(INSERTED).duplicated is False
    again = parse_insert_result(sample(INSERTED, duplicado=True))
    assert (again.nro_pedvenda, again.duplicated, again.situacao) == (1001, True, "L")


@pytest.mark.parametrize(
    ("parse", "raw", "field", "problem"),
    [
        (parse_sku, sample(SKU, idSku=...), "idSku", "missing"),
        (parse_sku, sample(SKU, qtdEmbalagem="doze"), "qtdEmbalagem", "not a number"),
        (parse_sku, sample(SKU, dtaHorAlteracao="ontem"), "dtaHorAlteracao", "ISO date-time"),
        # a packaging of no units (every unit figure divides by it: the stock's levels)
        (parse_sku, sample(SKU, qtdEmbalagem=0), "qtdEmbalagem", "not a positive number"),
        (parse_sku, sample(SKU, qtdEmbalagem="-6"), "qtdEmbalagem", "not a positive number"),
        (parse_sku_spec, sample(SKU_SPEC, qtdEmbalagem=0), "qtdEmbalagem", "not a positive number"),
        (parse_price_item, sample(PRICE_ITEM, qtdEmbalagem=0), "qtdEmbalagem", "not a positive number"),
        (parse_sku, sample(SKU, seqProduto="--5"), "seqProduto", "not an integer"),  # (int("--5") raised)
        (parse_sku, sample(SKU, seqProduto="²"), "seqProduto", "not an integer"),  # ("²".isdigit())
        (parse_price_item, sample(PRICE_ITEM, precoValidNormal=None), "precoValidNormal", "missing"),
        (parse_stock, sample(STOCK, skus={"idSku": "x"}), "skus", "not a list"),
        (parse_stock, sample(STOCK, controlaEstoque="talvez"), "controlaEstoque", "boolean"),
        (
            parse_order_event,
            sample(EVENT, documentoFiscal=sample(EVENT["documentoFiscal"], chaveAcesso=...)),
            "chaveAcesso",
            "missing",
        ),
        (parse_order, sample(ORDER, itens=[sample(ITEM, seqProduto=1.5)]), "seqProduto", "not an integer"),
        (parse_product, ["not", "an", "object"], "record", "not a JSON object"),
    ],
)
def test_unexpected_shape_names_endpoint_and_field(parse, raw, field, problem) -> None:
    with pytest.raises(ErpUnexpectedShape) as caught:
        parse(raw)
    assert caught.value.field == field and problem in caught.value.problem
    assert caught.value.endpoint.startswith("api/v1/")
    assert field in str(caught.value) and caught.value.endpoint in str(caught.value)
    assert classify(caught.value) is ErrorClass.BUG


def test_an_event_of_a_kind_the_app_does_not_know_is_read_for_the_poller_to_ignore() -> None:
    """A kind other than S, F, C is read, not a shape error: one such event would otherwise stop
    the whole poll, and every invoice and cancellation behind it."""
    assert parse_order_event(sample(EVENT, tipoEvento="X")).kind == "X"

"""CONSINCO_FIELD_MAP: an installation renames paths and fields without touching code."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from erp_samples import DOC, EVENT, INSERTED, ITEM, LOGIN, ORDER, SKU, envelope, sample
from erp_test_urls import BASE

from erp.client import ErpClient
from erp.errors import ErpUnexpectedShape
from erp.names import NAMES, load_names
from erp.parse_catalogue import parse_sku
from erp.parse_orders import parse_invoice, parse_order, parse_order_event, parse_order_line
from erp.payloads import line_payload
from erp.records import CustomerInput, OrderInput, OrderLineInput


def test_defaults_are_the_contract() -> None:
    assert NAMES.paths["skus"] == "api/v1/Cadastros/ProdutoSku"
    assert NAMES.params["since"] == "DtaHorAlteracao" and NAMES.fields["sku"]["ean"] == "codAcesso"


def test_override_file_renames_fields_and_paths(tmp_path, requests_mock) -> None:
    path = tmp_path / "names.json"
    path.write_text(
        json.dumps(
            {
                "paths": {"skus": "api/v2/Sku"},
                "fields": {"sku": {"ean": "ean13"}},
                "envelope": {"items": "data"},
            }
        )
    )
    names = load_names(path)
    raw = sample(SKU, codAcesso=..., ean13="7890000000017")
    assert parse_sku(raw, names).ean == "7890000000017"
    assert NAMES.fields["sku"]["ean"] == "codAcesso"  # the defaults are untouched
    requests_mock.post(BASE + "/api/v1/Auth/Login", json=LOGIN)
    body = envelope([])
    body["data"] = [raw]
    requests_mock.get(BASE + "/api/v2/Sku", json=body)
    skus = list(ErpClient(BASE, "u", "p", names=names).skus())
    assert [s.ean for s in skus] == ["7890000000017"]


def test_an_installation_writing_local_time_is_read_and_written_in_its_zone(tmp_path, requests_mock) -> None:
    """Oracle DATE columns carry no zone: an ERP that writes them in Brasilia time sets
    formats.datetime_zone, and every date-time without an offset is read and sent in it: the
    order's date (dtaHorPedidoCanalVenda) is the customer's own day, the NF-e's issue time is
    the real instant, and the watermark's DtaHorAlteracao is what the ERP's clock means."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"datetime_zone": "America/Sao_Paulo"}}))
    names = load_names(path)
    assert NAMES.zone is UTC  # the contract's default is untouched
    changed = parse_sku(sample(SKU, dtaHorAlteracao="2026-11-28T21:10:00"), names).changed_at
    assert changed == datetime(2026, 11, 29, 0, 10, tzinfo=UTC)
    issued = parse_invoice(sample(DOC, dtaHorEmissao="2026-11-28T22:05:00"), "PedidoVenda", names).issued_at
    assert issued == datetime(2026, 11, 29, 1, 5, tzinfo=UTC)
    assert (
        parse_sku(sample(SKU, dtaHorAlteracao="2026-11-28T21:10:00Z"), names).changed_at.hour == 21
    )  # an offset wins

    requests_mock.post(BASE + "/api/v1/Auth/Login", json=LOGIN)
    skus = requests_mock.get(
        BASE + "/api/v1/Cadastros/ProdutoSku",
        json=envelope([sample(SKU, dtaHorAlteracao="2026-11-28T21:12:00")], snapshot="2026-11-28T21:30:00"),
    )  # (a row with a time of day: an empty read's watermark is its day's start, erp/paging.py)
    client = ErpClient(BASE, "u", "p", names=names, overlap=timedelta(0))
    read = client.skus(since=datetime(2026, 11, 29, 0, 10, tzinfo=UTC))
    assert len(list(read)) == 1 and read.snapshot == datetime(2026, 11, 29, 0, 30, tzinfo=UTC)
    assert skus.last_request.qs["dtahoralteracao"] == ["2026-11-28t21:10:00.000000"]

    posted = requests_mock.post(BASE + "/api/v1/PedidoVenda", json=INSERTED)
    client.insert_order(
        OrderInput(
            seq_canal_venda=7,
            channel_order_id="gid://shopify/Order/1001",
            ordered_at=datetime(2026, 11, 29, 1, 30, tzinfo=UTC),  # 22:30 on the 28th in Sao Paulo
            nro_empresa=1,
            nro_segmento=2,
            cod_geral_oper=207,
            customer=CustomerInput(cpf_cnpj="52998224725", name="MARIA SILVA"),
            lines=(OrderLineInput(qty=Decimal(1), seq_produto=77, qtd_embalagem=Decimal(1)),),
        )
    )
    assert posted.last_request.json()["dtaHorPedidoCanalVenda"] == "2026-11-28T22:30:00.000000"


def test_an_installation_counting_base_units_is_sent_and_read_in_them(tmp_path) -> None:
    """MAD_PEDVENDAITEM holds base units (public Consinco SQL: VLREMBINFORMADO * QTDATENDIDA /
    QTDEMBALAGEM), and the API may too: formats.quantity_unit "base" sends qtdPedida as packagings
    x qtdEmbalagem and reads qtdPedida / qtdAtendida (orders and events) back as packagings, so the
    jobs count packagings either way. A weighed item's KG packaging is 1: its kg are unchanged."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"quantity_unit": "base"}}))
    names = load_names(path)
    assert not NAMES.base_units and names.base_units  # the contract's default is untouched
    box = OrderLineInput(
        qty=Decimal(2), seq_produto=919, qtd_embalagem=Decimal(12), unit_price=Decimal("215.90")
    )
    kilos = OrderLineInput(qty=Decimal("1.234"), seq_produto=77, qtd_embalagem=Decimal(1))
    assert [line_payload(x, names)["qtdPedida"] for x in (box, kilos)] == [24, 1.234]
    assert [line_payload(x)["qtdPedida"] for x in (box, kilos)] == [2, 1.234]
    with pytest.raises(ValueError, match="qtd_embalagem"):
        line_payload(OrderLineInput(qty=Decimal(1), ean="7891234567895"), names)

    served_6 = sample(ITEM, qtdPedida=24.0, qtdAtendida=6.0)  # 2 boxes ordered, half a box served
    line = parse_order_line(served_6, "PedidoVenda", names)
    assert (line.qty_ordered, line.qty_served, line.qtd_embalagem) == (2, Decimal("0.5"), 12)
    assert line.total_ordered == Decimal("431.8")  # money is per packaging either way
    event = parse_order_event(
        sample(EVENT, itens=[served_6, sample(ITEM, qtdPedida=12.0, qtdAtendida=None)]), names
    )
    assert [(x.qty_ordered, x.qty_served) for x in event.lines] == [(2, Decimal("0.5")), (1, None)]
    order = parse_order(sample(ORDER, itens=[served_6]), names)
    assert order.lines[0].qty_ordered == 2 and order.lines[0].qty_served == Decimal("0.5")
    with pytest.raises(ErpUnexpectedShape, match="qtdEmbalagem"):
        parse_order_line(sample(ITEM, qtdEmbalagem=0), "PedidoVenda", names)


def test_an_installation_reading_discounts_per_packaging_is_sent_and_read_in_them(tmp_path) -> None:
    """Every VLREMB* column of MAD_PEDVENDAITEM is per packaging (VLREMBDESCONTO NUMERIC(17,6)),
    and the API may read vlrEmbDesconto so: formats.discount_per "packaging" sends the line's
    discount / packagings to six decimals and reads it back times the packagings ordered, so the
    jobs hold the line's discount either way."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"discount_per": "packaging"}}))
    names = load_names(path)
    assert not NAMES.discount_per_packaging and names.discount_per_packaging
    three = OrderLineInput(qty=Decimal(3), seq_produto=77, qtd_embalagem=Decimal(1), discount=Decimal("3.00"))
    third = OrderLineInput(qty=Decimal(3), seq_produto=77, qtd_embalagem=Decimal(1), discount=Decimal("1.00"))
    kilos = OrderLineInput(
        qty=Decimal("1.234"), seq_produto=78, qtd_embalagem=Decimal(1), discount=Decimal("0.50")
    )
    none = OrderLineInput(qty=Decimal(2), seq_produto=79, qtd_embalagem=Decimal(1))
    assert [line_payload(x, names)["vlrEmbDesconto"] for x in (three, third, kilos, none)] == [
        1,
        0.333333,
        0.405186,
        0,
    ]
    assert [line_payload(x)["vlrEmbDesconto"] for x in (three, third, kilos)] == [3, 1, 0.5]

    boxes = sample(ITEM, qtdPedida=3.0, qtdEmbalagem=12, vlrEmbDesconto=0.333333)
    assert parse_order_line(boxes, "PedidoVenda", names).discount == Decimal("1.00")
    assert parse_order_line(boxes, "PedidoVenda").discount == Decimal("0.333333")  # the contract's
    event = parse_order_event(sample(EVENT, itens=[boxes]), names)
    assert event.lines[0].discount == Decimal("1.00")
    order = parse_order(sample(ORDER, itens=[boxes]), names)
    assert order.lines[0].discount == Decimal("1.00")


@pytest.mark.parametrize(
    "override",
    [
        {"pathz": {}},
        {"fields": {"sku": {"eann": "x"}}},
        {"paths": {"skus": ""}},
        {"fields": {"sku": "x"}},
        {"formats": {"datetime_zone": "America/Sao Paulo"}},
        {"formats": {"quantity_unit": "units"}},
        {"formats": {"discount_per": "unit"}},
        {"formats": {"event_invoiced": " , "}},
        {"formats": {"event_invoiced": "F,C"}},  # C is the cancellation's too
    ],
)
def test_unknown_or_bad_names_are_refused(tmp_path, override) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps(override))
    with pytest.raises(ValueError, match="CONSINCO_FIELD_MAP"):
        load_names(path)


def test_an_installation_naming_its_event_kinds_otherwise_is_read_in_the_apps(tmp_path) -> None:
    """EventoPedido's schema is not public: 'S', 'F', 'C' are the contract's [assumed] codes. An ERP
    writing others had every event traced skipped as an unknown kind (no NF-e, capture or cancellation
    reached Shopify) with no way to say them; formats.event_* map them, as statusDf's codes are."""
    path = tmp_path / "names.json"
    kinds = {"event_picked": "SEP,ALT", "event_invoiced": "FAT", "event_cancelled": "CAN"}
    path.write_text(json.dumps({"formats": kinds}))
    names = load_names(path)
    codes = ("fat", "ALT", "SEP", "CAN")
    read = [parse_order_event({**EVENT, "tipoEvento": code}, names).kind for code in codes]
    assert read == ["F", "S", "S", "C"]
    assert parse_order_event({**EVENT, "tipoEvento": " X "}, names).kind == "X"  # unknown: kept as written
    assert [parse_order_event({**EVENT, "tipoEvento": code}).kind for code in "SFC"] == ["S", "F", "C"]


def test_env_var_is_read_at_import(tmp_path) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"paths": {"order_events": "api/v1/Eventos"}}))
    code = "from erp.names import NAMES; print(NAMES.paths['order_events'])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"CONSINCO_FIELD_MAP": str(path), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.stdout.strip() == "api/v1/Eventos"


def test_an_installation_sends_the_header_fields_it_needs_that_the_app_has_no_value_for(tmp_path) -> None:
    """TDN lists tipoRateioFretePedido and tipoFreteDocAuxiliar among the order header's fields; the app
    has no value of its own for them, and an ERP that needs them had no way to be given them."""
    from erp.payloads import order_payload
    from tests.erp.test_erp_orders import ORDER_IN

    path = tmp_path / "names.json"
    path.write_text(json.dumps({"order_header": {"tipoRateioFretePedido": "V", "tipoFreteDocAuxiliar": 0}}))
    body = order_payload(ORDER_IN, load_names(path))
    assert body["tipoRateioFretePedido"] == "V" and body["tipoFreteDocAuxiliar"] == 0
    assert "tipoRateioFretePedido" not in order_payload(ORDER_IN)  # none by default
    assert body["nroEmpresa"] == order_payload(ORDER_IN)["nroEmpresa"]


@pytest.mark.parametrize(
    "header",
    [{"nroEmpresa": 2}, {"tipoFreteDocAuxiliar": None}, {"tipoFreteDocAuxiliar": [1]}, {" ": 1}, ["x"]],
)
def test_a_header_field_the_app_sends_or_a_value_not_scalar_is_refused(tmp_path, header) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"order_header": header}))
    with pytest.raises(ValueError, match=r"CONSINCO_FIELD_MAP: .*order_header"):
        load_names(path)

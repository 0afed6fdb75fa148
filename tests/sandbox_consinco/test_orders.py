"""POST PedidoVenda: idempotent on (seqCanalVenda, idPedidoCanalVenda), refusals in the ERP's words;
PUT and Cancelamento [assumed] refused with 409 once the order moved on."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from sandbox.consinco import tables as t
from sandbox.consinco.erp import ConsincoErp
from sandbox_consinco.helpers import order_body


def _code(erp, seqproduto: int = 1, qtd: int = 1) -> str:
    with erp.store.read() as conn:
        return conn.execute(
            select(t.map_prodcodigo.c.codacesso).where(
                t.map_prodcodigo.c.seqproduto == seqproduto, t.map_prodcodigo.c.qtdembalagem == qtd
            )
        ).scalar_one()


def _sellable_product(erp) -> int:
    """A product active for e-commerce with an active price at company 1, segment 2."""
    ps, p = t.mrl_prodempseg, t.map_produto
    with erp.store.read() as conn:
        return conn.execute(
            select(ps.c.seqproduto)
            .join(p, p.c.seqproduto == ps.c.seqproduto)
            .where(
                ps.c.nroempresa == 1,
                ps.c.nrosegmento == 2,
                ps.c.qtdembalagem == 1,
                ps.c.statusvenda == "A",
                p.c.indintegraecommerce == "S",
            )
            .order_by(ps.c.seqproduto)
            .limit(1)
        ).scalar_one()


def _orders(erp) -> int:
    with erp.store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.mad_pedvenda)).scalar_one()


def test_same_order_twice_returns_the_first_number(served, api):
    code = _code(served.erp, _sellable_product(served.erp))
    first = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(code))
    again = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(code, obsPedido="changed"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["nroPedVenda"] == first.json()["nroPedVenda"]
    assert again.json()["duplicado"] is True and _orders(served.erp) == 1
    other_channel = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(code, seqCanalVenda=8))
    assert (
        other_channel.status_code == 201
        and other_channel.json()["nroPedVenda"] != first.json()["nroPedVenda"]
    )


def test_concurrent_repeats_create_one_order(erp):
    body = order_body(_code(erp, _sellable_product(erp)), external="race")
    answers: list[tuple[int, dict]] = []
    threads = [threading.Thread(target=lambda: answers.append(erp.insert_order(body))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * 5 + [201]
    assert len({answer["nroPedVenda"] for _, answer in answers}) == 1 and _orders(erp) == 1


def test_order_is_stored_with_consinco_names_and_reserves_stock(served, api):
    erp = served.erp
    seq = _sellable_product(erp)
    with erp.store.read() as conn:
        reserved = conn.execute(
            select(t.mrl_produtoempresa.c.qtdreservadavda).where(
                t.mrl_produtoempresa.c.nroempresa == 1, t.mrl_produtoempresa.c.seqproduto == seq
            )
        ).scalar_one()
    nro = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(_code(erp, seq))).json()["nroPedVenda"]
    order = api.get(f"{served.url}/api/v1/PedidoVenda/{nro}").json()
    assert order["situacaoPed"] == "L" and order["cpfCnpj"] == "52998224725" and order["nroSegmento"] == 2
    assert order["itens"][0]["idSku"] == f"P{seq}E1" and order["itens"][0]["qtdPedida"] == 2
    assert order["formasPagto"][0]["nroFormaPagto"] == 3
    with erp.store.read() as conn:
        row = conn.execute(select(t.mad_pedvenda).where(t.mad_pedvenda.c.nropedvenda == nro)).mappings().one()
        now_reserved = conn.execute(
            select(t.mrl_produtoempresa.c.qtdreservadavda).where(
                t.mrl_produtoempresa.c.nroempresa == 1, t.mrl_produtoempresa.c.seqproduto == seq
            )
        ).scalar_one()
    assert row["nropedcliente"] == "1001" and row["seqcanalvenda"] == 7 and row["codgeraloper"] == 207
    assert now_reserved == reserved + 2


def _box_of_12(erp) -> tuple[str, int]:
    """(EAN, seqproduto) of a CX-12 packaging sellable at company 1, segment 2."""
    ps, p, c, e = t.mrl_prodempseg, t.map_produto, t.map_prodcodigo, t.map_famembalagem
    with erp.store.read() as conn:
        row = conn.execute(
            select(c.c.codacesso, ps.c.seqproduto)
            .join(p, p.c.seqproduto == ps.c.seqproduto)
            .join(e, (e.c.seqfamilia == p.c.seqfamilia) & (e.c.qtdembalagem == ps.c.qtdembalagem))
            .join(c, (c.c.seqproduto == ps.c.seqproduto) & (c.c.qtdembalagem == ps.c.qtdembalagem))
            .where(ps.c.nroempresa == 1, ps.c.nrosegmento == 2, ps.c.qtdembalagem == 12,
                   ps.c.statusvenda == "A", p.c.indintegraecommerce == "S", e.c.status == "A")
            .order_by(ps.c.seqproduto)
            .limit(1)
        ).first()  # fmt: skip
    assert row is not None, "no CX-12 packaging in the generated chain"
    return row.codacesso, row.seqproduto


def _reserved(erp, seq: int) -> float:
    pe = t.mrl_produtoempresa
    with erp.store.read() as conn:
        return conn.execute(
            select(pe.c.qtdreservadavda).where(pe.c.nroempresa == 1, pe.c.seqproduto == seq)
        ).scalar_one()


@pytest.mark.parametrize(("unit", "boxes_2", "box_1"), [("packaging", 2, 1), ("base", 24, 12)])
def test_mad_pedvendaitem_holds_base_units_and_the_api_counts_in_its_setting(chain_db, unit, boxes_2, box_1):
    """Public customer SQL over MAD_PEDVENDAITEM values a line as VLREMBINFORMADO * QTDATENDIDA /
    QTDEMBALAGEM and counts packagings as QTDPEDIDA / QTDEMBALAGEM: the table holds base units, so
    2 boxes of 12 are QTDPEDIDA 24. Which unit the API's qtdPedida / qtdAtendida count is not
    public [assumed]: packagings by default, base units with quantity_unit="base"."""
    erp = ConsincoErp(
        chain_db, **({"quantity_unit": unit} if unit != "packaging" else {})
    )  # packaging: the default
    try:
        code, seq = _box_of_12(erp)
        reserved = _reserved(erp, seq)
        status, answer = erp.insert_order(
            order_body(code, itemDto=[{"codAcesso": code, "qtdPedida": boxes_2}])
        )
        assert status == 201
        nro = answer["nroPedVenda"]
        with erp.store.read() as conn:
            row = conn.execute(select(t.mad_pedvendaitem).where(t.mad_pedvendaitem.c.nropedvenda == nro))
            line = row.mappings().one()
        price = line["vlrembinformado"]
        assert (line["qtdpedida"], line["qtdembalagem"]) == (24, 12)
        assert line["qtdpedida"] / line["qtdembalagem"] == 2  # boxes, as Consinco's SQL counts them
        assert answer["vlrTotalPedido"] == round(line["vlrembinformado"] * line["qtdpedida"] / 12 + 10.0, 2)
        assert answer["vlrTotalPedido"] == round(2 * price + 10.0, 2) and _reserved(erp, seq) == reserved + 24
        item = erp.order(nro)["itens"][0]
        assert (item["qtdPedida"], item["qtdEmbalagem"], item["vlrTotalPedido"]) == (
            boxes_2,
            12,
            round(2 * price, 2),
        )

        separated = erp.separate(nro, cuts={1: box_1})["itens"][0]
        assert (separated["qtdAtendida"], separated["vlrTotalAtendido"]) == (box_1, round(price, 2))
        with erp.store.read() as conn:
            served = conn.execute(
                select(t.mad_pedvendaitem.c.qtdatendida).where(t.mad_pedvendaitem.c.nropedvenda == nro)
            ).scalar_one()
        assert served == 12 and _reserved(erp, seq) == reserved + 12
    finally:
        erp.close()


def test_refusals_answer_in_the_erps_words(served, api):
    erp = served.erp
    code = _code(erp, _sellable_product(erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    unknown = api.post(url, json=order_body("7890000000000", external="a"))
    assert unknown.status_code == 422 and unknown.json() == {
        "codigo": "PRODUTO_NAO_ENCONTRADO",
        "mensagem": "Produto não encontrado: codAcesso 7890000000000.",
        "campo": "itemDto[0].codAcesso",
    }
    by_seq = api.post(
        url, json=order_body(code, external="b", itemDto=[{"seqProduto": 999999, "qtdPedida": 1}])
    )
    assert by_seq.json()["codigo"] == "PRODUTO_NAO_ENCONTRADO"
    bad_doc = api.post(url, json=order_body(code, external="c", clienteDto={"cpfCnpj": "529.982.247-24"}))
    assert bad_doc.status_code == 422 and bad_doc.json()["campo"] == "clienteDto.cpfCnpj"
    assert bad_doc.json()["codigo"] == "CPFCNPJ_INVALIDO"
    erp.set_company_status(3, "I")
    inactive = api.post(url, json=order_body(code, external="d", nroEmpresa=3))
    assert inactive.status_code == 422 and inactive.json()["codigo"] == "EMPRESA_INATIVA"
    assert (
        api.post(url, json=order_body(code, external="e", nroEmpresa=99)).json()["codigo"]
        == "EMPRESA_INATIVA"
    )
    missing = api.post(url, json={"seqCanalVenda": 7})
    assert missing.status_code == 400 and missing.json()["campo"] == "idPedidoCanalVenda"
    payment = api.post(
        url, json=order_body(code, external="f", formaPagtoDto=[{"nroFormaPagto": 77, "vlrPagto": 1}])
    )
    assert payment.json()["codigo"] == "FORMAPAGTO_INVALIDA"
    assert _orders(erp) == 0


def test_alphanumeric_cnpj_customer_is_accepted(served, api):
    code = _code(served.erp, _sellable_product(served.erp))
    answer = api.post(
        f"{served.url}/api/v1/PedidoVenda",
        json=order_body(code, clienteDto={"cpfCnpj": "12.ABC.345/01DE-35", "nomeRazaoSocial": "ACME"}),
    )
    assert answer.status_code == 201
    order = api.get(f"{served.url}/api/v1/PedidoVenda/{answer.json()['nroPedVenda']}").json()
    assert order["cpfCnpj"] == "12ABC34501DE35"


def test_edit_before_separation_then_409(served, api):
    erp = served.erp
    seq = _sellable_product(erp)
    url = f"{served.url}/api/v1/PedidoVenda"
    nro = api.post(url, json=order_body(_code(erp, seq))).json()["nroPedVenda"]
    edited = api.put(
        f"{url}/{nro}",
        json={"itemDto": [{"seqProduto": seq, "qtdEmbalagem": 1, "qtdPedida": 5}], "vlrTotFrete": 0},
    )
    assert edited.status_code == 200 and edited.json()["itens"][0]["qtdPedida"] == 5
    assert edited.json()["vlrTotFrete"] == 0
    erp.separate(nro)
    refused = api.put(f"{url}/{nro}", json={"vlrTotFrete": 5})
    assert refused.status_code == 409 and refused.json()["codigo"] == "PEDIDO_EM_SEPARACAO"
    assert api.get(f"{url}/404404").status_code == 404


def test_an_edit_that_sends_payment_forms_replaces_them(served, api):
    """PUT formaPagtoDto [assumed] replaces every payment form (the order's total changed with its
    lines, so its payments must too); left out, they stay; an unknown form refuses the whole edit."""
    erp = served.erp
    seq = _sellable_product(erp)
    url = f"{served.url}/api/v1/PedidoVenda"
    nro = api.post(url, json=order_body(_code(erp, seq))).json()["nroPedVenda"]
    lines = [{"seqProduto": seq, "qtdEmbalagem": 1, "qtdPedida": 5}]
    pays = [{"nroFormaPagto": 2, "vlrPagto": 60.0, "qtdParcelas": 1, "idPagtoCanalVenda": "9"},
            {"nroFormaPagto": 3, "vlrPagto": 70.5, "qtdParcelas": 1}]  # fmt: skip
    edited = api.put(f"{url}/{nro}", json={"itemDto": lines, "formaPagtoDto": pays})
    assert edited.status_code == 200
    forms = edited.json()["formasPagto"]
    assert [(p["nroFormaPagto"], p["vlrPagto"]) for p in forms] == [(2, 60.0), (3, 70.5)]
    pv = t.mad_pedvenda
    with erp.store.read() as conn:
        header = conn.execute(select(pv.c.nroformapagto).where(pv.c.nropedvenda == nro)).scalar_one()
    assert header == 2  # NROFORMAPAGTO: the first form, as the insert stores it
    assert api.put(f"{url}/{nro}", json={"vlrTotFrete": 0}).json()["formasPagto"] == forms  # left out: kept
    bad_form = [{"nroFormaPagto": 99, "vlrPagto": 1}]
    unknown = {"itemDto": [{**lines[0], "qtdPedida": 1}], "formaPagtoDto": bad_form}
    refused = api.put(f"{url}/{nro}", json=unknown)
    assert refused.status_code == 422 and refused.json()["codigo"] == "FORMAPAGTO_INVALIDA"
    assert api.get(f"{url}/{nro}").json()["itens"][0]["qtdPedida"] == 5  # nothing of it was taken


def test_cancel_from_channel_until_invoiced(served, api):
    erp = served.erp
    code = _code(erp, _sellable_product(erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    open_nro = api.post(url, json=order_body(code, external="x")).json()["nroPedVenda"]
    cancelled = api.post(f"{url}/{open_nro}/Cancelamento", json={"motivo": "Cliente desistiu"})
    assert cancelled.status_code == 200 and cancelled.json()["situacaoPed"] == "C"
    assert cancelled.json()["motCancelamento"] == "Cliente desistiu"
    assert api.post(f"{url}/{open_nro}/Cancelamento", json={}).status_code == 200
    invoiced = api.post(url, json=order_body(code, external="y")).json()["nroPedVenda"]
    erp.invoice(invoiced)
    refused = api.post(f"{url}/{invoiced}/Cancelamento", json={})
    assert refused.status_code == 409 and refused.json()["codigo"] == "PEDIDO_FATURADO"
    assert api.put(f"{url}/{invoiced}", json={"obsPedido": "x"}).json()["codigo"] == "PEDIDO_FATURADO"
    events = api.get(f"{url}/EventoPedido", params={"NroEmpresa": 1}).json()["items"]
    assert [(e["nroPedVenda"], e["tipoEvento"]) for e in events] == [
        (open_nro, "C"),
        (invoiced, "S"),
        (invoiced, "F"),
    ]


def test_the_customer_upsert_keeps_what_the_body_leaves_out_and_refuses_what_its_columns_cannot_hold(
    served, api
):
    """GE_PESSOA is upserted by document: a field not sent keeps its value (a company's state
    registration); a value longer than its column is refused naming the field, not cut."""
    code = _code(served.erp, _sellable_product(served.erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    company = {
        "cpfCnpj": "11.222.333/0001-81",
        "nomeRazaoSocial": "RESTAURANTE",
        "inscEstadualRg": "110042490114",
    }
    assert api.post(url, json=order_body(code, external="ie-1", clienteDto=company)).status_code == 201
    again = {"cpfCnpj": "11222333000181", "nomeRazaoSocial": "RESTAURANTE SABOR", "cidade": "Belo Horizonte"}
    assert api.post(url, json=order_body(code, external="ie-2", clienteDto=again)).status_code == 201
    with served.erp.store.read() as conn:
        row = (
            conn.execute(select(t.ge_pessoa).where(t.ge_pessoa.c.nrocgccpf == "112223330001"))
            .mappings()
            .one()
        )
    assert (row["inscricaorg"], row["nomerazao"], row["cidade"]) == ("110042490114", "RESTAURANTE SABOR",
                                                                     "Belo Horizonte")  # fmt: skip
    long = {
        **again,
        "complementoLogradouro": "Bloco B, apartamento 1203, entrada pela rua lateral da padaria",
    }
    refused = api.post(url, json=order_body(code, external="ie-3", clienteDto=long))
    assert refused.status_code in (400, 422) and refused.json()["campo"] == "clienteDto.complementoLogradouro"


def test_the_intermediary_indicator_is_stored_read_back_and_refused_outside_0_and_1(served, api):
    """indIntermediador (NF-e's indIntermed: 0 the seller's own platform, 1 a third party's) goes
    into MAD_PEDVENDA.INDINTERMEDIADOR and comes back on the read; anything else is a 400 naming it."""
    erp = served.erp
    code = _code(erp, _sellable_product(erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    for external, wrong in (("x", 2), ("y", "1"), ("z", True), ("w", -1)):
        refused = api.post(url, json=order_body(code, external=external, indIntermediador=wrong))
        assert refused.status_code == 400, wrong
        assert refused.json()["campo"] == "indIntermediador", wrong
    assert _orders(erp) == 0
    placed = api.post(url, json=order_body(code, external="m", indIntermediador=1))
    assert placed.status_code == 201, placed.text
    nro = placed.json()["nroPedVenda"]
    with erp.store.read() as conn:
        stored = conn.execute(
            select(t.mad_pedvenda.c.indintermediador).where(t.mad_pedvenda.c.nropedvenda == nro)
        ).scalar_one()
    assert stored == 1
    assert api.get(f"{url}/{nro}").json()["indIntermediador"] == 1
    own = api.post(url, json=order_body(code, external="o", indIntermediador=0)).json()["nroPedVenda"]
    assert api.get(f"{url}/{own}").json()["indIntermediador"] == 0


def test_the_representative_and_price_table_are_stored_read_back_and_an_unknown_representative_refused(
    served, api
):
    """nroRepresentante goes into MAD_PEDVENDA.NROREPRESENTANTE when the ERP knows it active
    (MAD_REPRESENTANTE: the generator registers 1 for the e-commerce channel); another is a 422 in
    the ERP's words naming the field, as an inactive company is, and nothing is stored. Left out,
    the order has none. nroTabVenda goes into NROTABVENDA (a code: kept as text)."""
    erp = served.erp
    code = _code(erp, _sellable_product(erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    for external, unknown in (("r-1", 99), ("r-2", 3)):  # 3: registered, inactive
        refused = api.post(url, json=order_body(code, external=external, nroRepresentante=unknown))
        assert refused.status_code == 422 and refused.json() == {
            "codigo": "REPRESENTANTE_INVALIDO",
            "mensagem": f"Representante {unknown} inativo ou não cadastrado.",
            "campo": "nroRepresentante",
        }
    wrong = api.post(url, json=order_body(code, external="r-3", nroRepresentante="1"))
    assert wrong.status_code == 400 and wrong.json()["campo"] == "nroRepresentante"
    assert _orders(erp) == 0
    placed = api.post(url, json=order_body(code, external="r-4", nroRepresentante=1, nroTabVenda=3))
    assert placed.status_code == 201, placed.text
    nro = placed.json()["nroPedVenda"]
    pv = t.mad_pedvenda
    with erp.store.read() as conn:
        stored = conn.execute(
            select(pv.c.nrorepresentante, pv.c.nrotabvenda).where(pv.c.nropedvenda == nro)
        ).one()
    assert tuple(stored) == (1, "3")
    read = api.get(f"{url}/{nro}").json()
    assert (read["nroRepresentante"], read["nroTabVenda"]) == (1, "3")
    left_out = api.post(url, json=order_body(code, external="r-5")).json()["nroPedVenda"]
    bare = api.get(f"{url}/{left_out}").json()
    assert (bare["nroRepresentante"], bare["nroTabVenda"]) == (None, None)


def test_a_channel_order_id_past_its_60_characters_is_refused_never_cut(served, api):
    """idPedidoCanalVenda is the ERP's idempotency key (NROPEDCLIENTE, 60 characters): cut, two ids
    sharing their first 60 would be answered as one order (`duplicado`)."""
    code = _code(served.erp, _sellable_product(served.erp))
    url = f"{served.url}/api/v1/PedidoVenda"
    fits = api.post(url, json=order_body(code, external="x" * 60))
    assert fits.status_code == 201
    for longer in ("x" * 60 + "1", "x" * 60 + "2"):
        refused = api.post(url, json=order_body(code, external=longer))
        assert refused.status_code == 400, refused.text
        assert refused.json()["campo"] == "idPedidoCanalVenda"
        assert "60" in refused.json()["mensagem"]
    assert _orders(served.erp) == 1


@pytest.mark.parametrize("dates", [("start", None), (None, "end")])
def test_a_promotion_with_only_one_of_its_dates_prices_an_order_line_at_the_normal_price(erp, dates) -> None:
    """As the catalogue reads it (both dates or no promotion running): an order line was priced
    with a comparison of a date to a missing one (a 500 from the ERP)."""
    import datetime as dt

    from sandbox.consinco.orders import resolve_item

    ps = t.mrl_prodempseg
    seq, today = _sellable_product(erp), erp.store.clock.today()
    day = {"start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=1), None: None}
    where = (ps.c.nroempresa == 1, ps.c.nrosegmento == 2, ps.c.seqproduto == seq, ps.c.qtdembalagem == 1)
    with erp.store.write() as (conn, _now):
        conn.execute(
            ps.update()
            .where(*where)
            .values(precovalidpromoc=1.0, dtainicioprom=day[dates[0]], dtafimprom=day[dates[1]])
        )
        normal = conn.execute(select(ps.c.precovalidnormal).where(*where)).scalar_one()
        found = resolve_item(conn, {"seqProduto": seq, "qtdEmbalagem": 1}, "itemDto[0]", 1, 2, today)
    assert found["vigente"] == normal and found["vlrembtabpromoc"] == 0.0

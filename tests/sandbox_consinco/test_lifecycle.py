"""Separate (cuts, substitutions, weights), invoice (valid 44-digit keys), cancel (NF-e cancelled);
each step appears in EventoPedido and moves MAD_PEDVENDA.DTAALTERACAO."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.lifecycle import OrderClock
from sandbox_consinco.helpers import key_is_valid, order_body


def test_independent_checker_agrees_with_public_fixtures():
    assert key_is_valid("35210320695448000184550010000035891981839923")
    assert key_is_valid("43140201098983010680657960000005991148127446")
    assert not key_is_valid("35210320695448000184550010000035891981839924")


def _products(erp, weighed: bool, n: int) -> list[tuple[int, str]]:
    p, f, c, ps = t.map_produto, t.map_familia, t.map_prodcodigo, t.mrl_prodempseg
    with erp.store.read() as conn:
        rows = conn.execute(
            select(p.c.seqproduto, c.c.codacesso)
            .join(f, f.c.seqfamilia == p.c.seqfamilia)
            .join(c, (c.c.seqproduto == p.c.seqproduto) & (c.c.qtdembalagem == 1))
            .join(
                ps,
                (ps.c.seqproduto == p.c.seqproduto)
                & (ps.c.qtdembalagem == 1)
                & (ps.c.nroempresa == 1)
                & (ps.c.nrosegmento == 2),
            )
            .where(
                f.c.pesavel == ("S" if weighed else "N"),
                p.c.indintegraecommerce == "S",
                ps.c.statusvenda == "A",
            )
            .order_by(p.c.seqproduto)
            .limit(n)
        ).all()
    return [tuple(r) for r in rows]


def _place(erp, external: str) -> tuple[int, list[tuple[int, str]], tuple[int, str]]:
    packed = _products(erp, False, 3)
    weighed = _products(erp, True, 1)[0]
    items = [{"codAcesso": code, "qtdPedida": 3} for _, code in packed[:2]]
    items.append({"codAcesso": weighed[1], "qtdPedida": 1.5})
    status, answer = erp.insert_order(order_body("", external=external, itemDto=items))
    assert status == 201
    return answer["nroPedVenda"], packed, weighed


def _changed_at(erp, nro: int):
    with erp.store.read() as conn:
        return conn.execute(
            select(t.mad_pedvenda.c.dtaalteracao).where(t.mad_pedvenda.c.nropedvenda == nro)
        ).scalar()


def test_separate_invoice_cancel_show_up_as_events(served, api):
    erp = served.erp
    nro, packed, _ = _place(erp, "life-1")
    placed_at = _changed_at(erp, nro)
    mark = api.get(f"{served.url}/api/v1/PedidoVenda/EventoPedido").json()["dtaHorSnapshot"]
    separated = served.erp.separate(
        nro,
        cuts={1: 1},
        substitutions=[{"seqItem": 2, "codAcesso": packed[2][1], "qtd": 3}],
        weights={3: 1.432},
    )
    assert _changed_at(erp, nro) > placed_at
    lines = {i["seqItem"]: i for i in separated["itens"]}
    assert lines[1]["qtdAtendida"] == 1 and lines[2]["qtdAtendida"] == 0 and lines[3]["qtdAtendida"] == 1.432
    assert (
        lines[4]["seqItemSubstituido"] == 2
        and lines[4]["seqProduto"] == packed[2][0]
        and lines[4]["qtdPedida"] == 0
    )
    invoiced = erp.invoice(nro, model="55")
    served_lines = sum(i["vlrTotalAtendido"] for i in invoiced["itens"])
    assert invoiced["situacaoPed"] == "F"
    assert invoiced["vlrTotalAtendido"] == round(served_lines + invoiced["vlrTotFrete"], 2)
    cancelled = erp.cancel(nro, "Cliente recusou na entrega")
    assert cancelled["documentosFiscais"][0]["statusDf"] == "C"

    events = api.get(f"{served.url}/api/v1/PedidoVenda/EventoPedido", params={"DtaHorAlteracao": mark}).json()
    kinds = [(e["tipoEvento"], e["situacaoPed"]) for e in events["items"]]
    assert kinds == [("S", "S"), ("F", "F"), ("C", "C")]
    sep, inv, can = events["items"]
    assert sep["alterado"] is True and sep["documentoFiscal"] is None
    fiscal = inv["documentoFiscal"]
    assert fiscal["modeloDf"] == "55" and fiscal["statusDf"] == "V" and key_is_valid(fiscal["chaveAcesso"])
    assert fiscal["chaveAcesso"][20:22] == "55" and fiscal["chaveAcesso"][6:20] == fiscal["cnpjEmitente"]
    assert fiscal["vlrTotal"] == inv["vlrTotalAtendido"]
    assert inv["rastreio"]["codigoRastreio"].startswith("SB")
    assert can["nfeCancelada"] is True and can["motivoCancelamento"] == "Cliente recusou na entrega"
    assert can["documentoFiscal"]["statusDf"] == "C"
    xml = api.get(fiscal["urlXml"])
    assert xml.status_code == 200 and fiscal["chaveAcesso"] in xml.text


def test_weighed_item_invoiced_weight_differs_by_default(erp):
    nro, _, _ = _place(erp, "life-2")
    order = erp.invoice(nro, model="65")
    weighed = next(i for i in order["itens"] if i["pesavel"])
    assert weighed["qtdAtendida"] != weighed["qtdPedida"]
    document = order["documentosFiscais"][0]
    assert document["modeloDf"] == "65" and key_is_valid(document["chaveAcesso"])


def test_numbers_are_sequential_and_keys_unique(erp):
    keys = []
    for n in range(3):
        nro, _, _ = _place(erp, f"seq-{n}")
        keys.append(erp.invoice(nro)["documentosFiscais"][0])
    assert [d["numeroDf"] for d in keys] == [1, 2, 3]
    assert len({d["chaveAcesso"] for d in keys}) == 3 and all(key_is_valid(d["chaveAcesso"]) for d in keys)


def test_invoicing_moves_stock_and_cancelling_returns_it(erp):
    nro, packed, _ = _place(erp, "stock-1")
    pe = t.mrl_produtoempresa
    where = (pe.c.nroempresa == 1, pe.c.seqproduto == packed[0][0])
    with erp.store.read() as conn:
        before = conn.execute(select(pe.c.estqloja, pe.c.qtdreservadavda).where(*where)).one()
    erp.invoice(nro)
    with erp.store.read() as conn:
        after = conn.execute(select(pe.c.estqloja, pe.c.qtdreservadavda).where(*where)).one()
    assert after.estqloja == before.estqloja - 3 and after.qtdreservadavda == max(
        0, before.qtdreservadavda - 3
    )
    erp.cancel(nro)
    with erp.store.read() as conn:
        assert conn.execute(select(pe.c.estqloja).where(*where)).scalar() == before.estqloja


def test_order_clock_moves_orders_by_itself(erp):
    nro, _, _ = _place(erp, "clock-1")
    clock = OrderClock(erp.store, separate_after=0, invoice_after=0)
    assert clock.tick() == 1 and erp.order(nro)["situacaoPed"] == "S"
    assert clock.tick() == 1 and erp.order(nro)["situacaoPed"] == "F"
    assert clock.tick() == 0


def test_lifecycle_control_endpoints(served, api):
    nro, _, _ = _place(served.erp, "ctl-1")
    root = served.root
    assert (
        api.post(f"{root}_sandbox/pedidos/{nro}/separar", json={"cortes": {"1": 2}}).json()["situacaoPed"]
        == "S"
    )
    answer = api.post(f"{root}_sandbox/pedidos/{nro}/faturar", json={"modelo": "65"}).json()
    assert key_is_valid(answer["documentosFiscais"][0]["chaveAcesso"])
    assert api.post(f"{root}_sandbox/pedidos/{nro}/cancelar", json={}).json()["situacaoPed"] == "C"
    again = api.post(f"{root}_sandbox/pedidos/{nro}/faturar", json={})
    assert again.status_code == 409 and again.json()["codigo"] == "PEDIDO_CANCELADO"


def test_tracking_given_after_invoicing_is_a_new_f_event_of_the_same_nfe(served, api):
    """A delivery invoiced before the carrier gave its code (`rastreio`: false) has an F event with
    no tracking; POST .../rastreio adds (or changes) it as another F event of the same NF-e and
    items. A url given is served as given; none given, the sandbox's tracking page."""
    nro, _, _ = _place(served.erp, "track-1")
    root = served.root
    early = api.post(f"{root}_sandbox/pedidos/{nro}/rastreio", json={"codigoRastreio": "X"})
    assert early.status_code == 409 and early.json()["codigo"] == "PEDIDO_NAO_FATURADO"
    mark = api.get(f"{served.url}/api/v1/PedidoVenda/EventoPedido").json()["dtaHorSnapshot"]
    invoiced = api.post(f"{root}_sandbox/pedidos/{nro}/faturar", json={"rastreio": False}).json()
    [document] = invoiced["documentosFiscais"]
    given = api.post(
        f"{root}_sandbox/pedidos/{nro}/rastreio",
        json={"codigoRastreio": "LG1", "transportadora": "Loggi", "url": "https://t.example/LG1"},
    )
    assert given.status_code == 200 and given.json()["situacaoPed"] == "F"
    changed = api.post(f"{root}_sandbox/pedidos/{nro}/rastreio", json={"codigoRastreio": "LG2"}).json()
    assert changed["seqEvento"] > given.json()["seqEvento"]
    wrong = api.post(f"{root}_sandbox/pedidos/{nro}/rastreio", json={"chave": "1" * 44})
    assert wrong.status_code == 404 and wrong.json()["codigo"] == "DOCUMENTO_NAO_ENCONTRADO"

    events = api.get(f"{served.url}/api/v1/PedidoVenda/EventoPedido", params={"DtaHorAlteracao": mark}).json()
    invoices = [e for e in events["items"] if e["nroPedVenda"] == nro and e["tipoEvento"] == "F"]
    assert [e["rastreio"] and e["rastreio"]["codigoRastreio"] for e in invoices] == [None, "LG1", "LG2"]
    assert {e["documentoFiscal"]["chaveAcesso"] for e in invoices} == {document["chaveAcesso"]}
    assert invoices[1]["itens"] == invoices[0]["itens"]
    assert invoices[1]["rastreio"] == {
        "transportadora": "Loggi",
        "codigoRastreio": "LG1",
        "url": "https://t.example/LG1",
    }
    assert invoices[2]["rastreio"]["transportadora"] == "SANDBOX LOG"
    assert invoices[2]["rastreio"]["url"].endswith("/_sandbox/rastreio/LG2")


def test_an_order_separated_is_picked_again_before_its_invoice(erp):
    """The store re-picks an order in S: the lines named change, the others keep the last picking
    (a weighed line is not weighed anew), and the invoice is of the picking as it is now."""
    nro, _, _ = _place(erp, "life-repick")
    first = erp.separate(nro, cuts={1: 1}, weights={3: 1.2})
    again = erp.separate(nro, cuts={1: 3}, weights={})
    before = {i["seqItem"]: i["qtdAtendida"] for i in first["itens"]}
    now = {i["seqItem"]: i["qtdAtendida"] for i in again["itens"]}
    assert (before[1], now[1]) == (1, 3) and now[2] == before[2] == 3 and now[3] == before[3] == 1.2
    assert again["situacaoPed"] == "S"
    invoiced = erp.invoice(nro, model="55")
    assert {i["seqItem"]: i["qtdAtendida"] for i in invoiced["itens"]} == now

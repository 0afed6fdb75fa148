"""Order JSON records (GET PedidoVenda/{nro}, EventoPedido) and the stock moves orders cause.

Kept apart from the commands so the insert/edit/cancel and the store's lifecycle share one
reading of MAD_PEDVENDA / MAD_PEDVENDAITEM / MFL_DOCTOFISCAL and one stock-move helper.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from sandbox.consinco import tables as t
from sandbox.consinco.catalogue import sku_id
from sandbox.consinco.errors import ErpError
from sandbox.consinco.paging import Resource, format_time

pv, pvi, doc = t.mad_pedvenda, t.mad_pedvendaitem, t.mfl_doctofiscal


def load_order(conn: Connection, nro: int, *, for_update: bool = False) -> RowMapping:
    """The MAD_PEDVENDA row, or 404 PEDIDO_NAO_ENCONTRADO."""
    query = select(pv).where(pv.c.nropedvenda == nro)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ErpError(404, "PEDIDO_NAO_ENCONTRADO", f"Pedido {nro} não encontrado.", "nroPedVenda")
    return row


def to_table(qty: float, qtdembalagem: int, unit: str) -> float:
    """A quantity the API was given (in `unit`, Store.quantity_unit) as MAD_PEDVENDAITEM holds it:
    base units, as public Consinco SQL reads the table (QTDPEDIDA / QTDEMBALAGEM packagings).
    A weighed item's KG packaging is 1: its kg either way."""
    return round(float(qty) * qtdembalagem, 3) if unit == "packaging" else float(qty)


def to_api(qty: float | None, qtdembalagem: int, unit: str) -> float | None:
    """A MAD_PEDVENDAITEM quantity (base units) as the API serves it in `unit`."""
    if qty is None or unit != "packaging":
        return qty
    return round(qty / qtdembalagem, 3)


def discount_to_table(value: float, packagings: float, per: str) -> float:
    """A vlrEmbDesconto the API was given (`per`, Store.discount_per: the line's or one
    packaging's) as MAD_PEDVENDAITEM holds it: one packaging's (one kg's for a weighed item), as
    every VLREMB* column is priced (VLREMBDESCONTO NUMERIC(17,6))."""
    if per == "packaging" or not value:
        return round(float(value), 6)
    return round(float(value) / packagings, 6) if packagings else 0.0


def discount_to_api(line: RowMapping | dict, per: str) -> float:
    """A line's VLREMBDESCONTO (one packaging's) as the API serves it in `per`: the line's whole
    discount is it times the packagings ordered."""
    if per == "packaging":
        return line["vlrembdesconto"]
    return round(line["vlrembdesconto"] * line["qtdpedida"] / line["qtdembalagem"], 2)


def line_total(qty: float | None, line: RowMapping | dict) -> float | None:
    """The value of `qty` base units of a line, as Consinco's SQL computes it: its packagings
    (qty / QTDEMBALAGEM) times the price of one (VLREMBINFORMADO) less the discount of one
    (VLREMBDESCONTO); a line served short loses its discount pro rata."""
    if qty is None:
        return None
    packagings = qty / line["qtdembalagem"]
    return round(packagings * (line["vlrembinformado"] - line["vlrembdesconto"]), 2)


def order_lines(conn: Connection, nro: int) -> list[RowMapping]:
    query = (
        select(pvi, t.map_familia.c.pesavel)
        .join(t.map_produto, t.map_produto.c.seqproduto == pvi.c.seqproduto)
        .join(t.map_familia, t.map_familia.c.seqfamilia == t.map_produto.c.seqfamilia)
        .where(pvi.c.nropedvenda == nro)
        .order_by(pvi.c.seqitem)
    )
    return list(conn.execute(query).mappings())


def item_record(line: RowMapping, unit: str, per: str) -> dict[str, Any]:
    """An ITEM of the order / event JSON, its quantities in the API's `unit`, its discount the
    API's way (`per`, Store.discount_per)."""
    return {
        "seqItem": line["seqitem"],
        "idSku": sku_id(line["seqproduto"], line["qtdembalagem"]),
        "seqProduto": line["seqproduto"],
        "codAcesso": line["codacesso"],
        "qtdEmbalagem": line["qtdembalagem"],
        "qtdPedida": to_api(line["qtdpedida"], line["qtdembalagem"], unit),
        "qtdAtendida": to_api(line["qtdatendida"], line["qtdembalagem"], unit),
        "vlrEmbTabPreco": line["vlrembtabpreco"],
        "vlrEmbTabPromoc": line["vlrembtabpromoc"],
        "vlrEmbInformado": line["vlrembinformado"],
        "vlrEmbDesconto": discount_to_api(line, per),
        "vlrTotalPedido": line_total(line["qtdpedida"], line),
        "vlrTotalAtendido": line_total(line["qtdatendida"], line),
        "pesavel": line["pesavel"] == "S",
        "seqItemSubstituido": line["seqitemsubst"],
        "observacaoItem": line["observacaoitem"],
    }


def totals(order: RowMapping, lines: Sequence[RowMapping]) -> tuple[float, float | None]:
    """(ordered total, served total or None before separation), freight included."""
    freight = order["vlrfreteped"] or 0.0
    ordered = round(sum(line_total(ln["qtdpedida"], ln) or 0.0 for ln in lines) + freight, 2)
    if all(ln["qtdatendida"] is None for ln in lines):
        return ordered, None
    served = round(sum(line_total(ln["qtdatendida"], ln) or 0.0 for ln in lines) + freight, 2)
    return ordered, served


def document_record(row: RowMapping | dict, cnpj: str, root: str) -> dict[str, Any]:
    key = row["nfechaveacesso"]
    return {
        "seqNf": row["seqnf"],
        "chaveAcesso": key,
        "numeroDf": row["numerodf"],
        "serieDf": row["seriedf"],
        "modeloDf": row["modelodf"],
        "statusDf": row["statusdf"],
        "dtaHorEmissao": format_time(row["dtahoremissao"]),
        "vlrTotal": row["vlrtotal"],
        "cnpjEmitente": cnpj,
        "urlDanfe": f"{root}_sandbox/nfe/{key}/danfe.html",
        "urlXml": f"{root}_sandbox/nfe/{key}/xml",
    }


def card_record(row: RowMapping | dict) -> dict[str, Any]:
    """A payment form's "cartao" [assumed]: what POST PedidoVenda/PagamentoCartao recorded."""
    return {
        "nsu": row["nsu"],
        "nroCartao": row["nrocartao"],
        "codRede": row["codrede"],
        "codBandeira": row["codbandeira"],
        "codBin": row["codbin"],
        "nroAutorizacao": row["nroautorizacao"],
    }


def order_cards(conn: Connection, nro: int) -> dict[str, dict[str, Any]]:
    """The order's card records by idPagtoCanalVenda (MAD_PEDVENDACARTAO [assumed])."""
    cards = t.mad_pedvendacartao
    rows = conn.execute(select(cards).where(cards.c.nropedvenda == nro)).mappings()
    return {row["idpagtocanalvenda"]: card_record(row) for row in rows}


def company_cnpj(conn: Connection, nroempresa: int) -> str:
    query = (
        select(t.ge_pessoa.c.nrocgccpf, t.ge_pessoa.c.digcgccpf)
        .join(t.max_empresa, t.max_empresa.c.seqpessoaemp == t.ge_pessoa.c.seqpessoa)
        .where(t.max_empresa.c.nroempresa == nroempresa)
    )
    body, digits = conn.execute(query).one()
    return body + digits


def order_record(conn: Connection, nro: int, root: str, unit: str, per: str) -> dict[str, Any]:
    """The GET PedidoVenda/{nroPedVenda} body, line quantities in `unit` (Store.quantity_unit),
    line discounts `per` line or packaging (Store.discount_per)."""
    order = load_order(conn, nro)
    lines = order_lines(conn, nro)
    ordered, served = totals(order, lines)
    person = (
        conn.execute(select(t.ge_pessoa).where(t.ge_pessoa.c.seqpessoa == order["seqpessoa"]))
        .mappings()
        .one()
    )
    payments = conn.execute(
        select(t.mad_pedvendaformapagto)
        .where(t.mad_pedvendaformapagto.c.nropedvenda == nro)
        .order_by("seqpagto")
    ).mappings()
    cards = order_cards(conn, nro)
    cnpj = company_cnpj(conn, order["nroempresa"])
    docs = conn.execute(select(doc).where(doc.c.nropedidovenda == nro).order_by(doc.c.seqnf)).mappings()
    return {
        "nroPedVenda": nro,
        "seqCanalVenda": order["seqcanalvenda"],
        "idPedidoCanalVenda": order["nropedcliente"],
        "nroEmpresa": order["nroempresa"],
        "nroSegmento": order["nrosegmento"],
        "situacaoPed": order["situacaoped"],
        "codGeralOper": order["codgeraloper"],
        "nroRepresentante": order["nrorepresentante"],
        "nroTabVenda": order["nrotabvenda"],
        "seqPessoa": order["seqpessoa"],
        "cpfCnpj": person["nrocgccpf"] + person["digcgccpf"],
        "tipoEntrega": order["indentregaretira"],
        "seqTransportador": order["seqtransportador"],
        "indIntermediador": order["indintermediador"],
        "vlrTotFrete": order["vlrfreteped"],
        "vlrTotalPedido": ordered,
        "vlrTotalAtendido": served,
        "obsPedido": order["obspedido"],
        "dtaInclusao": format_time(order["dtainclusao"]),
        "dtaAlteracao": format_time(order["dtaalteracao"]),
        "dtaHorSituacaoPedAlt": format_time(order["dtahorsituacaopedalt"]),
        "dtaCancelamento": format_time(order["dtacancelamento"]),
        "motCancelamento": order["motcancelamento"],
        "itens": [item_record(line, unit, per) for line in lines],
        "formasPagto": [
            {
                "nroFormaPagto": p["nroformapagto"],
                "vlrPagto": p["vlrpagto"],
                "qtdParcelas": p["qtdparcela"],
                "idPagtoCanalVenda": p["idpagtocanalvenda"],
                "cartao": cards.get(p["idpagtocanalvenda"]),
            }
            for p in payments
        ],
        "documentosFiscais": [document_record(d, cnpj, root) for d in docs],
    }


def move_stock(
    conn: Connection,
    now: dt.datetime,
    empresa: int,
    seqproduto: int,
    *,
    loja: float = 0.0,
    reserva: float = 0.0,
) -> None:
    """Change store stock and/or sale reservations (base units), moving DTAALTERACAO."""
    pe = t.mrl_produtoempresa
    row = conn.execute(
        select(pe.c.estqloja, pe.c.qtdreservadavda).where(
            pe.c.nroempresa == empresa, pe.c.seqproduto == seqproduto
        )
    ).first()
    if row is None:
        return
    values: dict[str, Any] = {
        "estqloja": round(row.estqloja + loja, 3),
        "qtdreservadavda": max(0.0, round(row.qtdreservadavda + reserva, 3)),
        "dtaalteracao": now,
    }
    if loja:
        values["dtahorultmovtoestq"] = now
    conn.execute(
        pe.update().where(pe.c.nroempresa == empresa, pe.c.seqproduto == seqproduto).values(**values)
    )


def event_resource(root: Callable[[], str]) -> Resource:
    """GET PedidoVenda/EventoPedido over MAD_PEDVENDAEVENTO [assumed]."""
    ev = t.mad_pedvendaevento

    def build(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
        base = root()
        items = []
        for row in rows:
            data = json.loads(row["dados"])
            fiscal = data.get("documentoFiscal")
            if fiscal:
                key = fiscal["chaveAcesso"]
                fiscal["urlDanfe"] = f"{base}_sandbox/nfe/{key}/danfe.html"
                fiscal["urlXml"] = f"{base}_sandbox/nfe/{key}/xml"
            if data.get("rastreio") and not data["rastreio"].get("url"):  # a given url is served as given
                data["rastreio"]["url"] = f"{base}_sandbox/rastreio/{data['rastreio']['codigoRastreio']}"
            items.append(
                {"seqEvento": row["seqevento"], "dtaHorEvento": format_time(row["dtahorevento"]), **data}
            )
        return items

    return Resource(
        "EventoPedido",
        select(ev),
        ev.c.dtahorevento,
        (ev.c.seqevento,),
        {"NroEmpresa": ev.c.nroempresa},
        build,
    )

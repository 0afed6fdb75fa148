"""Orders coming from the sales channel: POST PedidoVenda, PUT (edit), POST .../Cancelamento.

Insert is idempotent on (seqCanalVenda, idPedidoCanalVenda): the ERP answers the first
NROPEDVENDA again. Validation answers in the ERP's words (unknown product, invalid CPF/CNPJ
via python-stdnum, inactive company, unknown or inactive representative). Edit and cancel are
[assumed] designs: refused with 409 once the order is being separated (edit) or invoiced (both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from sandbox.consinco import tables as t
from sandbox.consinco.errors import ErpError, invalid, rejected
from sandbox.consinco.fiscal import document_kind, normalize_document, split_document
from sandbox.consinco.order_records import (
    discount_to_table,
    load_order,
    move_stock,
    order_lines,
    to_table,
    totals,
)
from sandbox.consinco.paging import parse_time
from sandbox.consinco.store import Store

EDITABLE = {"D", "A", "L"}
CONFLICT = {
    "S": ("PEDIDO_EM_SEPARACAO", "Pedido {nro} em separação: não pode ser alterado."),
    "F": ("PEDIDO_FATURADO", "Pedido {nro} já faturado: não pode ser alterado nem cancelado."),
    "C": ("PEDIDO_CANCELADO", "Pedido {nro} cancelado: não pode ser alterado."),
}


def _field(
    body: dict, name: str, kind: type | tuple[type, ...], *, required: bool = True, prefix: str = ""
) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(prefix + name, f"Campo obrigatório não informado: {prefix + name}.")
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise invalid(prefix + name, f"Campo {prefix + name} com tipo inválido.")
    return value


def _price_row(conn: Connection, empresa: int, segmento: int, seq: int, qtd: int) -> Any:
    ps = t.mrl_prodempseg
    return (
        conn.execute(
            select(ps).where(
                ps.c.nroempresa == empresa,
                ps.c.nrosegmento == segmento,
                ps.c.seqproduto == seq,
                ps.c.qtdembalagem == qtd,
            )
        )
        .mappings()
        .first()
    )


def resolve_item(
    conn: Connection, item: dict, campo: str, empresa: int, segmento: int, today: dt.date
) -> dict[str, Any]:
    """Find the product x packaging an item names and its table prices, or refuse it."""
    code = item.get("codAcesso")
    if code:
        found = (
            conn.execute(select(t.map_prodcodigo).where(t.map_prodcodigo.c.codacesso == str(code)))
            .mappings()
            .first()
        )
        if found is None:
            raise rejected(
                "PRODUTO_NAO_ENCONTRADO", f"Produto não encontrado: codAcesso {code}.", f"{campo}.codAcesso"
            )
        seq, qtd = found["seqproduto"], found["qtdembalagem"]
    else:
        seq = _field(item, "seqProduto", int, prefix=f"{campo}.")
        qtd = _field(item, "qtdEmbalagem", int, required=False, prefix=f"{campo}.") or 1
    p, e = t.map_produto, t.map_famembalagem
    product = conn.execute(
        select(p.c.seqproduto, p.c.indintegraecommerce, e.c.status)
        .outerjoin(e, (e.c.seqfamilia == p.c.seqfamilia) & (e.c.qtdembalagem == qtd))
        .where(p.c.seqproduto == seq)
    ).first()
    if product is None or product.status is None:
        raise rejected(
            "PRODUTO_NAO_ENCONTRADO",
            f"Produto não encontrado: seqProduto {seq} embalagem {qtd}.",
            f"{campo}.seqProduto",
        )
    price = _price_row(conn, empresa, segmento, seq, qtd)
    if (
        product.indintegraecommerce != "S"
        or product.status != "A"
        or price is None
        or price["statusvenda"] != "A"
    ):
        raise rejected(
            "PRODUTO_INATIVO",
            f"Produto {seq} embalagem {qtd} inativo para venda na empresa {empresa} segmento {segmento}.",
            f"{campo}.seqProduto",
        )
    promo = price["precovalidpromoc"] or 0.0
    start, end = price["dtainicioprom"], price["dtafimprom"]
    running = bool(promo and start and end and start <= today <= end)  # both dates, as the catalogue's
    return {
        "seqproduto": seq,
        "qtdembalagem": qtd,
        "codacesso": str(code) if code else None,
        "vlrembtabpreco": price["precovalidnormal"],
        "vlrembtabpromoc": promo if running else 0.0,
        "vigente": promo if running else price["precovalidnormal"],
    }


def _lines(
    conn: Connection, items: Any, empresa: int, segmento: int, today: dt.date, unit: str, per: str
) -> list[dict[str, Any]]:
    """MAD_PEDVENDAITEM rows of itemDto, whose qtdPedida counts `unit` (Store.quantity_unit) and
    whose vlrEmbDesconto is the line's or one packaging's (`per`, Store.discount_per)."""
    if not isinstance(items, list) or not items:
        raise invalid("itemDto", "O pedido deve ter ao menos um item (itemDto).")
    lines = []
    for index, item in enumerate(items):
        campo = f"itemDto[{index}]"
        if not isinstance(item, dict):
            raise invalid(campo, f"{campo} inválido.")
        qty = _field(item, "qtdPedida", (int, float), prefix=f"{campo}.")
        if qty <= 0:
            raise invalid(f"{campo}.qtdPedida", f"{campo}.qtdPedida deve ser maior que zero.")
        found = resolve_item(conn, item, campo, empresa, segmento, today)
        informed = _field(item, "vlrEmbInformado", (int, float), required=False, prefix=f"{campo}.")
        ordered = to_table(qty, found["qtdembalagem"], unit)
        lines.append(
            {
                "seqitem": index + 1,
                "seqproduto": found["seqproduto"],
                "codacesso": found["codacesso"],
                "qtdembalagem": found["qtdembalagem"],
                "qtdpedida": ordered,
                "qtdatendida": None,
                "vlrembtabpreco": float(item.get("vlrEmbTabPreco") or found["vlrembtabpreco"]),
                "vlrembtabpromoc": float(item.get("vlrEmbTabPromoc") or found["vlrembtabpromoc"]),
                "vlrembinformado": float(informed if informed is not None else found["vigente"]),
                "vlrembdesconto": discount_to_table(
                    item.get("vlrEmbDesconto") or 0.0, ordered / found["qtdembalagem"], per
                ),
                "observacaoitem": item.get("observacaoItem"),
                "seqitemsubst": None,
            }
        )
    return lines


def _reserve(conn: Connection, now: dt.datetime, empresa: int, lines: list, sign: float) -> None:
    for line in lines:
        qty = line["qtdatendida"] if line["qtdatendida"] is not None else line["qtdpedida"]
        move_stock(conn, now, empresa, line["seqproduto"], reserva=sign * qty)


# clienteDto field -> GE_PESSOA column.
PESSOA_FIELDS = {
    "nomeRazaoSocial": "nomerazao", "nomeFantasia": "fantasia", "cep": "cep", "cidade": "cidade",
    "uf": "uf", "bairro": "bairro", "logradouro": "logradouro", "nroLogradouro": "nrologradouro",
    "complementoLogradouro": "cmpltologradouro", "email": "email", "foneDdd1": "foneddd1",
    "foneNro1": "fonenro1", "inscEstadualRg": "inscricaorg",
}  # fmt: skip


def _customer(conn: Connection, now: dt.datetime, cliente: Any) -> int:
    if not isinstance(cliente, dict):
        raise invalid("clienteDto", "Campo obrigatório não informado: clienteDto.")
    raw = _field(cliente, "cpfCnpj", str, prefix="clienteDto.")
    kind = document_kind(raw)
    if kind is None:
        raise rejected("CPFCNPJ_INVALIDO", f"CPF/CNPJ inválido: {raw}.", "clienteDto.cpfCnpj")
    body, digits = split_document(normalize_document(raw))
    gp = t.ge_pessoa
    # Upsert by document: a field the body leaves out keeps what GE_PESSOA has; one given is
    # checked against its column's width (Oracle refuses a longer value, ORA-12899).
    given: dict[str, Any] = {"fisicajuridica": kind, "dtaalteracao": now}
    for field, column in PESSOA_FIELDS.items():
        if field not in cliente:
            continue
        value = cliente[field]
        width = gp.c[column].type.length
        if isinstance(value, str) and width is not None and len(value) > width:
            raise invalid(f"clienteDto.{field}", f"Campo clienteDto.{field} excede {width} caracteres.")
        given[column] = value
    if not given.get("nomerazao"):
        given.pop("nomerazao", None)
    existing = conn.execute(
        select(gp.c.seqpessoa).where(gp.c.nrocgccpf == body, gp.c.digcgccpf == digits)
    ).scalar_one_or_none()
    if existing is not None:
        conn.execute(gp.update().where(gp.c.seqpessoa == existing).values(**given))
        return existing
    values = {"nomerazao": "CONSUMIDOR", **given}
    seq = max(Store.next_id(conn, gp.c.seqpessoa), 1000)
    conn.execute(gp.insert().values(seqpessoa=seq, nrocgccpf=body, digcgccpf=digits, **values))
    return seq


def _company_segment(conn: Connection, body: dict) -> tuple[int, int]:
    empresa = _field(body, "nroEmpresa", int)
    company = (
        conn.execute(select(t.max_empresa).where(t.max_empresa.c.nroempresa == empresa)).mappings().first()
    )
    if company is None or company["status"] != "A":
        raise rejected("EMPRESA_INATIVA", f"Empresa {empresa} inativa ou não cadastrada.", "nroEmpresa")
    segmento = _field(body, "nroSegmento", int, required=False) or company["nrosegmentoprinc"]
    seg = (
        conn.execute(select(t.mad_segmento).where(t.mad_segmento.c.nrosegmento == segmento))
        .mappings()
        .first()
    )
    if seg is None or seg["status"] != "A":
        raise rejected("SEGMENTO_INVALIDO", f"Segmento {segmento} inativo ou não cadastrado.", "nroSegmento")
    return empresa, segmento


def _representative(conn: Connection, body: dict) -> int | None:
    """nroRepresentante: optional; when given, a representative registered and active in
    MAD_REPRESENTANTE [assumed], else the order is refused as an inactive company is."""
    number = _field(body, "nroRepresentante", int, required=False)
    if number is None:
        return None
    rep = t.mad_representante
    status = conn.execute(select(rep.c.status).where(rep.c.nrorepresentante == number)).scalar_one_or_none()
    if status != "A":
        raise rejected(
            "REPRESENTANTE_INVALIDO", f"Representante {number} inativo ou não cadastrado.", "nroRepresentante"
        )
    return number


def _price_table(body: dict) -> str | None:
    """nroTabVenda: optional; MAD_PEDVENDA.NROTABVENDA holds the table's code as text."""
    value = _field(body, "nroTabVenda", (int, str), required=False)
    return None if value is None else str(value)


def _payments(conn: Connection, nro: int, payments: Any) -> list[dict[str, Any]]:
    if payments is None:
        return []
    if not isinstance(payments, list):
        raise invalid("formaPagtoDto", "formaPagtoDto deve ser uma lista.")
    rows = []
    for index, pay in enumerate(payments):
        campo = f"formaPagtoDto[{index}]"
        if not isinstance(pay, dict):
            raise invalid(campo, f"{campo} inválido.")
        number = _field(pay, "nroFormaPagto", int, prefix=f"{campo}.")
        known = conn.execute(
            select(t.mrl_formapagto.c.status).where(t.mrl_formapagto.c.nroformapagto == number)
        )
        if known.scalar_one_or_none() != "A":
            raise rejected(
                "FORMAPAGTO_INVALIDA", f"Forma de pagamento {number} inválida.", f"{campo}.nroFormaPagto"
            )
        rows.append(
            {
                "nropedvenda": nro,
                "seqpagto": index + 1,
                "nroformapagto": number,
                "vlrpagto": float(_field(pay, "vlrPagto", (int, float), prefix=f"{campo}.")),
                "qtdparcela": int(pay.get("qtdParcelas") or 1),
                "idpagtocanalvenda": pay.get("idPagtoCanalVenda"),
            }
        )
    return rows


def _answer(conn: Connection, nro: int, duplicate: bool) -> dict[str, Any]:
    order = load_order(conn, nro)
    ordered, _ = totals(order, order_lines(conn, nro))
    return {
        "nroPedVenda": nro,
        "seqCanalVenda": order["seqcanalvenda"],
        "idPedidoCanalVenda": order["nropedcliente"],
        "situacaoPed": order["situacaoped"],
        "seqPessoa": order["seqpessoa"],
        "vlrTotalPedido": ordered,
        "duplicado": duplicate,
    }


def _intermediary(body: dict) -> int | None:
    """indIntermediador: the NF-e's indIntermed, 0 (the seller's own platform) or 1 (a third
    party's); optional, as the NF-e needs it only for a non-presential sale."""
    value = _field(body, "indIntermediador", int, required=False)
    if value not in (None, 0, 1):
        raise invalid("indIntermediador", "Campo indIntermediador inválido: informe 0 ou 1.")
    return value


def channel_order_id(body: dict) -> str:
    """idPedidoCanalVenda as NROPEDCLIENTE holds it: the channel's order id is the ERP's idempotency
    key, so one longer than the column is refused, never cut (two ids sharing their start would be
    answered as one order)."""
    external = str(_field(body, "idPedidoCanalVenda", (str, int)))
    width = t.mad_pedvenda.c.nropedcliente.type.length
    if len(external) > width:
        raise invalid("idPedidoCanalVenda", f"Campo idPedidoCanalVenda excede {width} caracteres.")
    return external


def insert_order(store: Store, body: Any) -> tuple[int, dict[str, Any]]:
    """POST PedidoVenda: (201, answer) for a new order, (200, first answer) for a repeat."""
    if not isinstance(body, dict):
        raise invalid(None, "Corpo da requisição deve ser um objeto JSON.")
    canal = _field(body, "seqCanalVenda", int)
    external = channel_order_id(body)
    _field(body, "codGeralOper", int)
    intermediador = _intermediary(body)
    with store.write() as (conn, now):
        first = conn.execute(
            select(t.mad_pedvenda.c.nropedvenda).where(
                t.mad_pedvenda.c.seqcanalvenda == canal, t.mad_pedvenda.c.nropedcliente == external
            )
        ).scalar_one_or_none()
        if first is not None:
            store.repeats[external] = store.repeats.get(external, 0) + 1
            return 200, _answer(conn, first, True)
        empresa, segmento = _company_segment(conn, body)
        representante = _representative(conn, body)
        seqpessoa = _customer(conn, now, body.get("clienteDto"))
        today = store.clock.today()
        lines = _lines(
            conn, body.get("itemDto"), empresa, segmento, today, store.quantity_unit, store.discount_per
        )
        nro = store.next_id(conn, t.mad_pedvenda.c.nropedvenda)
        payments = _payments(conn, nro, body.get("formaPagtoDto"))
        placed = body.get("dtaHorPedidoCanalVenda")
        conn.execute(
            t.mad_pedvenda.insert().values(
                nropedvenda=nro,
                seqcanalvenda=canal,
                nropedcliente=external,
                nroempresa=empresa,
                nrosegmento=segmento,
                seqpessoa=seqpessoa,
                situacaoped="L",
                codgeraloper=body["codGeralOper"],
                nroformapagto=payments[0]["nroformapagto"] if payments else None,
                nrotabvenda=_price_table(body),
                nrorepresentante=representante,
                indentregaretira="R" if body.get("tipoEntrega") == "R" else "E",
                seqtransportador=_field(body, "seqTransportador", int, required=False),
                indintermediador=intermediador,
                obspedido=body.get("obsPedido"),
                obsnotafiscal=body.get("obsNotaFiscal"),
                vlrfreteped=float(body.get("vlrTotFrete") or 0.0),
                dtahorpedcanalvenda=parse_time(placed, "dtaHorPedidoCanalVenda")
                if isinstance(placed, str)
                else None,
                dtainclusao=now,
                dtaalteracao=now,
                dtahorsituacaopedalt=now,
            )
        )
        conn.execute(t.mad_pedvendaitem.insert(), [{"nropedvenda": nro, **line} for line in lines])
        if payments:
            conn.execute(t.mad_pedvendaformapagto.insert(), payments)
        _reserve(conn, now, empresa, lines, +1)
        return 201, _answer(conn, nro, False)


def _refuse_unless(order: Any, allowed: set[str]) -> None:
    status = order["situacaoped"]
    if status not in allowed:
        codigo, message = CONFLICT[status]
        raise ErpError(409, codigo, message.format(nro=order["nropedvenda"]), "situacaoPed")


def edit_order(store: Store, nro: int, body: Any) -> None:
    """PUT PedidoVenda/{nro} [assumed]: replace lines / freight / payment forms / notes before
    separation. formaPagtoDto, when sent, replaces every MAD_PEDVENDAFORMAPAGTO row (checked as
    the insert checks it; NROFORMAPAGTO follows the first)."""
    if not isinstance(body, dict):
        raise invalid(None, "Corpo da requisição deve ser um objeto JSON.")
    with store.write() as (conn, now):
        order = load_order(conn, nro, for_update=True)
        _refuse_unless(order, EDITABLE)
        values: dict[str, Any] = {"dtaalteracao": now}
        if "itemDto" in body:
            new_lines = _lines(
                conn,
                body["itemDto"],
                order["nroempresa"],
                order["nrosegmento"],
                store.clock.today(),
                store.quantity_unit,
                store.discount_per,
            )
            _reserve(conn, now, order["nroempresa"], [dict(r) for r in order_lines(conn, nro)], -1)
            conn.execute(t.mad_pedvendaitem.delete().where(t.mad_pedvendaitem.c.nropedvenda == nro))
            conn.execute(t.mad_pedvendaitem.insert(), [{"nropedvenda": nro, **line} for line in new_lines])
            _reserve(conn, now, order["nroempresa"], new_lines, +1)
        if "vlrTotFrete" in body:
            values["vlrfreteped"] = float(_field(body, "vlrTotFrete", (int, float)))
        if "formaPagtoDto" in body:
            payments = _payments(conn, nro, body["formaPagtoDto"])
            pays = t.mad_pedvendaformapagto
            conn.execute(pays.delete().where(pays.c.nropedvenda == nro))
            if payments:
                conn.execute(pays.insert(), payments)
            values["nroformapagto"] = payments[0]["nroformapagto"] if payments else None
        if "obsPedido" in body:
            values["obspedido"] = body["obsPedido"]
        conn.execute(t.mad_pedvenda.update().where(t.mad_pedvenda.c.nropedvenda == nro).values(**values))


def cancel_from_channel(store: Store, nro: int, reason: str | None, record_event) -> None:
    """POST PedidoVenda/{nro}/Cancelamento [assumed]: allowed until invoiced; repeat is a no-op."""
    with store.write() as (conn, now):
        order = load_order(conn, nro, for_update=True)
        if order["situacaoped"] == "C":
            return
        _refuse_unless(order, EDITABLE | {"S"})
        _reserve(conn, now, order["nroempresa"], [dict(r) for r in order_lines(conn, nro)], -1)
        conn.execute(
            t.mad_pedvenda.update()
            .where(t.mad_pedvenda.c.nropedvenda == nro)
            .values(
                situacaoped="C",
                dtacancelamento=now,
                motcancelamento=(reason or "Cancelado pelo canal de venda")[:200],
                dtaalteracao=now,
                dtahorsituacaopedalt=now,
            )
        )
        record_event(conn, now, nro, "C", store.quantity_unit, store.discount_per, nfe_cancelled=False)

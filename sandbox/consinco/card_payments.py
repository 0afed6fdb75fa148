"""POST PedidoVenda/PagamentoCartao [assumed path]: the card data of one payment form of an order.

TDN names the call and its fields (the order by seqCanalVenda + idPedidoCanalVenda, its payment
form by idPagtoCanalVenda, then nsu, nroCartao, codRede, codBandeira, codBin, nroAutorizacao), not
its path, answer nor table. The sandbox keeps one MAD_PEDVENDACARTAO [assumed] row per order x
idPagtoCanalVenda: a repeat replaces the fields it gives and keeps those it leaves out (as the
customer upsert keeps GE_PESSOA's), and answers as the first call did. Refused: a body without the
order or its payment form (400), an unknown order (404), a payment form the order does not have
(422), a cancelled order (409), a codBin not of 6-8 digits or a text longer than its column (400).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.errors import ErpError, invalid, rejected
from sandbox.consinco.order_records import card_record
from sandbox.consinco.orders import _field, channel_order_id
from sandbox.consinco.store import Store

# body field -> MAD_PEDVENDACARTAO column; codes are text (an NSU or a BIN may start with 0), the
# network and brand numbers (Consinco's own codes for them)
TEXTS = {"nsu": "nsu", "nroCartao": "nrocartao", "codBin": "codbin", "nroAutorizacao": "nroautorizacao"}
NUMBERS = {"codRede": "codrede", "codBandeira": "codbandeira"}


def _card_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The columns the body gives (a null given clears its column; a field left out is kept)."""
    cards = t.mad_pedvendacartao
    given: dict[str, Any] = {}
    for field, column in NUMBERS.items():
        if field in body:
            given[column] = _field(body, field, int, required=False)
    for field, column in TEXTS.items():
        if field not in body:
            continue
        value = _field(body, field, (str, int), required=False)
        value = None if value is None else str(value)
        width = cards.c[column].type.length
        if value is not None and len(value) > width:
            raise invalid(field, f"Campo {field} excede {width} caracteres.")
        given[column] = value
    bin_ = given.get("codbin")
    if bin_ is not None and not (bin_.isascii() and bin_.isdigit() and 6 <= len(bin_) <= 8):
        raise invalid("codBin", f"Campo codBin inválido: {bin_} (informe de 6 a 8 dígitos).")
    return given


def record_card_payment(store: Store, body: Any) -> dict[str, Any]:
    """Record (or replace) the card data of one payment form; the answer: the order's keys and the
    card as the order's payment form now carries it."""
    if not isinstance(body, dict):
        raise invalid(None, "Corpo da requisição deve ser um objeto JSON.")
    canal = _field(body, "seqCanalVenda", int)
    external = channel_order_id(body)
    payment = str(_field(body, "idPagtoCanalVenda", (str, int)))
    given = _card_fields(body)
    pv, pays, cards = t.mad_pedvenda, t.mad_pedvendaformapagto, t.mad_pedvendacartao
    with store.write() as (conn, now):
        order = (
            conn.execute(select(pv).where(pv.c.seqcanalvenda == canal, pv.c.nropedcliente == external))
            .mappings()
            .first()
        )
        if order is None:
            raise ErpError(
                404,
                "PEDIDO_NAO_ENCONTRADO",
                f"Pedido não encontrado: seqCanalVenda {canal} idPedidoCanalVenda {external}.",
                "idPedidoCanalVenda",
            )
        nro = order["nropedvenda"]
        if order["situacaoped"] == "C":
            raise ErpError(
                409, "PEDIDO_CANCELADO", f"Pedido {nro} cancelado: não aceita dados de cartão.", "situacaoPed"
            )
        forms = conn.execute(select(pays.c.idpagtocanalvenda).where(pays.c.nropedvenda == nro)).scalars()
        if payment not in {str(form) for form in forms if form is not None}:
            raise rejected(
                "PAGAMENTO_NAO_ENCONTRADO",
                f"Pedido {nro} não tem forma de pagamento com idPagtoCanalVenda {payment}.",
                "idPagtoCanalVenda",
            )
        key = (cards.c.nropedvenda == nro) & (cards.c.idpagtocanalvenda == payment)
        if conn.execute(select(cards.c.nropedvenda).where(key)).first() is None:
            conn.execute(
                cards.insert().values(
                    nropedvenda=nro, idpagtocanalvenda=payment, dtainclusao=now, dtaalteracao=now, **given
                )
            )
        else:
            conn.execute(cards.update().where(key).values(dtaalteracao=now, **given))
        row = conn.execute(select(cards).where(key)).mappings().one()
        return {
            "nroPedVenda": nro,
            "seqCanalVenda": canal,
            "idPedidoCanalVenda": external,
            "idPagtoCanalVenda": payment,
            "cartao": card_record(row),
        }

"""Pure functions: typed order inputs -> the JSON bodies of POST/PUT PedidoVenda, cancel and the
card payment call.

Decimals leave as JSON numbers (shortest float text, which round-trips the 2-3 decimals the API
uses, and the six of a discount per packaging); date-times as UTC without offset (the API's format).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from erp.fields import iso
from erp.names import NAMES, Names
from erp.nfe_text import nfe_text
from erp.records import CardPaymentInput, CustomerInput, OrderInput, OrderLineInput, PaymentInput
from erp.text_width import within

PER_PACKAGING = Decimal("0.000001")  # VLREMBDESCONTO NUMERIC(17,6)


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# The widths of the GE_PESSOA columns clienteDto is upserted into (as the ERP sandbox models them;
# the NF-e's own limits for the recipient are 60): a longer value would fail the whole order, so
# it is cut here. Shopify allows 255 characters per address line. Not the CEP: one cut is another
# CEP (jobs.order_customer sends 8 digits or none). The address's texts (WHOLE_PARTS) give up whole
# ", " parts from their end and are cut between words, never inside a number (erp.text_width.within:
# "Condominio ..., Torre B, Apto 1203" cut by characters read "..., Apto 1", another apartment).
CUSTOMER_WIDTHS: dict[str, int] = {
    "name": 100, "trade_name": 100, "city": 60, "district": 60, "street": 100, "number": 10,
    "complement": 60, "email": 100, "nfe_email": 100, "phone_ddd": 3, "phone_number": 12,
    "state_registration": 20, "uf": 2,
}  # fmt: skip
WHOLE_PARTS = frozenset({"street", "complement", "district"})
# An address cut short is another (or no) mailbox: the register's and the NF-e XML's e-mail would
# go to a domain that does not exist. Wider than its column it is left out, so the ERP's upsert by
# document keeps the e-mail it has on file.
WHOLE_ONLY = frozenset({"email", "nfe_email"})


# The texts the NF-e prints (TString, Latin-1 only): the name and the address (erp.nfe_text).
NFE_TEXTS = ("name", "trade_name", "street", "number", "complement", "district", "city")


def customer_payload(customer: CustomerInput, names: Names = NAMES) -> dict[str, Any]:
    """clienteDto: the NF-e's texts within its character set (`nfe_text`), then every text cut to
    its column (CUSTOMER_WIDTHS, measured after; the address's by whole parts, then between words),
    so what the ERP stores is what the NF-e can print; fields the order does not know are left
    out, not sent as null, so the ERP's upsert by document
    keeps what it has on file (a company's state registration, its ICMS contributor flag). A name
    left with nothing (all emoji) is left out too, so the register keeps its own, and so is an e-mail
    wider than its column (WHOLE_ONLY: cut, it is another address)."""
    texts = {key: nfe_text(value) for key in NFE_TEXTS if isinstance(value := getattr(customer, key), str)}
    c = replace(customer, **{key: None if key in ("name", "trade_name") and not value else value
                             for key, value in texts.items()})  # fmt: skip
    c = replace(
        c,
        **{
            key: _fit(key, value, width)
            for key, width in CUSTOMER_WIDTHS.items()
            if isinstance(value := getattr(c, key), str) and len(value) > width
        },
    )
    return {key: value for key, value in _customer_fields(c, names).items() if value is not None}


def _fit(key: str, value: str, width: int) -> str | None:
    """A customer text wider than its column, within it: None (left out) for an e-mail, by whole
    parts for the address's texts, else cut by characters."""
    if key in WHOLE_ONLY:
        return None
    return within(value, width) if key in WHOLE_PARTS else value[:width].rstrip()


def _customer_fields(c: CustomerInput, names: Names) -> dict[str, Any]:
    n = names.fields["customer"]
    return {
        n["cpf_cnpj"]: c.cpf_cnpj, n["name"]: c.name, n["person_type"]: c.person_type,
        n["email"]: c.email, n["phone_ddd"]: c.phone_ddd, n["phone_number"]: c.phone_number,
        n["cep"]: c.cep, n["street"]: c.street, n["number"]: c.number, n["complement"]: c.complement,
        n["district"]: c.district, n["city"]: c.city, n["uf"]: c.uf, n["country"]: c.country,
        n["state_registration"]: c.state_registration, n["trade_name"]: c.trade_name, n["sex"]: c.sex,
        n["birth_date"]: c.birth_date.isoformat() if c.birth_date else None, n["nfe_email"]: c.nfe_email,
        n["marital_status"]: c.marital_status, n["icms_contributor"]: c.icms_contributor,
    }  # fmt: skip


def line_payload(line: OrderLineInput, names: Names = NAMES) -> dict[str, Any]:
    n = names.fields["order_line"]
    return {
        n["ean"]: line.ean,
        n["seq_produto"]: line.seq_produto,
        n["qty_ordered"]: _num(_qty_sent(line, names)),
        n["qtd_embalagem"]: _num(line.qtd_embalagem),
        n["table_price"]: _num(line.table_price),
        n["unit_price"]: _num(line.unit_price),
        n["promo_price"]: _num(line.promo_price),
        n["discount"]: _num(_discount_sent(line, names)),
        n["note"]: line.note,
    }


def _qty_sent(line: OrderLineInput, names: Names) -> Decimal:
    """qtdPedida as the ERP counts it (formats.quantity_unit, erp/names.py): the line's packagings,
    or base units (packagings x qtdEmbalagem; a weighed item's KG packaging is 1, so its kg)."""
    if not names.base_units:
        return line.qty
    if line.qtd_embalagem is None:
        raise ValueError("formats.quantity_unit 'base' needs each order line's qtd_embalagem")
    return line.qty * line.qtd_embalagem


def _discount_sent(line: OrderLineInput, names: Names) -> Decimal:
    """vlrEmbDesconto as the ERP reads it (formats.discount_per, erp/names.py): the line's whole
    discount, or one packaging's (kg for weighed items): discount / packagings to six decimals
    (VLREMBDESCONTO NUMERIC(17,6)), which times the packagings rounds back to the line's discount
    to the cent (the error is under half a millionth a packaging)."""
    if not names.discount_per_packaging or not line.discount:
        return line.discount
    return (line.discount / line.qty).quantize(PER_PACKAGING, ROUND_HALF_UP)


def payment_payload(payment: PaymentInput, names: Names = NAMES) -> dict[str, Any]:
    n = names.fields["payment"]
    return {
        n["nro_forma_pagto"]: payment.nro_forma_pagto,
        n["amount"]: _num(payment.amount),
        n["installments"]: payment.installments,
        n["channel_payment_id"]: payment.channel_payment_id,
    }


def order_payload(order: OrderInput, names: Names = NAMES) -> dict[str, Any]:
    """The POST PedidoVenda body; (seqCanalVenda, idPedidoCanalVenda) makes a retry idempotent.
    indIntermediador is always sent: the ERP issues the order's NF-e, which must say it.
    nroTabVenda is always sent (null unless the shop sets a sale table); nroRepresentante only
    when the shop sets one: an installation without representatives never sees the field."""
    n = names.fields["order"]
    return {
        n["seq_canal_venda"]: order.seq_canal_venda,
        n["channel_order_id"]: order.channel_order_id,
        n["ordered_at"]: iso(order.ordered_at, names.zone),
        n["nro_empresa"]: order.nro_empresa,
        n["nro_segmento"]: order.nro_segmento,
        n["cod_geral_oper"]: order.cod_geral_oper,
        n["price_table"]: order.price_table,
        **({n["representative"]: order.representative} if order.representative is not None else {}),
        n["delivery_type"]: order.delivery_type,
        **({n["carrier"]: order.carrier} if order.carrier is not None else {}),
        n["intermediary"]: order.intermediary,
        n["freight"]: _num(order.freight),
        n["obs"]: order.obs,
        n["invoice_obs"]: order.invoice_obs,
        n["customer_in"]: customer_payload(order.customer, names),
        n["lines_in"]: [line_payload(line, names) for line in order.lines],
        n["payments_in"]: [payment_payload(p, names) for p in order.payments],
        **names.order_header,  # the installation's own (erp.names: never one of the fields above)
    }


def edit_payload(
    lines: tuple[OrderLineInput, ...] | list[OrderLineInput] | None,
    freight: Decimal | None = None,
    obs: str | None = None,
    names: Names = NAMES,
    payments: tuple[PaymentInput, ...] | list[PaymentInput] | None = None,
) -> dict[str, Any]:
    """The PUT PedidoVenda/{nro} body: `lines` replaces every line, `payments` every payment form
    (so they still sum to the new total); omitted fields stay as they are."""
    n = names.fields["order"]
    body: dict[str, Any] = {}
    if lines is not None:
        if not lines:
            raise ValueError("an edit cannot leave an order without lines: cancel it instead")
        body[n["lines_in"]] = [line_payload(line, names) for line in lines]
    if freight is not None:
        body[n["freight"]] = _num(freight)
    if payments is not None:
        body[n["payments_in"]] = [payment_payload(p, names) for p in payments]
    if obs is not None:
        body[n["obs"]] = obs
    return body


def cancel_payload(reason: str | None, names: Names = NAMES) -> dict[str, Any]:
    return {} if reason is None else {names.fields["order"]["cancel_motive"]: reason}


def card_payment_payload(card: CardPaymentInput, names: Names = NAMES) -> dict[str, Any]:
    """The card payment call's body: the order (seqCanalVenda + idPedidoCanalVenda) and its payment
    form (idPagtoCanalVenda), always; the card's fields only when known. A None is left out, not
    sent as null, so a repeat that knows less (the authorisation code Shopify did not give this
    time) keeps what the ERP holds instead of blanking it, as `customer_payload` keeps GE_PESSOA's:
    the NSU and the authorisation are what the acquirer's statement is reconciled by, and a .NET
    DTO whose codRede / codBandeira is not nullable would refuse a null but take it left out."""
    n = names.fields["card_payment"]
    fields = {
        "nsu": card.nsu, "card_number": card.card_number, "network": card.network, "brand": card.brand,
        "bin": card.bin, "authorization": card.authorization,
    }  # fmt: skip
    return {
        n["seq_canal_venda"]: card.seq_canal_venda,
        n["channel_order_id"]: card.channel_order_id,
        n["channel_payment_id"]: card.channel_payment_id,
        **{n[key]: value for key, value in fields.items() if value is not None},
    }

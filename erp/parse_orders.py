"""Pure functions: Consinco order, order event, invoice and insert answers -> typed records.

Lines, invoices and tracking are shared by GET PedidoVenda/{nro} and EventoPedido, so their
readers take `where` (the endpoint) to name it in any ErpUnexpectedShape.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from erp import fields as f
from erp.errors import ErpUnexpectedShape
from erp.names import NAMES, Names
from erp.records import (
    InsertResult,
    Invoice,
    Order,
    OrderCard,
    OrderEvent,
    OrderLine,
    OrderPayment,
    Tracking,
)

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


def parse_order_line(raw: Any, where: str, names: Names = NAMES) -> OrderLine:
    """A line of an order or of an order event, its quantities in packagings (kg for weighed
    items) whichever unit the ERP counts them in (formats.quantity_unit, erp/names.py), and its
    discount the line's whichever way the ERP writes it (formats.discount_per)."""
    n = names.fields["order_line"]
    r = f.obj(raw, where, names.fields["order"]["lines"])
    packaging = f.dec(r, n["qtd_embalagem"], where)
    ordered, served = f.dec(r, n["qty_ordered"], where), f.opt_dec(r, n["qty_served"], where)
    if names.base_units:
        if packaging <= 0:
            raise ErpUnexpectedShape(where, n["qtd_embalagem"], "is not a positive number", packaging)
        ordered, served = ordered / packaging, None if served is None else served / packaging
    discount = f.opt_dec(r, n["discount"], where) or _ZERO
    if names.discount_per_packaging:
        discount = (discount * ordered).quantize(_CENT, ROUND_HALF_UP)
    return OrderLine(
        seq_item=f.int_(r, n["seq_item"], where),
        id_sku=f.opt_str(r, n["id_sku"], where),
        seq_produto=f.int_(r, n["seq_produto"], where),
        ean=f.opt_str(r, n["ean"], where),
        qtd_embalagem=packaging,
        qty_ordered=ordered,
        qty_served=served,
        table_price=f.opt_dec(r, n["table_price"], where),
        promo_price=f.opt_dec(r, n["promo_price"], where),
        unit_price=f.dec(r, n["unit_price"], where),
        discount=discount,
        total_ordered=f.opt_dec(r, n["total_ordered"], where),
        total_served=f.opt_dec(r, n["total_served"], where),
        weighed=f.flag(r, n["weighed"], where, default=False),
        replaces_seq_item=f.opt_int(r, n["replaces_seq_item"], where),
    )


def parse_invoice(raw: Any, where: str, names: Names = NAMES) -> Invoice:
    n = names.fields["invoice"]
    r = f.obj(raw, where, "documentoFiscal")
    return Invoice(
        seq_nf=f.opt_int(r, n["seq_nf"], where),
        key=f.str_(r, n["key"], where),
        number=f.int_(r, n["number"], where),
        series=f.str_(r, n["series"], where),
        model=f.str_(r, n["model"], where),
        status=names.nfe_status(f.str_(r, n["status"], where)),
        issued_at=f.when(r, n["issued_at"], where, names.zone),
        total=f.dec(r, n["total"], where),
        issuer_cnpj=f.opt_str(r, n["issuer_cnpj"], where),
        danfe_url=f.opt_str(r, n["danfe_url"], where),
        xml_url=f.opt_str(r, n["xml_url"], where),
    )


def parse_tracking(raw: Any, where: str, names: Names = NAMES) -> Tracking:
    n = names.fields["tracking"]
    r = f.obj(raw, where, "rastreio")
    return Tracking(
        carrier=f.opt_str(r, n["carrier"], where),
        code=f.str_(r, n["code"], where),
        url=f.opt_str(r, n["url"], where),
    )


def parse_card(raw: Any, where: str, names: Names = NAMES) -> OrderCard:
    """A payment form's card data (payment.card, [assumed]), as the card payment call left it."""
    n = names.fields["card_payment"]
    r = f.obj(raw, where, names.fields["payment"]["card"])
    return OrderCard(
        nsu=f.opt_str(r, n["nsu"], where),
        card_number=f.opt_str(r, n["card_number"], where),
        network=f.opt_int(r, n["network"], where),
        brand=f.opt_int(r, n["brand"], where),
        bin=f.opt_str(r, n["bin"], where),
        authorization=f.opt_str(r, n["authorization"], where),
    )


def parse_payment(raw: Any, where: str, names: Names = NAMES) -> OrderPayment:
    p = names.fields["payment"]
    x = f.obj(raw, where, names.fields["order"]["payments"])
    card = x.get(p["card"])
    return OrderPayment(
        nro_forma_pagto=f.int_(x, p["nro_forma_pagto"], where),
        amount=f.dec(x, p["amount"], where),
        installments=f.opt_int(x, p["installments"], where),
        channel_payment_id=f.opt_str(x, p["channel_payment_id"], where),
        card=None if card is None else parse_card(card, where, names),
    )


def parse_order(raw: Any, names: Names = NAMES) -> Order:
    n, w = names.fields["order"], names.paths["order"]
    r = f.obj(raw, w)
    payments = tuple(parse_payment(x, w, names) for x in f.seq(r, n["payments"], w))
    return Order(
        nro_pedvenda=f.int_(r, n["nro_pedvenda"], w),
        seq_canal_venda=f.opt_int(r, n["seq_canal_venda"], w),
        channel_order_id=f.opt_str(r, n["channel_order_id"], w),
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        nro_segmento=f.opt_int(r, n["nro_segmento"], w),
        situacao=f.str_(r, n["situacao"], w),
        cod_geral_oper=f.opt_int(r, n["cod_geral_oper"], w),
        seq_pessoa=f.opt_int(r, n["seq_pessoa"], w),
        cpf_cnpj=f.opt_str(r, n["cpf_cnpj"], w),
        freight=f.opt_dec(r, n["freight"], w) or _ZERO,
        total=f.dec(r, n["total"], w),
        total_served=f.opt_dec(r, n["total_served"], w),
        obs=f.opt_str(r, n["obs"], w),
        created_at=f.opt_when(r, n["created_at"], w, names.zone),
        changed_at=f.opt_when(r, n["changed_at"], w, names.zone),
        status_changed_at=f.opt_when(r, n["status_changed_at"], w, names.zone),
        cancelled_at=f.opt_when(r, n["cancelled_at"], w, names.zone),
        cancel_reason=f.opt_str(r, n["cancel_reason"], w),
        lines=tuple(parse_order_line(x, w, names) for x in f.seq(r, n["lines"], w)),
        payments=payments,
        invoices=tuple(parse_invoice(x, w, names) for x in f.seq(r, n["invoices"], w)),
    )


def parse_order_event(raw: Any, names: Names = NAMES) -> OrderEvent:
    n, w = names.fields["event"], names.paths["order_events"]
    r = f.obj(raw, w)
    # S, F, C as the installation's codes say (formats.event_*); another kind is read and left to the
    # poller to trace as unknown
    kind = names.event_kind(f.str_(r, n["kind"], w))
    invoice = r.get(n["invoice"])
    tracking = r.get(n["tracking"])
    lines = tuple(parse_order_line(x, w, names) for x in f.seq(r, n["lines"], w))
    # `alterado` sums up the lines (docs/consinco-api.md, EventoPedido): left out, the lines say it
    altered = _altered(lines) if r.get(n["altered"]) is None else f.flag(r, n["altered"], w)
    return OrderEvent(
        seq_evento=f.int_(r, n["seq_evento"], w),
        kind=kind,
        nro_pedvenda=f.int_(r, n["nro_pedvenda"], w),
        seq_canal_venda=f.opt_int(r, n["seq_canal_venda"], w),
        channel_order_id=f.opt_str(r, n["channel_order_id"], w),
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        situacao=f.opt_str(r, n["situacao"], w),
        occurred_at=f.when(r, n["occurred_at"], w, names.zone),
        altered=altered,
        total=f.opt_dec(r, n["total"], w),
        total_served=f.opt_dec(r, n["total_served"], w),
        lines=lines,
        invoice=None if invoice is None else parse_invoice(invoice, w, names),
        tracking=None if tracking is None else parse_tracking(tracking, w, names),
        cancel_reason=f.opt_str(r, n["cancel_reason"], w),
        nfe_cancelled=f.flag(r, n["nfe_cancelled"], w, default=False),
    )


def _altered(lines: tuple[OrderLine, ...]) -> bool:
    """What `alterado` says: a line served other than ordered (a cut, a weight), or a substitute."""
    return any(
        line.is_substitute or (line.qty_served is not None and line.qty_served != line.qty_ordered)
        for line in lines
    )


def parse_insert_result(raw: Any, names: Names = NAMES) -> InsertResult:
    n, w = names.fields["order"], names.paths["orders"]
    r = f.obj(raw, w)
    return InsertResult(
        nro_pedvenda=f.int_(r, n["nro_pedvenda"], w),
        duplicated=f.flag(r, n["duplicated"], w, default=False),
        situacao=f.opt_str(r, n["situacao"], w),  # the answer's body is not public: only the number counts
        seq_pessoa=f.opt_int(r, n["seq_pessoa"], w),
        total=f.opt_dec(r, n["total"], w),
    )

"""What the import POSTs to the ERP, kept on its message so the same order can be posted again.

Why: when the ERP's answer to POST PedidoVenda is lost (a timeout after the ERP committed), the
OrderLink has no NROPEDVENDA and the only way to learn it is to post again: the ERP is idempotent
on (seqCanalVenda, idPedidoCanalVenda) and answers the order it holds. That second post must not
depend on the order as Shopify shows it by then: a cancel (refund + restock) leaves every line's
currentQuantity and the current total at 0, a full refund or a voided authorisation makes it
"not to be paid", an edit changes its lines, a binding, a payment mapping or the sales channel
setting may have changed. Mapping it again, even leniently (from the lines' ordered `quantity`,
skipping the total checks), would still fail on a mapping removed since, or post under another
idempotency key (a changed seqCanalVenda: a second ERP order). So the input of the POST is kept
(request payload key "posted", written with the link, before the POST) and posted again as it
was: the same key, company, lines, payments and freight.

Personal data: the customer (clienteDto) and the order's observation (it carries the order's
note) are not kept. They are mapped again from the order, which neither a cancel nor a refund
changes; the ERP answers a repeat with the order it holds anyway. So this payload holds no PII,
and the redaction of a customer (ledger/privacy.py) has nothing to erase in it.

The kept input is dropped when the ERP refuses the POST itself (400/422: it read the body, so
it holds no order under that key): the next attempt maps the order as it is now, so a fix made
in Shopify or in the bindings is picked up.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from erp.errors import ErpAuthError, ErpRejected
from erp.records import OrderInput, OrderLineInput, PaymentInput
from jobs.order_customer import map_customer
from jobs.order_map import MappedOrder, observation

KEY = "posted"
REFUSED_BODY = (400, 422)  # the ERP read the body and refused it: it holds no order under the key
LINE_DECIMALS = frozenset({"qty", "qtd_embalagem", "unit_price", "table_price", "promo_price", "discount"})
HEADER = ("seq_canal_venda", "channel_order_id", "nro_empresa", "cod_geral_oper", "nro_segmento",
          "delivery_type", "price_table", "carrier")  # fmt: skip


@dataclass(frozen=True)
class Replayed:
    """The input of an earlier POST, ready to be posted again (what `_prepare` returns instead of a
    MappedOrder when the ERP's answer was lost)."""

    order_input: OrderInput
    erp_total: Decimal


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def kept(mapped: MappedOrder) -> dict[str, Any]:
    """The JSON-ready input of the POST, without the customer and the observation."""
    order = mapped.order_input
    return {
        **{name: getattr(order, name) for name in HEADER},
        "ordered_at": order.ordered_at.isoformat(),
        "freight": str(order.freight),
        "lines": [{f.name: _plain(getattr(line, f.name)) for f in fields(line)} for line in order.lines],
        "payments": [{f.name: _plain(getattr(p, f.name)) for f in fields(p)} for p in order.payments],
        "erp_total": str(mapped.erp_total),
    }


def stored(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The input kept on an orders message's request payload, or None."""
    value = (request or {}).get(KEY)
    return value if isinstance(value, dict) else None


def forget(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request payload without the kept input (a new dict: the column is JSON)."""
    if not request or KEY not in request:
        return request
    return {key: value for key, value in request.items() if key != KEY}


def refused_by_erp(exc: BaseException) -> bool:
    """Whether the ERP refused the POST's body (so it holds no order under its key). A refused
    login or a missing endpoint says nothing about an earlier POST whose answer was lost."""
    return isinstance(exc, ErpRejected) and not isinstance(exc, ErpAuthError) and exc.status in REFUSED_BODY


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def replayed(posted: dict[str, Any], order: Any) -> Replayed:
    """The kept input with the customer and the observation mapped again from `order`.

    Raises:
        InvalidTaxId (Rejected): the order's CPF/CNPJ is missing or invalid now.
    """
    lines = tuple(
        OrderLineInput(**{k: _decimal(v) if k in LINE_DECIMALS else v for k, v in line.items()})
        for line in posted["lines"]
    )
    payments = tuple(PaymentInput(**{**p, "amount": Decimal(str(p["amount"]))}) for p in posted["payments"])
    order_input = OrderInput(
        **{name: posted.get(name) for name in HEADER if name in posted},
        ordered_at=datetime.fromisoformat(posted["ordered_at"]),
        customer=map_customer(order),
        lines=lines,
        payments=payments,
        freight=Decimal(posted["freight"]),
        obs=observation(order),
    )
    return Replayed(order_input, Decimal(posted["erp_total"]))

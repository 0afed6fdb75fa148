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

Whether the ERP may hold the order (request payload key "maybe_taken"): written False with the
kept input, set True (committed) just before each POST, so a POST whose outcome is unknown (a
timeout, an answer the client cannot read, the worker killed mid-call) leaves it True. The ERP
answering a POST with a refusal (ErpRejected: the body refused, the login refused, no such
endpoint) means it holds nothing from that POST: the mark goes back to what the earlier POSTs
left. Unless the refusal answered an attempt the transport sent again after one whose answer was
lost (ErpRejected.maybe_taken: erp/transport.py): that earlier attempt may be in the ERP. A kept
input with no such key (kept before it was recorded) counts as maybe taken.

The kept input is dropped when the ERP refuses a POST and no earlier POST may have been taken
(then the ERP holds nothing under the key): the next attempt maps the order as it is now, so a
fix made in Shopify or in the bindings is picked up. When an earlier POST may have been taken it
is kept whatever the ERP answers: mapped again, a cancelled or refunded order has nothing to post
(its lines at 0, "will not be paid"), so its number, and the ERP order it names, could never be
learned; the fix is then made in the ERP (the client unblocked, the product reactivated) and the
same input posted again.

An order whose kept input is not maybe taken is not in the ERP: the import maps it as it is now
(a cancelled one is skipped) and its cancellation closes it as never sent
(jobs.cancellations.to_erp).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from erp.records import OrderInput, OrderLineInput, PaymentInput
from jobs.order_customer import map_customer
from jobs.order_map import MappedOrder, observation

KEY = "posted"
TAKEN = "maybe_taken"  # whether a POST of the kept input may be in the ERP
LINE_DECIMALS = frozenset({"qty", "qtd_embalagem", "unit_price", "table_price", "promo_price", "discount"})
# An input kept before a key was (`representative`) is posted again without it, as it was posted.
HEADER = ("seq_canal_venda", "channel_order_id", "nro_empresa", "cod_geral_oper", "nro_segmento",
          "delivery_type", "price_table", "representative", "carrier", "intermediary")  # fmt: skip


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


def maybe_taken(request: dict[str, Any] | None) -> bool:
    """Whether the ERP may hold the order: its input is kept and a POST of it may have been taken."""
    return stored(request) is not None and bool((request or {}).get(TAKEN, True))


def posting(request: dict[str, Any]) -> dict[str, Any]:
    """The request marked, before a POST, as maybe taken (a new dict: the column is JSON)."""
    return {**request, TAKEN: True}


def refused(request: dict[str, Any] | None, earlier: bool) -> dict[str, Any] | None:
    """The request once the ERP answered a POST with a refusal (it holds nothing from that POST):
    maybe taken as the earlier POSTs left it (`earlier`), and without the kept input when none of
    them may have been taken (the ERP holds nothing under the key)."""
    return {**(request or {}), TAKEN: True} if earlier else forget(request)


def forget(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request payload without the kept input (a new dict: the column is JSON)."""
    if not request or (KEY not in request and TAKEN not in request):
        return request
    return {key: value for key, value in request.items() if key not in (KEY, TAKEN)}


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def replayed(posted: dict[str, Any], order: Any, slot_keys: Sequence[str] = ()) -> Replayed:
    """The kept input with the customer and the observation mapped again from `order` (`slot_keys`:
    the attributes its delivery slot is in, jobs.order_slot).

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
        obs=observation(order, slot_keys),
    )
    return Replayed(order_input, Decimal(posted["erp_total"]))

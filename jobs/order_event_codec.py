"""An EventoPedido record as stored in its message's request_payload, and back (JSON-safe)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from erp.records import Invoice, OrderEvent, OrderLine, Tracking


def event_payload(event: OrderEvent) -> dict[str, Any]:
    """The event as JSON for the message's request_payload (decimals and times as text)."""
    return _jsonable(dataclasses.asdict(event))


def event_from_payload(payload: dict[str, Any]) -> OrderEvent:
    """The OrderEvent back from `event_payload`."""
    p = dict(payload)
    return OrderEvent(
        seq_evento=int(p["seq_evento"]),
        kind=p["kind"],
        nro_pedvenda=int(p["nro_pedvenda"]),
        seq_canal_venda=p.get("seq_canal_venda"),
        channel_order_id=p.get("channel_order_id"),
        nro_empresa=int(p["nro_empresa"]),
        situacao=p.get("situacao"),
        occurred_at=datetime.fromisoformat(p["occurred_at"]),
        altered=bool(p.get("altered")),
        total=_dec(p.get("total")),
        total_served=_dec(p.get("total_served")),
        lines=tuple(_line(raw) for raw in p.get("lines") or ()),
        invoice=_invoice(p["invoice"]) if p.get("invoice") else None,
        tracking=Tracking(**p["tracking"]) if p.get("tracking") else None,
        cancel_reason=p.get("cancel_reason"),
        nfe_cancelled=bool(p.get("nfe_cancelled")),
    )


def _line(raw: dict[str, Any]) -> OrderLine:
    decimals = {"qtd_embalagem", "qty_ordered", "qty_served", "table_price", "promo_price", "unit_price",
                "discount", "total_ordered", "total_served"}  # fmt: skip
    values = {k: (_dec(v) if k in decimals else v) for k, v in raw.items()}
    return OrderLine(**values)


def _invoice(raw: dict[str, Any]) -> Invoice:
    values = dict(raw)
    values["issued_at"] = datetime.fromisoformat(values["issued_at"])
    values["total"] = _dec(values["total"])
    return Invoice(**values)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value

"""An order entered in the ERP by hand, linked to its Shopify order by a person.

When the import refuses an order only a person can send (taxes added on top, a tax id or totals the
ERP will not take, a B2B location without CNPJ...), the merchant types it in the ERP. That ERP order
carries no channel id of the Shopify order (or another channel's, or the order's name typed in
NROPEDCLIENTE) and a NROPEDVENDA the app never learned, so its events (S picking, F invoice, C
cancellation) were skipped as "not linked to any Shopify order": no NF-e on the order, no capture
(an authorisation lapses in about 7 days), no fulfilment. Linking it (the Orders page, POST
/api/orders/<id>/erp-order; the ERP order is read first by the API) makes the order's link what
the import would have left, and more:

- `OrderLink.nro_pedvenda` (and its company and status), so the order is "in the ERP", Shopify's
  edits and cancellations go to that ERP order, and the reconciliation compares it;
- `OrderLink.hand_linked_erp`, the ERP generation now: `jobs.order_events.find_link` takes the
  order's events by NROPEDVENDA whatever channel id they carry, and the poller whatever sales
  channel, while the shop stays on that ERP (another ERP's same number is another order);
- its orders message closed as handled (`ledger.handled`, naming the ERP order), so the import
  never posts it again and "Needs attention" lets it go;
- the events of that number the poller already skipped as not linked (of the ERP used now) made
  pending again, all in this transaction before any is enqueued, so `wait_for_earlier` keeps their
  order (S before F before C) when their replays run; a replay lost to Redis is a pending event
  message the orders catch-up replays.

`refusal` says why a number cannot be linked: one linked to another Shopify order of the shop,
an ERP order cancelled (its C event would cancel this order), or one the ERP says came from another
Shopify order through this shop's channel (the app's own import of that order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import handled, trace
from ledger.models import ErpConnection, Message, MessageStatus, OrderLink, utcnow

EVENT_FLOWS = ("order_edits", "invoices", "cancellations")  # jobs.order_events.FLOW_BY_KIND
# jobs.order_events.UNKNOWN_ORDER, as the reconciliation matches it too.
UNKNOWN_ORDER_LIKE = "ERP order % is not linked%"
RUNNING = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)


@dataclass(frozen=True)
class ErpOrder:
    """What the link needs of the ERP order read (erp.records.Order)."""

    nro_pedvenda: int
    nro_empresa: int | None
    situacao: str
    seq_canal_venda: int | None
    channel_order_id: str | None


@dataclass(frozen=True)
class Linked:
    orders_message: int | None  # the orders message closed as handled
    events: list[int]  # the event messages made pending again, oldest event first


def generation(session: Session, shop_id: int) -> int:
    """The generation of the ERP the shop is connected to now (jobs.order_events.erp_generation)."""
    return session.scalar(select(ErpConnection.generation).where(ErpConnection.shop_id == shop_id)) or 0


def orders_message(session: Session, link: OrderLink) -> Message | None:
    """The order's import message (jobs.orders: unit "order:<numeric id>")."""
    num = link.shopify_order_id.rsplit("/", 1)[-1]
    return session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id, Message.flow == "orders", Message.unit_key == f"order:{num}"
        )
    ).one_or_none()


def busy(message: Message | None) -> bool:
    """The import is running (a job holds it): linking now could race its POST."""
    return message is not None and message.status in RUNNING and not trace.is_waiting(message)


def taken_by(session: Session, link: OrderLink, nro: int) -> OrderLink | None:
    """Another order link of the shop holding that ERP number."""
    return session.scalars(
        select(OrderLink).where(
            OrderLink.shop_id == link.shop_id, OrderLink.nro_pedvenda == nro, OrderLink.id != link.id
        )
    ).first()


def refusal(session: Session, link: OrderLink, order: ErpOrder, channel: int | None) -> str | None:
    """Why `order` cannot be linked to `link` (`channel`: the shop's seqCanalVenda), else None."""
    other = taken_by(session, link, order.nro_pedvenda)
    if other is not None:
        return (
            f"ERP order {order.nro_pedvenda} is already linked to Shopify order "
            f"{other.shopify_order_name or other.shopify_order_id}"
        )
    if order.situacao == "C":
        return (
            f"ERP order {order.nro_pedvenda} is cancelled in the ERP: its cancellation would cancel "
            "this order"
        )
    named = (order.channel_order_id or "").rsplit("/", 1)[-1]
    own = link.shopify_order_id.rsplit("/", 1)[-1]
    ours = channel is not None and order.seq_canal_venda == channel
    if ours and named.isdigit() and named != own:
        return (
            f"ERP order {order.nro_pedvenda} came from another Shopify order (channel order id "
            f"{order.channel_order_id}) through this store's sales channel"
        )
    return None


def link(session: Session, link: OrderLink, order: ErpOrder, *, by: str) -> Linked:
    """Link `link` to the ERP order typed by hand, close its import as handled and make the ERP
    events already skipped for that number pending again (the caller enqueues their replays after
    the commit, oldest first, and audits)."""
    now = utcnow()
    link.nro_pedvenda = order.nro_pedvenda
    link.nro_empresa = order.nro_empresa if order.nro_empresa is not None else link.nro_empresa
    link.erp_status = order.situacao
    current = generation(session, link.shop_id)
    link.hand_linked_erp = current
    link.updated_at = now
    imported = orders_message(session, link)
    closed = None
    if imported is not None and handled.can_mark(imported):
        note = f"entered in the ERP by hand: linked to ERP order {order.nro_pedvenda}"
        handled.mark(session, imported, by=by, note=note, extra={"erp_order": order.nro_pedvenda})
        closed = imported.id
    elif imported is not None and handled.info(imported) is not None:
        detail = dict(imported.error_detail or {})  # closed as handled before: it names the ERP order now
        detail[handled.KEY] = {**detail[handled.KEY], "erp_order": order.nro_pedvenda}
        imported.error_detail = detail
        closed = imported.id
    return Linked(closed, _pick_up_skipped(session, link, order.nro_pedvenda, current, now))


def _pick_up_skipped(session: Session, link: OrderLink, nro: int, current: int, now: Any) -> list[int]:
    """The events of ERP order `nro` (of the ERP used now) the poller skipped as not linked: pending
    again, about this order (its gid and name, for the Orders page and the search)."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id,
            Message.flow.in_(EVENT_FLOWS),
            Message.erp_id == str(nro),
            Message.status == MessageStatus.SKIPPED.value,
            Message.unit_key.like("event:%"),
            Message.error_text.like(UNKNOWN_ORDER_LIKE),
        )
    ).all()
    picked = [m for m in rows if _generation_of(m.unit_key) == current]
    for message in picked:
        message.status = MessageStatus.PENDING.value
        message.error_text = (
            f"ERP order {nro} was linked by hand to Shopify order "
            f"{link.shopify_order_name or link.shopify_order_id}: applied now"
        )
        message.shopify_id = link.shopify_order_id
        message.search_text = trace.search_text(message.search_text.split(), [link.shopify_order_name])
        message.finished_at = None
        message.updated_at = now
    session.flush()
    return [m.id for m in sorted(picked, key=lambda m: int(m.unit_key.split(":")[1]))]


def _generation_of(unit_key: str) -> int:
    """jobs.order_events.generation_of: "event:<seq>" is the first ERP's, "event:<seq>:erp<n>" the n-th."""
    parts = unit_key.split(":")
    return int(parts[2].removeprefix("erp")) if len(parts) > 2 else 0

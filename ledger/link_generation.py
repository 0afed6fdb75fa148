"""Which ERP an order link's NROPEDVENDA was learned from (ErpConnection.generation).

Why in ledger: jobs.order_generation (the Shopify -> ERP side's refusal, the reconciliation) and
ledger.order_link_by_hand (a hand link's number taken by another link: the same number of another
ERP is another order) both ask it, and ledger does not import jobs. jobs.order_generation explains
where the generation is kept and re-exports these names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import AuditEvent, Message, OrderLink

KEY = "erp_generation"  # on the orders message's response_payload
MOVED_ACTION = "erp_connection.saved"  # shopify_app.api_setup's audit of a save (a move adds erp_generation)
ORDERS_FLOW = "orders"  # jobs.orders.FLOW


def of_link(session: Session, link: OrderLink) -> int:
    """The generation of the ERP the link's NROPEDVENDA was learned from: a hand link's own, else
    the one its import recorded (KEY), else the one the shop had when its orders message began."""
    if link.hand_linked_erp is not None:
        return link.hand_linked_erp
    num = link.shopify_order_id.rsplit("/", 1)[-1]  # jobs.order_map.numeric_id
    row = session.execute(
        select(Message.response_payload, Message.created_at).where(
            Message.shop_id == link.shop_id, Message.flow == ORDERS_FLOW, Message.unit_key == f"order:{num}"
        )
    ).first()
    response = row.response_payload if row is not None else None
    found: Any = response.get(KEY) if isinstance(response, dict) else None
    if isinstance(found, int):
        return found
    return generation_at(session, link.shop_id, row.created_at if row is not None else link.created_at)


def generation_at(session: Session, shop_id: int, when: datetime | None) -> int:
    """The generation the shop's ERP connection had at `when` (the audit of its moves; 0 before any)."""
    if when is None:
        return 0
    saved = session.scalars(
        select(AuditEvent.after)
        .where(
            AuditEvent.shop_id == shop_id,
            AuditEvent.action == MOVED_ACTION,
            AuditEvent.created_at <= when,
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    for after in saved:
        generation = after.get("erp_generation") if isinstance(after, dict) else None
        if isinstance(generation, int):
            return generation
    return 0

"""Which ERP an order link's NROPEDVENDA belongs to (ErpConnection.generation).

Why: each ERP numbers its orders on its own. After the shop's ERP connection moved to another ERP
(homologation -> production: ledger.setup_moves.erp_moved bumps the generation), a number the
app learned from the ERP it was connected to before is that ERP's, and the same number in the ERP
used now is another customer's order. The ERP -> Shopify side skips the old ERP's events
(jobs.order_events OTHER_ERP); `refusal` is the Shopify -> ERP side's guard: a cancellation, an
edit or a delivery address of such an order is not sent to the ERP used now (it would cancel or
change that other order), and its message fails for a person instead.

Where the generation is kept: an order linked by hand, `OrderLink.hand_linked_erp`; an imported
order, its orders message's response (KEY, written by jobs.orders with the ERP number, read
before the POST: a move during it errs on the side of refusing). An import recorded before KEY
was kept is of generation 0, the shop's first ERP.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import order_map
from ledger.errors import Rejected
from ledger.models import ErpConnection, Message, OrderLink

KEY = "erp_generation"  # on the orders message's response_payload
CODE = "ORDER_OF_OTHER_ERP"
ORDERS_FLOW = "orders"  # jobs.orders.FLOW (not imported: jobs.orders imports this module)


def current(session: Session, shop_id: int) -> int:
    """The generation of the ERP the shop is connected to now (0 without a connection saved)."""
    found = session.scalar(select(ErpConnection.generation).where(ErpConnection.shop_id == shop_id))
    return found or 0


def of_link(session: Session, link: OrderLink) -> int:
    """The generation of the ERP the link's NROPEDVENDA was learned from."""
    if link.hand_linked_erp is not None:
        return link.hand_linked_erp
    num = order_map.numeric_id(link.shopify_order_id)
    response = session.scalar(
        select(Message.response_payload).where(
            Message.shop_id == link.shop_id, Message.flow == ORDERS_FLOW, Message.unit_key == f"order:{num}"
        )
    )
    found: Any = response.get(KEY) if isinstance(response, dict) else None
    return int(found) if isinstance(found, int) else 0


def refusal(session: Session, link: OrderLink, what: str) -> Rejected | None:
    """The refusal to send `what` ("the cancellation", ...) to the ERP order of `link` when its
    number belongs to an ERP the shop is no longer connected to; None when it is the current one."""
    erp, now = of_link(session, link), current(session, link.shop_id)
    if erp == now:
        return None
    name = link.shopify_order_name or link.shopify_order_id
    return Rejected(
        f"Order {name} is linked to ERP order {link.nro_pedvenda} of the ERP the shop was connected to "
        f"before (the ERP connection moved since): that number may be another customer's order in the "
        f"ERP the shop uses now, so {what} was not sent there. Apply it by hand in the ERP that holds "
        "the order (or settle it otherwise), then mark this message handled.",
        system="app",
        code=CODE,
        detail={"nro_pedvenda": link.nro_pedvenda, "order_erp": erp, "current_erp": now},
    )

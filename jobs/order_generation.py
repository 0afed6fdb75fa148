"""Which ERP an order link's NROPEDVENDA belongs to (ErpConnection.generation).

Why: each ERP numbers its orders on its own. After the shop's ERP connection moved to another ERP
(homologation -> production: ledger.setup_moves.erp_moved gives it that ERP's generation, the one
it had if the shop was on it before, else a new one), a number the
app learned from the ERP it was connected to before is that ERP's, and the same number in the ERP
used now is another customer's order. The ERP -> Shopify side skips the old ERP's events
(jobs.order_events OTHER_ERP); `refusal` is the Shopify -> ERP side's guard: a cancellation, an
edit or a delivery address of such an order is not sent to the ERP used now (it would cancel or
change that other order), and its message fails for a person instead.

Where the generation is kept: an order linked by hand, `OrderLink.hand_linked_erp`; an imported
order, its orders message's response (KEY, written by jobs.orders with the ERP number, read
before the POST: a move during it errs on the side of refusing). An import recorded before KEY
was kept is of the generation the shop was on when its orders message began (its later changes,
the address digests say, are no import), as the audit of the ERP connection's moves tells it
(`erp_connection.saved` rows whose `after` has the new generation): a shop that moved from
homologation to production before KEY existed has its orders of since on the ERP it uses now,
not refused as the first ERP's (one begun before the move and sent after it errs on the side of
refusing: a person settles it). `of_link` and `generation_at` live in ledger.link_generation
(ledger.order_link_by_hand asks them too, and ledger does not import jobs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import order_map
from ledger.errors import Rejected
from ledger.link_generation import (  # noqa: F401 (generation_at: said here too)
    KEY,
    MOVED_ACTION,
    ORDERS_FLOW,
    generation_at,
    of_link,
)
from ledger.models import AuditEvent, ErpConnection, Message, OrderLink, as_utc

CODE = "ORDER_OF_OTHER_ERP"
IN_CHUNK = 5000  # ids per IN (...) list: PostgreSQL takes at most 65,535 bind parameters a statement


def current(session: Session, shop_id: int) -> int:
    """The generation of the ERP the shop is connected to now (0 without a connection saved)."""
    found = session.scalar(select(ErpConnection.generation).where(ErpConnection.shop_id == shop_id))
    return found or 0


def ever_moved(session: Session, shop_id: int) -> bool:
    """Whether the shop's ERP connection ever moved to another ERP (a shop on generation 0 may
    have: moved back to its first ERP, its orders of the ERP in between are that one's)."""
    moves = session.scalar(select(ErpConnection.moves).where(ErpConnection.shop_id == shop_id))
    return bool(moves)


def before_current(session: Session, shop_id: int, links: list[OrderLink]) -> set[int]:
    """The ids of those of the shop's `links` whose NROPEDVENDA is of an ERP the shop was connected
    to before (`of_link` of each, for the many links of a reconciliation's window: the orders
    messages read IN_CHUNK a statement and the moves once, not a query or two a link). A shop
    never moved has none."""
    now = current(session, shop_id)
    numbered = [link for link in links if link.nro_pedvenda is not None]
    if not numbered or not ever_moved(session, shop_id):
        return set()
    units = {link.id: f"order:{order_map.numeric_id(link.shopify_order_id)}" for link in numbered}
    wanted = sorted({units[link.id] for link in numbered if link.hand_linked_erp is None})
    imports: dict[str, tuple[Any, datetime]] = {}
    for at in range(0, len(wanted), IN_CHUNK):
        rows = session.execute(
            select(Message.unit_key, Message.response_payload, Message.created_at).where(
                Message.shop_id == shop_id, Message.flow == ORDERS_FLOW,
                Message.unit_key.in_(wanted[at : at + IN_CHUNK]),
            )
        )  # fmt: skip
        imports.update({unit: (response, created) for unit, response, created in rows})
    moves = _moves(session, shop_id)
    old = set()
    for link in numbered:
        if link.hand_linked_erp is not None:
            erp = link.hand_linked_erp
        else:
            response, created = imports.get(units[link.id], (None, link.created_at))
            found: Any = response.get(KEY) if isinstance(response, dict) else None
            erp = found if isinstance(found, int) else _generation_in(moves, created)
        if erp != now:
            old.add(link.id)
    return old


def _moves(session: Session, shop_id: int) -> list[tuple[datetime, int]]:
    """The shop's ERP connection moves (when, the generation it moved to), newest first."""
    rows = session.execute(
        select(AuditEvent.created_at, AuditEvent.after)
        .where(AuditEvent.shop_id == shop_id, AuditEvent.action == MOVED_ACTION)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    moves = []
    for created, after in rows:
        generation = after.get("erp_generation") if isinstance(after, dict) else None
        if isinstance(generation, int):
            moves.append((as_utc(created), generation))
    return moves


def _generation_in(moves: list[tuple[datetime, int]], when: datetime | None) -> int:
    """generation_at from the moves `_moves` read."""
    if when is None:
        return 0
    at = as_utc(when)
    return next((generation for moved, generation in moves if moved <= at), 0)


WHAT_WORDS = {  # what was not sent, as the note's words name it (shopify_app.note_words)
    "the cancellation": "what_cancellation",
    "this edit": "what_edit",
    "this delivery address": "what_address",
    "the card payment data": "what_card_data",
}


def refusal(session: Session, link: OrderLink, what: str) -> Rejected | None:
    """The refusal to send `what` ("the cancellation", ...) to the ERP order of `link` when its
    number belongs to an ERP the shop is no longer connected to; None when it is the current one.
    Its words name `what` by WHAT_WORDS."""
    erp, now = of_link(session, link), current(session, link.shop_id)
    if erp == now:
        return None
    name = link.shopify_order_name or link.shopify_order_id
    said = {"name": name, "nro": link.nro_pedvenda, "what": (WHAT_WORDS.get(what, ""), {})}
    words = (
        ("other_erp_not_sent", said) if what in WHAT_WORDS else None
    )  # another: the note reads as its text
    return Rejected(
        f"Order {name} is linked to ERP order {link.nro_pedvenda} of the ERP the shop was connected to "
        f"before (the ERP connection moved since): that number may be another customer's order in the "
        f"ERP the shop uses now, so {what} was not sent there. Apply it by hand in the ERP that holds "
        "the order (or settle it otherwise), then mark this message handled.",
        system="app",
        code=CODE,
        detail={"nro_pedvenda": link.nro_pedvenda, "order_erp": erp, "current_erp": now},
        words=words,
    )

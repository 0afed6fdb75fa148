"""The message beside an order link's note on a topic of the orders flow, for an order already in
the ERP: a payment lost (jobs.order_payment_lost), a fraud verdict after the import
(jobs.order_risk_late). Each looks at the order under its lock, notes the link or clears the note;
its message (unit "<topic prefix>:<order's numeric id>") fails with the note's words, which Mark as
handled closes, and is closed (skipped, saying why) as its note goes by the order's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import order_map
from jobs.orders import FLOW, current_job_id, redis_down
from ledger import handled, trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus

Look = Callable[[int, str], str]  # (shop id, order's numeric id) -> its outcome
DONE_WITH = ("F", "C")  # SITUACAOPED of an ERP order invoiced or cancelled: nothing left to stop


def done_with(nfe_key: str | None, erp_status: str | None, cancelled_at: Any) -> bool:
    """Whether the ERP order is past what a note can stop: invoiced (an NF-e) or cancelled."""
    return nfe_key is not None or cancelled_at is not None or (erp_status or "") in DONE_WITH


def looked(look: Look, shop_id: int, order_id: str | int) -> str:
    """`look` at the order; Redis failing under it (the order's lock) is a Transient for RQ's retry."""
    try:
        return look(shop_id, order_map.numeric_id(order_id))
    except RedisError as exc:
        raise redis_down(exc) from exc


def replayed(look: Look, message_id: int) -> str:
    """Retry of the note's message (jobs.orders.replay hands it over): look again."""
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, key = message.shop_id, message.unit_key
    return looked(look, shop_id, key.split(":", 1)[1])


def find(session: Session, shop_id: int, unit_key: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.shop_id == shop_id, Message.flow == FLOW, Message.unit_key == unit_key)
    ).one_or_none()


def begin(
    session: Session, shop_id: int, unit_key: str, gid: str, num: str, name: str, nro: int | None
) -> Message:
    return trace.begin(session, shop_id, FLOW, unit_key, SHOPIFY_TO_ERP, shopify_id=gid, erp_id=str(nro),
                       search=[num, name, nro], job_id=current_job_id())  # fmt: skip


def settle(
    session: Session, message: Message | None, words: trace.Words, reason: str, *, closed_too: bool = False
) -> None:
    """The note's message closed as its note goes by the order's state: an open one (failed, or
    parked or pending by some crossing) skipped saying why; `closed_too`: one a person closed as
    handled too (what it noted is over: a later one is told again)."""
    if message is None:
        return
    closed = message.status in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)
    if closed and not (closed_too and handled.info(message) is not None):
        return
    begun = trace.begin(session, message.shop_id, FLOW, message.unit_key, SHOPIFY_TO_ERP)
    trace.skip(session, begun, reason, words=words)

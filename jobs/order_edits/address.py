"""A delivery address changed in Shopify after the order reached the ERP (flow `order_edits`,
direction shopify_to_erp, unit "address:<order's numeric id>").

Why: the ERP order's obsPedido is the only record of where it goes (PedidoVenda has no delivery
address; the customer register holds the buyer's billing address: jobs.order_customer.delivery_obs).
Staff change an order's shipping address in Shopify (the customer phoned): Shopify sends
orders/updated, not orders/edited. jobs.orders.on_webhook hands each orders/updated of an order
already in the ERP to `on_updated`.

The delivery slot the customer chose (a delivery-date app's order attributes, which obsPedido names
before the address: jobs.order_slot) is part of the delivery: a slot changed (staff, the app
rescheduling) is sent, or flagged, as an address change is (a pickup's too, when its ERP order
was sent as a pickup with a slot: `_pickup_slot`; a pickup's address never), the flag's words
saying "address or time" and its new delivery text naming both ("Delivery-Date: 06/12/2026; ... -
Entrega: ...").

Cheap: most orders/updated change tags, notes, fulfillments, payments. What the ERP's obsPedido was
built from is recorded (RECORD: digests of the shipping address, of its delivery text and of its
slot, with which attributes the slot was read from; no personal data; on the import's message,
then on this unit's), and the webhook's own shipping_address and note_attributes are compared with
it: the same address and slot, nothing is done (no lock, no Shopify read, no ERP call). A record
with no slot (an order imported before it was recorded, or linked by hand) or one read from other
attributes (the shop changed its setting delivery_slot_attributes since) is no record of a change:
the next orders/updated records the slot as it is then, sending nothing (one Shopify read, once).
Another address or slot re-reads the order through GraphQL under the order's lock, as every
Shopify -> ERP change does (webhooks are not ordered: an older delivery's address is not taken).
The order busy with its other work past every retry, the delivery stays open for the orders
catch-up (jobs.order_waits: no message is begun before the change is found).
An orders/updated that runs the import (the order was not in the ERP as far as its link knew: the
change came while the import ran, or while the ERP's answer to it was lost) comes here after it
(jobs.orders.on_webhook), as the import may have posted the delivery of before.
An order linked by a person to an ERP order typed by hand (ledger.order_link_by_hand) records the
shipping address Shopify showed when it was linked (what the person typed the ERP order from), and
the link enqueues `after_hand_link`, which reads the order again under its lock: the same address
completes the record with its delivery text; another one (changed while the link was made) is a
change, sent or flagged as below. A later change is compared with the record so.
None recorded (an order imported before the record was kept, or linked by hand before the link
recorded it): its delivery now is recorded as the baseline and nothing is sent or flagged (no
ERP call), since the ERP order's obsPedido may have been written by an older version, which
named a delivery only for a gift (comparing today's "Entrega: ..." with it would flag or
overwrite every old order on its first tag or fulfilment). The accepted cost: an address changed
between the import and the first orders/updated after this was deployed is not sent. Only a Retry
compares it with the ERP order's obsPedido. Then:
- its delivery text (what `order_map.observation` writes: "Entrega: ...") and slot as recorded, a
  pickup (nothing to deliver, whatever address it carries; but for its slot, above), an order
  cancelled in Shopify or in the ERP: nothing is sent;
- else the ERP order is read: already holding this obsPedido (an earlier answer lost; as `names`
  compares text): recorded;
  in any status but those known to take no change (S/F/C: jobs.order_edits.to_erp.NOT_EDITABLE,
  the edits' rule; D/A/L, and R, W, P, which some installations use, are sent and the ERP's answer
  decides): PUT PedidoVenda/{nro} with obsPedido only (lines, freight and payments untouched),
  recorded;
- separated or invoiced (S/F, or the PUT's 409 with the status, read again, S/F): the link is
  flagged for a person, note "order_edits (delivery address): ..." (a topic of its own, beside a
  Shopify edit's note: ledger.order_notes) ending with the new delivery text (as obsPedido would
  carry it, behind ledger.privacy.NEW_DELIVERY, which its scrub removes whole); the ERP order's
  obsPedido (the old one, maybe typed by hand) is the ERP's and is not quoted. The message fails (rejected,
  DELIVERY_ADDRESS_NOT_SENT; the ERP's code in its detail). The change is recorded as told, so the
  next orders/updated is quiet, and beside it the delivery the ERP order still holds (IN_ERP); its
  Retry reads the ERP order again. The note is cleared once the ERP order's obsPedido carries the
  delivery text Shopify shows whole (`names`: copied there by hand; letter case, accents and
  spacing aside, as many installations keep text upper-cased without accents), once the address
  is changed back in Shopify to the one the ERP order holds (`_back`: the ERP order read again
  still names it, or holds the obsPedido it held when flagged, whoever wrote it; not once a person
  marked the flag handled: the team may have been told the other address, flagged again), or once
  the order is cancelled (in Shopify, or in the ERP, also told by the PUT's 409:
  `settle_cancelled`). Told another way, a person marks the message as handled.
- the PUT's resend by the transport refused (any status) after an attempt whose answer was lost
  (a timeout: erp.errors.ErpRejected.maybe_taken): the ERP order read again holding this obsPedido,
  that attempt was taken: done, not flagged; else as below (or as a 409, for its status).
- the ERP refusing the read or the PUT otherwise (a 409 with the status, read again, still one
  that takes changes: the ERP's own reason, in its words), or the ERP order being of the ERP the
  shop was connected to before (jobs.order_generation: ORDER_OF_OTHER_ERP, nothing sent): the
  message fails with those words and the change is recorded as tried (with the delivery the ERP
  order holds, as a flag), so later orders/updated with this address stay quiet until Retry;
  another address is a new change, tried (and refused) again.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from redis.exceptions import RedisError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.errors import ErpAuthError, ErpRejected
from erp.records import Order as ErpOrder
from jobs import order_clients, order_generation, order_map
from jobs.order_customer import delivery_obs
from jobs.order_edits.to_erp import NOT_EDITABLE
from jobs.order_lookup import find_link
from jobs.order_slot import SLOT_PARTS, delivery_slot, slot_keys, webhook_attributes
from jobs.orders import FLOW as ORDERS_FLOW
from jobs.orders import current_job_id, ensure_held, order_lock, redis_down, run_classified
from jobs.orders import unit_key as order_unit_key
from ledger import handled, order_notes, shop_settings, trace
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, MessageStatus, OrderLink, Shop, utcnow
from ledger.order_link_by_hand import DELIVERY
from ledger.privacy import NEW_DELIVERY
from shopify_app.admin_api.order_import_ops import read_order_for_erp
from shopify_app.admin_api.order_results import Address, Order, address_digest

log = logging.getLogger(__name__)

FLOW = "order_edits"
PREFIX = "address"
TOPIC = order_notes.TOPICS[PREFIX]  # its note: "order_edits (delivery address): ..."
RECORD = DELIVERY  # request payload key: what the ERP's obsPedido was built from (digests)
WHEN = "when"  # in RECORD: the delivery slot's digest (jobs.order_slot)
SLOT_BY = "slot_by"  # in RECORD: which attributes the slot was read from (the setting, as keys)
IN_ERP = "in_erp"  # in a record of a change flagged or refused: the delivery the ERP order still holds
# On the message's request: this attempt is a change back after a person closed the flag as handled
# (`_back`). Kept there because beginning the message again clears how it was closed: a retry after
# a transient failure or a refusal must still tell the team, not clear the flag quietly.
BACK_AFTER_HANDLED = "back_after_handled"
PICKUP = "a pickup"  # what `_settle` says an order whose delivery became a pickup is now
# The record of a delivery Shopify shows as a pickup now, the team told its ERP order still
# delivers (`_now_pickup`): told once, until the order is a delivery again.
PICKUP_TOLD = "pickup_told"
DELIVERY_AGAIN = "a delivery again, as its ERP order delivers it"
TOO_LATE = {
    "S": ("PEDIDO_EM_SEPARACAO", "is already being separated (em separação)"),
    "F": ("PEDIDO_FATURADO", "is already invoiced (faturado)"),
}
STATE_WORDS = {"S": "address_state_separating", "F": "address_state_invoiced"}  # TOO_LATE's, said


def unit_key(order_id: str | int) -> str:
    return f"{PREFIX}:{order_map.numeric_id(order_id)}"


def delivery_text(order: Order) -> str | None:
    """Where the order goes as obsPedido names it; None for a pickup or nothing to ship."""
    return delivery_obs(order) if order_map.delivery_type(order) == "E" else None


address_key = address_digest  # shopify_app.admin_api.order_results: the hand link records it too


def record_of(order: Order, keys: Sequence[str] = ()) -> dict[str, str]:
    """What an obsPedido written for the order now is built from, as digests (no personal data):
    the shipping address, its delivery text, the delivery slot (`keys`: the attributes the shop's
    setting delivery_slot_attributes names, jobs.order_slot) and which attributes those were."""
    return {
        "address": address_key(order.shipping_address),
        "where": digest(delivery_text(order)),
        **_slot_record(order.custom_attributes, keys),
    }


def _slot_record(attributes: Mapping[str, str], keys: Sequence[str]) -> dict[str, str]:
    """The slot's part of the record: its digest, and which attributes it was read from."""
    return {WHEN: digest(delivery_slot(attributes, keys)), SLOT_BY: digest(SLOT_PARTS.join(keys))}


def shop_slot_keys(session: Session, shop_id: int) -> tuple[str, ...]:
    """The shop's setting delivery_slot_attributes as keys (jobs.order_slot.slot_keys)."""
    saved = session.scalar(select(Shop.settings).where(Shop.id == shop_id))
    return slot_keys(shop_settings.effective_of(saved)["delivery_slot_attributes"])


def webhook_address(payload: dict[str, Any]) -> Address | None:
    """The REST body's shipping_address (snake_case, the names Address reads from GraphQL)."""
    raw = payload.get("shipping_address")
    if not isinstance(raw, dict):
        return None
    return Address(**{f.name: raw.get(f.name) for f in fields(Address)})


def on_updated(shop_id: int, order_id: str | int, payload: dict[str, Any]) -> str:
    """orders/updated of an order in the ERP: nothing when its shipping address and delivery slot
    are the ones recorded, else `check`. Returns already | done | skipped | failed."""
    num = order_map.numeric_id(order_id)
    with session_scope() as session:
        recorded = _recorded(session, shop_id, num)
        keys = shop_slot_keys(session, shop_id) if recorded is not None else ()
    if recorded is not None and recorded.get("address") == address_key(webhook_address(payload)):
        # A slot recorded from these attributes and the same: nothing. None recorded (an order imported
        # or linked before it was), or read from other attributes (the setting changed): `check`
        # records it as it is now, once (its baseline: nothing sent).
        slot = _slot_record(webhook_attributes(payload), keys)
        if all(recorded.get(key) == value for key, value in slot.items()) and not _pickup_turn(
            recorded, payload
        ):
            return "already"
    return check(shop_id, num)


def _pickup_turn(recorded: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Whether the webhook's shipping lines read as a pickup (order_map.names_pickup: a shipping
    line changed to the store's pickup rate, "Retirada na loja") while the record delivers and no
    person was told yet, or read as none while one was (the flag to clear): what the address and
    slot do not show, so `check` reads the order (`_now_pickup`)."""
    if recorded.get("where") in (None, digest(None)):
        return False
    lines = [line for line in payload.get("shipping_lines") or [] if isinstance(line, dict)]
    pickup = any(order_map.names_pickup(line.get("title"), line.get("code")) for line in lines)
    return pickup != bool(recorded.get(PICKUP_TOLD))


def after_hand_link(shop_id: int, order_id: str | int) -> str:
    """Enqueued by the hand link (shopify_app.api_orders) after its commit: the link read the order
    outside its lock, before that commit, and recorded its shipping address alone. The order is
    read again under its lock: the same address, the record is completed with its delivery text
    (what `_same` compares from then on, as for an imported order); another one (changed while the
    link was made, its orders/updated skipped as not in the ERP yet) is sent or flagged as any
    change. Returns already | done | skipped | failed."""
    return check(shop_id, order_id)


def replay(message_id: int) -> str:
    """Retry: the ERP order is read again, whatever was recorded."""
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, key = message.shop_id, message.unit_key
    return check(shop_id, key.split(":", 1)[1], again=True)


def check(shop_id: int, order_id: str | int, *, again: bool = False) -> str:
    """Send the order's delivery to its ERP order when it changed (`again`: read the ERP order even
    when it did not, a Retry).

    Raises:
        Transient: Shopify, the ERP or Redis unreachable, or the order locked (RQ retries).
    """
    try:
        return _check(shop_id, order_map.numeric_id(order_id), again)
    except RedisError as exc:
        raise redis_down(exc) from exc


def _check(shop_id: int, num: str, again: bool) -> str:
    gid = order_map.order_gid(num)
    # No message yet (one begins once a change is found, below): the order busy past every retry,
    # the delivery stays open for the orders catch-up (jobs.order_waits), never lost
    with order_lock(shop_id, gid, kept=True) as lock, session_scope() as session:
        link = find_link(session, shop_id, gid)
        if link is None or link.nro_pedvenda is None:
            return "skipped"  # its import, when it goes, writes the delivery as it is then
        shop = session.get(Shop, shop_id)
        assert shop is not None
        read = read_order_for_erp(order_clients.admin_client(shop.domain), gid)
        if read is None:
            return "skipped"
        order, recorded = read.order, _recorded(session, shop_id, num)
        keys = slot_keys(shop_settings.effective(shop)["delivery_slot_attributes"])
        now = record_of(order, keys)
        link.delivery_slot = delivery_slot(order.custom_attributes, keys)  # the Orders page shows Shopify's
        # Nothing delivered: nothing to send, unless a pickup (imported as one) has a slot to send
        nothing = delivery_text(order) is None and not _pickup_slot(recorded, order, keys)
        cancelled = order.cancelled_at or link.cancelled_at or link.erp_status == "C"
        same = recorded is not None and _same(recorded, now)
        delivered = recorded is not None and recorded.get("where") not in (None, digest(None))
        told = bool(recorded and recorded.get(PICKUP_TOLD))
        if nothing and delivered and not cancelled and not told:
            assert recorded is not None
            return _now_pickup(session, shop_id, num, link, order, recorded, now)
        if (same and not again) or nothing or cancelled:
            kept = now
            if nothing and delivered:
                # a delivery Shopify shows as a pickup now: its ERP order still delivers (tipoEntrega
                # E) where the record says, so the record keeps that delivery (taken for a pickup's,
                # the next slot change would send the pickup's obsPedido, the address left out)
                assert recorded is not None
                kept = {**now, **{key: recorded[key] for key in ("address", "where") if key in recorded}}
                kept |= {PICKUP_TOLD: True} if told else {}
            _remember(session, shop_id, num, kept)
            if cancelled or (nothing and not told):  # nothing to deliver: nothing to send
                _settle(session, shop_id, num, link, PICKUP if nothing else "cancelled")
            elif same and told:  # a delivery again, where the ERP order delivers: the flag is moot
                _settle(session, shop_id, num, link, DELIVERY_AGAIN)
            return "already"
        if recorded is None and not again:  # the baseline (module docstring): no ERP call
            _remember(session, shop_id, num, now)
            return "already"
        back = _back(session, shop_id, num, recorded, now)
        message = trace.begin(session, shop_id, FLOW, unit_key(num), SHOPIFY_TO_ERP, shopify_id=gid,
                              search=[num, link.shopify_order_name], job_id=current_job_id())  # fmt: skip
        message.request_payload = {
            **(message.request_payload or {}),
            "nro_pedvenda": link.nro_pedvenda,
            BACK_AFTER_HANDLED: bool(back and back.handled),
        }
        session.commit()  # the message row exists before any outside call
        # A change back keeps beside it the delivery the ERP holds: refused, its Retry is a change back still.
        told = _told(recorded, now) if back is None else {**now, IN_ERP: _in_erp(recorded)}
        return run_classified(
            session, message, lambda: _send(session, shop_id, link, message, order, told, back, lock, keys)
        )


def _now_pickup(
    session: Session,
    shop_id: int,
    num: str,
    link: OrderLink,
    order: Order,
    recorded: dict[str, Any],
    now: dict[str, Any],
) -> str:
    """A delivery Shopify shows as a pickup now (the customer collects it; its shipping line changed
    to the store's pickup rate): its ERP order still delivers (tipoEntrega E, obsPedido "Entrega:
    <address>"), and the API takes no delivery type in an edit. So a person is told, once: the
    order flagged and its message failed, the record keeping the delivery the ERP holds
    (PICKUP_TOLD). Before, the record was settled quietly and the driver went to the house while
    the customer waited at the store."""
    gid = order_map.order_gid(num)
    message = trace.begin(session, shop_id, FLOW, unit_key(num), SHOPIFY_TO_ERP, shopify_id=gid,
                          search=[num, link.shopify_order_name], job_id=current_job_id())  # fmt: skip
    nro = link.nro_pedvenda
    explanation = (
        f"Shopify order {order.name} is a pickup at the store now, but ERP order {nro} still delivers it "
        "(tipoEntrega E, its observation the delivery address): make it a pickup in the ERP and tell the "
        "driver, then Mark as handled; or make it a delivery again in Shopify (this clears)"
    )
    words = ("address_now_pickup_erp_delivers", {"name": order.name, "nro": nro})
    order_notes.put(link, FLOW, explanation, topic=TOPIC, words=words)
    link.updated_at = utcnow()
    held = {key: recorded[key] for key in ("address", "where") if key in recorded}  # what the ERP delivers
    kept = {**now, **held, PICKUP_TOLD: True}
    _remember(session, shop_id, num, kept, message)
    refusal = Rejected(explanation, system="app", code="DELIVERY_NOW_PICKUP", detail={"nro_pedvenda": nro},
                       words=words)  # fmt: skip
    return trace.fail(session, message, refusal).value


def _pickup_slot(recorded: dict[str, Any] | None, order: Order, keys: Sequence[str]) -> bool:
    """A pickup with a slot, recorded as a pickup with a slot (its ERP order delivers nothing and
    names when it is collected): a slot changed is sent as a delivery's. A delivery that became a
    pickup in Shopify is not (its ERP order still delivers: tipoEntrega 'E'), nor a slot removed."""
    return (
        recorded is not None
        and WHEN in recorded
        and recorded.get("where") == digest(None)
        and delivery_slot(order.custom_attributes, keys) is not None
    )


def _same(recorded: dict[str, Any], now: dict[str, str]) -> bool:
    """The delivery is the one recorded: its delivery text, else (a hand link records the shipping
    address alone: ledger.order_link_by_hand) its address; and its slot (`_same_slot`)."""
    key = "where" if "where" in recorded else "address"
    return recorded.get(key) == now[key] and _same_slot(recorded, now)


def _same_slot(recorded: dict[str, Any], now: dict[str, str]) -> bool:
    """The delivery slot is the one recorded, or not comparable: none recorded (an order imported
    before the slot was, or linked by hand), or recorded from other attributes (the setting
    delivery_slot_attributes changed since: the slot the ERP order names is no record of a change,
    and the current one becomes the record, as a first record does)."""
    if WHEN not in recorded or recorded.get(SLOT_BY) != now[SLOT_BY]:
        return True
    return recorded[WHEN] == now[WHEN]


def _told(recorded: dict[str, Any] | None, now: dict[str, str]) -> dict[str, Any]:
    """The record of a change flagged or refused: the change (told once), and beside it the delivery
    the ERP order still holds, when another (`_back`)."""
    kept = _in_erp(recorded)
    return now if kept is None or _same(kept, now) else {**now, IN_ERP: kept}


def _in_erp(recorded: dict[str, Any] | None) -> dict[str, Any] | None:
    """The delivery the ERP order's obsPedido was last built or typed from: the record's own, or,
    once a change was flagged or refused (the record holds that change, told once), the one kept
    beside it (IN_ERP)."""
    if recorded is None:
        return None
    kept = recorded.get(IN_ERP)
    return kept if isinstance(kept, dict) else {k: v for k, v in recorded.items() if k != IN_ERP}


@dataclass(frozen=True)
class Back:
    """A change back to the delivery the ERP order was built or typed from (`_back`)."""

    handled: bool  # the flag of the change to another delivery was closed as handled
    obs: str | None  # digest of the obsPedido the ERP order held when that change was flagged


def _back(
    session: Session, shop_id: int, num: str, recorded: dict[str, Any] | None, now: dict[str, str]
) -> Back | None:
    """A change flagged or refused, then the address changed back in Shopify to the delivery the
    ERP order was built or typed from (as the note advises): `_put` reads the ERP order, which
    says whether it still holds it (`_back_to_erp`). Read before the message begins again (which
    clears how it was closed): whether a person closed the flag as handled (they may have told the
    team the other address)."""
    if recorded is None or not isinstance(recorded.get(IN_ERP), dict) or not _same(recorded[IN_ERP], now):
        return None
    message = _message(session, shop_id, FLOW, unit_key(num))
    closed = message is not None and (
        handled.info(message) is not None or (message.request_payload or {}).get(BACK_AFTER_HANDLED) is True
    )
    obs = recorded[IN_ERP].get("obs")
    return Back(closed, obs if isinstance(obs, str) else None)


def _holds(current: ErpOrder, obs: str, part: str, back: Back) -> bool:
    """Whether the ERP order still holds the delivery Shopify is back to: the obsPedido the app
    writes, one naming this delivery whole, or the one it held when the change was flagged (typed
    by hand, maybe). Not when a person copied the other delivery there meanwhile."""
    return (
        same_text(current.obs, obs)
        or names(current.obs, part)
        or (back.obs is not None and digest(current.obs) == back.obs)
    )


def _back_to_erp(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    order: Order,
    part: str,
    back: Back,
    keys: Sequence[str] = (),
) -> str:
    """Back to the delivery the ERP order holds: nothing to send. The note goes and the message
    ends skipped saying so; not once a person closed the flag as handled: the team may have been
    told the other address, so they are told again (flagged)."""
    if back.handled:
        explanation = (
            f"The delivery address or time of order {order.name} was changed back in Shopify to the one ERP "
            f"order {link.nro_pedvenda} holds, after the change to another was marked as handled: the "
            "picking and delivery team may have been told that other one. A person must tell them the "
            f"order is delivered as the ERP order names, then Mark as handled. {NEW_DELIVERY} {part}"
        )
        detail = {"nro_pedvenda": link.nro_pedvenda, "changed_back": True}
        back_words = {"name": order.name, "nro": link.nro_pedvenda, order_notes.DELIVERY: part}
        words = ("address_back_after_handled", back_words)
        now = record_of(order, keys)
        return _tell(session, shop_id, link, message, order, (explanation, words), detail, now)
    _done(session, shop_id, link, message, order, keys)
    trace.skip(session, message, f"the delivery (address and time) is back to the one ERP order "
                                 f"{link.nro_pedvenda} holds: nothing to send to the ERP",
               words=("address_back_to_erp", {"nro": link.nro_pedvenda}))  # fmt: skip
    return "skipped"


def _send(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    order: Order,
    told: dict[str, Any],
    back: Back | None = None,
    lock: Lock | None = None,
    keys: Sequence[str] = (),
) -> str:
    try:
        return _put(session, shop_id, link, message, order, told, back, lock, keys)
    except Rejected as exc:  # refused for good (the ERP, another ERP's order): tried once, quiet until Retry
        _remember(session, shop_id, order_map.numeric_id(order.id), told, message)
        if isinstance(exc, ErpRejected):
            _not_reached(link, order, exc)
        raise


def _not_reached(link: OrderLink, order: Order, refusal: ErpRejected) -> None:
    """The ERP refused the app's login (ErpAuthError: the message fails flagged AUTH, retried once
    the ERP connection is saved again) or has no such order (404: deleted there, or the connection's
    address points at another ERP): the link gets this topic's note saying so, as an edit's and a
    cancellation's do (cleared once the delivery is sent, or the order cancelled). Any other refusal
    is the ERP's own reason, told by the failed message in its words."""
    if not isinstance(refusal, ErpAuthError) and refusal.status != 404:
        return
    name, nro = order.name, link.nro_pedvenda
    why = refusal.mensagem.strip().rstrip(".") + "."
    if isinstance(refusal, ErpAuthError):
        explanation = (
            f"The ERP refused the app's login, so the delivery address or time of order {name} was NOT "
            f"changed in ERP order {nro}: {why} Fix the ERP user and password under Setup (saving them "
            "retries this change), or tell the picking and delivery team the new address or time, then "
            "Mark as handled."
        )
        words = ("address_login_refused", {"name": name, "nro": nro, "why": why})
    else:
        explanation = (
            f"The ERP answered it has no order {nro}, so the delivery address or time of order {name} was "
            f"NOT changed in the ERP: {why} If it was deleted in the ERP, there is nothing left to change: "
            "mark this change handled. If the ERP should have it, check the ERP connection's address under "
            "Setup, then Retry this change."
        )
        words = ("address_erp_order_not_found", {"name": name, "nro": nro, "why": why})
    order_notes.put(link, FLOW, explanation, topic=TOPIC, words=words)
    link.updated_at = utcnow()


def _put(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    order: Order,
    told: dict[str, Any],
    back: Back | None = None,
    lock: Lock | None = None,
    keys: Sequence[str] = (),
) -> str:
    nro = link.nro_pedvenda
    assert nro is not None
    if (other_erp := order_generation.refusal(session, link, "this delivery address")) is not None:
        raise other_erp  # its number is another order in the ERP used now
    erp = order_clients.erp_client(shop_id)
    current = erp.get_order(nro)
    obs, part = order_map.observation(order, keys), order_map.observation_delivery(order, keys)
    assert part is not None  # a delivery, or a pickup's slot (`_check`: else nothing is sent)
    if current.situacao == "C":
        return _cancelled_in_erp(session, link, message)
    if back is not None and _holds(current, obs, part, back):  # else the ERP holds another: sent or flagged
        return _back_to_erp(session, shop_id, link, message, order, part, back, keys)
    if same_text(current.obs, obs) or (current.situacao in NOT_EDITABLE and names(current.obs, part)):
        _done(session, shop_id, link, message, order, keys)  # an earlier answer lost, or changed by hand
        trace.skip(session, message, f"ERP order {nro} already names this delivery: nothing to send",
                   words=("address_already_in_erp", {"nro": nro}))  # fmt: skip
        return "skipped"
    if current.situacao in NOT_EDITABLE:  # known to take no change; any other: the ERP's answer decides
        return _flag(session, shop_id, link, message, order, part, current, told)
    ensure_held(lock, order_map.numeric_id(order.id))  # or another job of the order may be writing it
    try:
        updated = erp.edit_order(nro, obs=obs)
    except ErpRejected as exc:
        if exc.status != 409 and not exc.maybe_taken:
            raise
        # The order's status, read again, says which; a refusal of the transport's resend after an
        # attempt whose answer was lost (`maybe_taken`: a timeout) speaks for the resend alone, so
        # the obsPedido read back says whether that attempt was taken.
        current = erp.get_order(nro)
        if current.situacao == "C":  # cancelled meanwhile (PEDIDO_CANCELADO): nothing to deliver
            return _cancelled_in_erp(session, link, message)
        if not (exc.maybe_taken and same_text(current.obs, obs)):
            if current.situacao not in NOT_EDITABLE:  # refused for a reason of its own: its words
                raise
            return _flag(session, shop_id, link, message, order, part, current, told)
        updated = current  # taken by the attempt whose answer was lost
        log.warning("order_edits: ERP order %s refused the resend of a delivery address (%s) but holds "
                    "it: an earlier attempt's answer was lost", nro, exc.mensagem)  # fmt: skip
    link.erp_status = updated.situacao
    _done(session, shop_id, link, message, order, keys)
    trace.succeed(session, message, response={"nro_pedvenda": nro, "situacao": updated.situacao},
                  erp_id=str(nro), search=[nro])  # fmt: skip
    log.info("order_edits: delivery address of %s sent to ERP order %s", order.name, nro)
    return "done"


def _cancelled_in_erp(session: Session, link: OrderLink, message: Message) -> str:
    """The ERP order is cancelled (read so, or the PUT's 409 PEDIDO_CANCELADO): no delivery to change;
    a note left by an earlier flag goes, as `settle_cancelled` does."""
    link.erp_status = "C"
    clear_note(link)
    trace.skip(
        session,
        message,
        f"ERP order {link.nro_pedvenda} is cancelled in the ERP: no delivery to change",
        words=("address_erp_cancelled", {"nro": link.nro_pedvenda}),
    )
    return "skipped"


_ENDS = re.compile(r"\s*(?:[.;]?\s*$|[-;|\u2013]\s)")  # where a delivery's text ends in an obsPedido
_SPACES = re.compile(r"\s+")
_COMMAS = re.compile(r" ?, ?")


def names(obs: str | None, part: str) -> bool:
    """Whether an obsPedido names this delivery whole: `part` (its delivery as `observation` writes
    it for the order: order_map.observation_where) stands in it and ends there (at its end, or
    before " - ", the buyer's note): an older delivery that shares its start ("..., Apto 1502"
    before "..., Apto 1502, Torre Norte", "Rua X, 12" before "Rua X, 123") is not it. Compared as
    `_plain`: the ERP keeping it upper-cased without accents, or spaced otherwise, is the same."""
    text, part = _plain(obs or ""), _plain(part)
    at = text.find(part)
    while at >= 0:
        if _ENDS.match(text, at + len(part)):
            return True
        at = text.find(part, at + 1)
    return False


def same_text(erp_text: str | None, text: str) -> bool:
    """Whether the ERP holds `text` (an obsPedido) as `_plain` compares it."""
    return erp_text is not None and _plain(erp_text) == _plain(text)


def _plain(text: str) -> str:
    """Text as the ERP may keep what the app wrote or a person typed from a note: many Consinco
    installations keep it upper-cased and without accents ("São João" kept "SAO JOAO"), and a
    person spaces it their way. So letter case, accents (combining marks, after NFKD) and runs of
    spaces (around a comma too) do not count; every letter, digit and other mark does (a
    different street number, "1.000" or "1.001", is another delivery)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return _COMMAS.sub(", ", _SPACES.sub(" ", bare)).strip()


def clear_note(link: OrderLink) -> None:
    """Clear the delivery address's note (the order cancelled: nothing left to deliver)."""
    order_notes.clear(link, FLOW, topic=TOPIC)


def settle_cancelled(session: Session, shop_id: int, link: OrderLink) -> None:
    """The order is cancelled (in Shopify or in the ERP): a delivery address flagged earlier no
    longer matters (its note goes, its message ends skipped)."""
    _settle(session, shop_id, order_map.numeric_id(link.shopify_order_id), link, "cancelled")


def _settle(session: Session, shop_id: int, num: str, link: OrderLink, now: str) -> None:
    """The order is now `now` (a pickup, cancelled): a delivery address flagged earlier no longer
    matters; its message, left open or failed, ends skipped saying so."""
    clear_note(link)
    message = _message(session, shop_id, FLOW, unit_key(num))
    if message is not None and message.status not in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value):
        why = (
            f"the order is {now}: nothing to send to the ERP"
            if now == DELIVERY_AGAIN
            else f"the order is {now} now: no delivery address to send to the ERP"
        )
        if now == PICKUP:
            words: trace.Words = ("address_now_pickup", {})
        elif now == DELIVERY_AGAIN:
            words = ("address_delivery_again", {})
        else:
            words = ("address_now_cancelled", {})
        trace.skip(session, message, why, words=words)


def _done(
    session: Session, shop_id: int, link: OrderLink, message: Message, order: Order, keys: Sequence[str] = ()
) -> None:
    clear_note(link)
    _remember(session, shop_id, order_map.numeric_id(order.id), record_of(order, keys), message)


def _flag(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    order: Order,
    part: str,
    current: ErpOrder,
    told: dict[str, Any],
) -> str:
    code, state = TOO_LATE.get(current.situacao, ("PEDIDO_EM_SEPARACAO", f"is in state {current.situacao}"))
    situacao = current.situacao
    state_words = (STATE_WORDS.get(situacao or "", "state_other"), {"situacao": situacao})
    todo = ("address_todo_invoiced" if situacao == "F" else "address_todo_picking", {})
    said = {"name": order.name, "nro": link.nro_pedvenda, "state": state_words, "advice": todo}
    words = ("address_not_sent", {**said, order_notes.DELIVERY: part})
    if current.situacao == "F":
        advice = (
            "Its NF-e stands: a person must make sure the goods are delivered as the new delivery text says "
            "(tell the carrier or driver), then Mark as handled; or change the address or time back in "
            "Shopify (this clears)."
        )
    else:
        advice = (
            "A person must tell the picking and delivery team the new address or time, then Mark as handled; "
            "or copy the new delivery text below, as it is, into the ERP order's observation, then Retry "
            "(it clears once the observation carries that text); or change the address or time back in "
            "Shopify (this clears)."
        )
    explanation = (  # the new delivery ends it, behind NEW_DELIVERY (ledger.privacy scrubs it to the end)
        f"The delivery address or time of order {order.name} was changed in Shopify, but ERP order "
        f"{link.nro_pedvenda} {state}, so it was NOT changed in the ERP: its observation still names the "
        f"old delivery address or time, and the order would be delivered as it says. {advice} "
        f"{NEW_DELIVERY} {part}"
    )
    kept = told.get(IN_ERP)
    if isinstance(kept, dict) and "obs" not in kept:  # what the ERP order holds now, as a digest (`_holds`)
        told = {**told, IN_ERP: {**kept, "obs": digest(current.obs)}}
    log.warning("order_edits: delivery address of %s flagged: ERP order %s %s", order.name,
                link.nro_pedvenda, state)  # fmt: skip
    detail = {"nro_pedvenda": link.nro_pedvenda, "erp_code": code}
    return _tell(session, shop_id, link, message, order, (explanation, words), detail, told)


def _tell(
    session: Session,
    shop_id: int,
    link: OrderLink,
    message: Message,
    order: Order,
    said: tuple[str, trace.Words],
    detail: dict[str, Any],
    told: dict[str, Any],
) -> str:
    """Flag the order for a person (its note, `said`: the explanation and its words) and fail the
    message; `told` recorded (told once: the next orders/updated of this address is quiet)."""
    explanation, words = said
    order_notes.put(link, FLOW, explanation, topic=TOPIC, words=words)
    link.updated_at = utcnow()
    _remember(session, shop_id, order_map.numeric_id(order.id), told, message)
    refusal = Rejected(explanation, system="consinco", code="DELIVERY_ADDRESS_NOT_SENT", detail=detail)
    return trace.fail(session, message, refusal).value


def _recorded(session: Session, shop_id: int, num: str) -> dict[str, Any] | None:
    """What the ERP's obsPedido was last built from: this unit's record, else the import's."""
    rows = session.execute(
        select(Message.flow, Message.request_payload).where(
            Message.shop_id == shop_id,
            ((Message.flow == FLOW) & (Message.unit_key == unit_key(num)))
            | ((Message.flow == ORDERS_FLOW) & (Message.unit_key == order_unit_key(num))),
        )
    ).all()
    by_flow = {flow: (payload or {}).get(RECORD) for flow, payload in rows}
    found = by_flow.get(FLOW) or by_flow.get(ORDERS_FLOW)
    return found if isinstance(found, dict) else None


def _remember(
    session: Session, shop_id: int, num: str, record: dict[str, str], message: Message | None = None
) -> None:
    """Keep `record` on this unit's message (`message`, or the one there is), else the import's."""
    for flow, key in ((FLOW, unit_key(num)), (ORDERS_FLOW, order_unit_key(num))):
        message = message or _message(session, shop_id, flow, key)
    if message is not None and (message.request_payload or {}).get(RECORD) != record:
        message.request_payload = {**(message.request_payload or {}), RECORD: record}


def _message(session: Session, shop_id: int, flow: str, key: str) -> Message | None:
    where = (Message.shop_id == shop_id, Message.flow == flow, Message.unit_key == key)
    return session.scalars(select(Message).where(*where)).one_or_none()

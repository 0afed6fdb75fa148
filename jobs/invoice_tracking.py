"""Tracking an F event gives after its NF-e was applied (flow `invoices`): onto that NF-e's fulfillments.

A supermarket delivery by a carrier (or an own fleet's tracking link) often gets its code after
the NF-e: the ERP's rastreio then comes on a later F event of the same NF-e (another event of the
key; jobs.order_events makes it a message of its own). The NF-e was applied already, so nothing is
left to fulfil and fulfillmentCreate, which carries tracking, is not called: the fulfillment(s)
made at the NF-e get the tracking with fulfillmentTrackingInfoUpdate instead.

Which fulfillments are the NF-e's is the ledger's record, not a guess from Shopify (an order may
have several NF-e, and a person's fulfillments, a marked-up pickup, are not the ERP's): each
invoices message keeps the ids it created under `fulfillments` in its response, with the key it
applied (`key`). They are written on the message as each is created (`remember`: with
FULFILLED_FOR naming the key, which `key` cannot yet, as it means "ran to the end"), and a rerun of
the message carries them on (`carried`), so a retry after a failure past the fulfillmentCreate, or
a replay that finds nothing left to fulfil, keeps knowing them. The NF-e's fulfillments are those
of every invoices message of the order (of the same ERP) recorded for its key (`of_nfe`).

A fulfillment is updated only when what Shopify shows (OrderSettlement: its first trackingInfo)
differs from what the event gives: another number, or a company or url the event gives that is
not the one shown (a url the ERP gives that is not an absolute http(s) address is left out, as on
create; Shopify builds its own url for a carrier it knows, which is no difference). So the same
event twice sends nothing the second time. Not either: a fulfillment cancelled (nothing ships
under it), one made in this run (created with this tracking), or when a later F event of the NF-e
gave tracking (a replay of an older event does not put back an older code). A local pickup has
no fulfillment at the NF-e (it is marked ready for pickup): nothing to carry tracking. Shopify
e-mails the customer the update when the shop's setting `fulfillment_notify_customer` says so
(as it does the fulfillment made at the NF-e). A refusal (userErrors) fails the message with
Shopify's words, for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from jobs import order_events
from jobs.order_event_codec import event_from_payload
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_settlement import FulfillmentInfo, Settlement, fulfillment_tracking_update

log = logging.getLogger(__name__)

FULFILLMENTS = "fulfillments"  # the message response's list of the fulfillments it created
FULFILLED_FOR = "fulfillments_for"  # the key those were created for, written before the run ends


def _owner(response: dict[str, Any]) -> str | None:
    """The NF-e key a message's recorded fulfillments belong to."""
    return response.get(FULFILLED_FOR) or response.get("key")


def carried(message_id: int, key: str) -> list[str]:
    """The fulfillments an earlier run of this message created for NF-e `key` (a retry, a replay)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        response = (message.response_payload or {}) if message is not None else {}
    return list(response.get(FULFILLMENTS) or []) if _owner(response) == key else []


def remember(message_id: int, key: str, fulfillments: Sequence[str]) -> None:
    """Write at once on the message that `fulfillments` were created for NF-e `key` (kept beside
    what its response holds), so a run that fails after the fulfillmentCreate still names them."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None:
            message.response_payload = {
                **(message.response_payload or {}),
                FULFILLED_FOR: key,
                FULFILLMENTS: list(fulfillments),
            }


@dataclass(frozen=True)
class NfeFulfillments:
    """What the ledger knows of an NF-e's fulfillments."""

    ids: list[str] = field(default_factory=list)  # created for it, by any message, in order
    later_tracking: int | None = None  # a later F event of the NF-e that gave tracking (its seq)


def of_nfe(unit: order_events.EventUnit, key: str) -> NfeFulfillments:
    """The fulfillments every invoices message of the order (of the same ERP: `unit.generation`)
    recorded for NF-e `key`, this one's included, and the first later F event of the key that gave
    tracking."""
    with session_scope() as session:
        rows = session.scalars(
            select(Message)
            .where(
                Message.shop_id == unit.shop_id,
                Message.flow == unit.flow,
                Message.erp_id == str(unit.event.nro_pedvenda),
                Message.unit_key.like("event:%"),
            )
            .order_by(Message.id)
        ).all()
        ids: list[str] = []
        later: list[int] = []
        for message in rows:
            if order_events.generation_of(message.unit_key) != unit.generation:
                continue
            response = message.response_payload or {}
            if _owner(response) != key:
                continue
            ids += [i for i in response.get(FULFILLMENTS) or [] if i not in ids]
            seq = order_events.seq_of(message.unit_key)
            if seq > unit.event.seq_evento and event_from_payload(message.request_payload or {}).tracking:
                later.append(seq)
    return NfeFulfillments(ids, min(later) if later else None)


def differs(shown: FulfillmentInfo, wanted: dict[str, Any]) -> bool:
    """Pure: whether the fulfillment's tracking is not what `wanted` (fulfillmentCreate's trackingInfo
    input: company, number, url) gives. A company or url not given is no difference (Shopify fills
    in its own url for a carrier it knows); a company is compared without case."""

    def text(value: str | None) -> str:
        return (value or "").strip()

    if text(shown.tracking_number) != text(wanted.get("number")):
        return True
    company, url = text(wanted.get("company")), text(wanted.get("url"))
    if company and text(shown.tracking_company).casefold() != company.casefold():
        return True
    return bool(url) and text(shown.tracking_url) != url


def describe(wanted: dict[str, Any]) -> str:
    """Pure: "tracking SB1BR (SANDBOX LOG)" as the message names it."""
    company = f" ({wanted['company']})" if wanted.get("company") else ""
    return f"tracking {wanted.get('number')}{company}"


@dataclass
class Sent:
    """What `send` did, for the message: the fulfillments updated and a readable note."""

    updated: list[str] = field(default_factory=list)
    note: str | None = None


def send(
    client: AdminClient,
    unit: order_events.EventUnit,
    key: str,
    wanted: dict[str, Any] | None,
    state: Settlement,
    made_now: Sequence[str],
    *,
    notify: bool,
) -> Sent:
    """Give NF-e `key`'s fulfillments the event's tracking (`wanted`, None: the event gives none)
    where Shopify's `state` (read before this run fulfilled anything) shows another one; see the
    module. Raises Rejected (TRACKING_REFUSED) with Shopify's words when a fulfillment is refused."""
    if wanted is None:
        return Sent()
    what = describe(wanted)
    known = of_nfe(unit, key)
    ours = [i for i in known.ids if i not in made_now]
    if made_now and not ours:
        return Sent(note=f"{what} given with the fulfillment")
    if not ours:
        return Sent(
            note=f"{what} not sent: NF-e {key} has no fulfillment (a local pickup, or nothing fulfilled)"
        )
    if known.later_tracking is not None:
        return Sent(note=f"{what} not sent: a later ERP event (#{known.later_tracking}) of NF-e {key} gave "
                         "the tracking")  # fmt: skip
    shown = {f.id: f for f in state.fulfillments}
    sent, notes = Sent(), []
    for fulfillment_id in ours:
        fulfillment = shown.get(fulfillment_id)
        name = (fulfillment.name if fulfillment else None) or fulfillment_id
        if fulfillment is None:
            notes.append(f"fulfillment {name} is not on the order")
        elif not fulfillment.active:
            notes.append(f"fulfillment {name} is {fulfillment.status.lower()}: left alone")
        elif not differs(fulfillment, wanted):
            notes.append(f"fulfillment {name} shows it already")
        else:
            try:
                after = fulfillment_tracking_update(client, fulfillment_id, wanted, notify_customer=notify)
            except ShopifyUserErrors as exc:
                raise Rejected(
                    f"Shopify refused the ERP's {what} for fulfillment {name} of NF-e {key}: {exc.message}",
                    system="shopify", code="TRACKING_REFUSED",
                    detail={"fulfillment_id": fulfillment_id, "tracking": wanted,
                            "user_errors": exc.detail.get("user_errors"), "request_id": exc.request_id},
                ) from exc  # fmt: skip
            sent.updated.append(fulfillment_id)
            notes.append(f"{what} sent to fulfillment {after.name or name}"
                         + (" (customer notified)" if notify else ""))  # fmt: skip
            log.info("invoices: order %s: %s sent to fulfillment %s", unit.order_id, what, fulfillment_id,
                     extra={"shop_id": unit.shop_id, "flow": unit.flow})  # fmt: skip
    if made_now:
        notes.append(f"{what} given with the fulfillment made now")
    sent.note = "; ".join(notes)
    return sent

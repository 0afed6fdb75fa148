"""Tracking an F event gives after its NF-e was applied (flow `invoices`): onto that NF-e's fulfillments.

A supermarket delivery by a carrier (or an own fleet's tracking link) often gets its code after
the NF-e: the ERP's rastreio then comes on a later F event of the same NF-e (another event of the
key; jobs.order_events makes it a message of its own). The NF-e was applied already, so nothing is
left to fulfil and fulfillmentCreate, which carries tracking, is not called: the fulfillment(s)
made at the NF-e get the tracking with fulfillmentTrackingInfoUpdate instead.

Which fulfillments are the NF-e's is the ledger's record (jobs.invoice_fulfillments: each message
writes the fulfillments it creates as it creates them, for its key). Where it records none for the
NF-e (a re-issue of a cancelled NF-e; an NF-e applied, or its message rerun, before fulfillments
were recorded per NF-e; a person's fulfillment made before the NF-e was read), `unrecorded` there
says which to take, or why none. A later event of the NF-e then fails for a person
(TRACKING_FULFILLMENT_UNKNOWN, TRACKING_NO_FULFILLMENT) rather than ending done with the code
dropped; the event that applies the NF-e ends done and flags the order instead (its money and
goods went through). A person's fulfillment is never updated: the message says the ERP's
tracking was not sent to it and flags the order.

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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobs import invoice_fulfillments, order_events
from ledger.errors import Rejected
from ledger.words import Words
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_settlement import FulfillmentInfo, Settlement, fulfillment_tracking_update

log = logging.getLogger(__name__)

FLOW = "invoices"


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
    return f"tracking {wanted.get('number')}{_company(wanted)}"


def _company(wanted: dict[str, Any]) -> str:
    """The carrier as `describe` names it after the number (" (SANDBOX LOG)"; "" : none given)."""
    return f" ({wanted['company']})" if wanted.get("company") else ""


@dataclass
class Sent:
    """What `send` did, for the message: the fulfillments updated and a readable note."""

    updated: list[str] = field(default_factory=list)
    note: str | None = None
    attention: str | None = None  # for a person, on the order link (the message still ends done)
    adopted: dict[str, Any] | None = None  # fulfillments taken as the NF-e's (jobs.invoice_record.ADOPTED)
    words: Words | None = None  # `attention` in the merchant's words (shopify_app.note_words)


def send(
    client: AdminClient,
    unit: order_events.EventUnit,
    key: str,
    wanted: dict[str, Any] | None,
    state: Settlement,
    made_now: Sequence[str],
    *,
    notify: bool,
    valid: Collection[str] = (),
    cancelled: Collection[str] = (),
    later: bool = False,
    pickup: bool = False,
    service: str = "",
) -> Sent:
    """Give NF-e `key`'s fulfillments the event's tracking (`wanted`, None: the event gives none)
    where Shopify's `state` (read before this run fulfilled anything) shows another one; see the
    module. `valid`: the order's valid NF-e keys; `cancelled`: those the ERP order lists cancelled;
    `later`: this event is a later one of an NF-e another message applied; `pickup`: this run marked
    a local pickup; `service`: the fulfillment orders a fulfillment service fulfils, named. Raises
    Rejected with Shopify's words when a fulfillment is refused (TRACKING_REFUSED), and, on a `later`
    event, when a person must place the tracking."""
    if wanted is None:
        return Sent()
    what = describe(wanted)
    found = invoice_fulfillments.records(unit)
    known = invoice_fulfillments.of_nfe(unit, key, found)
    ours = [i for i in known.ids if i not in made_now]
    adopted = known.adopted
    if made_now and not ours:
        return Sent(note=f"{what} given with the fulfillment")
    if not ours:
        placed = invoice_fulfillments.unrecorded(
            unit, key, state, found, valid=valid or [key], cancelled=cancelled, made_now=made_now,
            pickup=pickup or any(r.pickup and r.key == key for r in found), service=service,
        )  # fmt: skip
        if not placed.ids:
            return _not_placed(unit, key, what, wanted, state, placed, later=later)
        ours, adopted = placed.ids, placed.adopted
        log.info("invoices: order %s: NF-e %s takes fulfillment(s) %s (%s)", unit.order_id, key, ours,
                 placed.adopted, extra={"shop_id": unit.shop_id, "flow": unit.flow})  # fmt: skip
    if known.later_tracking is not None:
        return Sent(note=f"{what} not sent: a later ERP event (#{known.later_tracking}) of NF-e {key} gave "
                         "the tracking", adopted=adopted)  # fmt: skip
    shown = {f.id: f for f in state.fulfillments}
    sent, notes = Sent(adopted=adopted), []
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
                    words=("tracking_refused", {"number": wanted.get("number"), "company": _company(wanted),
                                                "fulfillment": name, "key": key, "message": exc.message}),
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


def _not_placed(
    unit: order_events.EventUnit,
    key: str,
    what: str,
    wanted: dict[str, Any],
    state: Settlement,
    placed: invoice_fulfillments.Placement,
    *,
    later: bool,
) -> Sent:
    """Nothing of the record carries NF-e `key`'s tracking (`placed` says why): the note, and the
    order flagged for a person when one must act; a `later` event of the NF-e fails for them
    instead when the app cannot tell where the tracking goes (`placed.code`)."""
    note = f"{what} not sent: {placed.why}"
    tracking = {"number": wanted.get("number"), "company": _company(wanted)}
    if placed.code and later:
        said = {
            "seq": unit.event.seq_evento,
            "nro": unit.event.nro_pedvenda,
            **tracking,
            "key": key,
            "name": state.name,
            "why": placed.words,
        }
        raise Rejected(
            f"ERP event #{unit.event.seq_evento} of ERP order {unit.event.nro_pedvenda} gives {what} for "
            f"NF-e {key} (Shopify order {state.name}), not sent: {placed.why}",
            system="app", code=placed.code,
            detail={"nfe_key": key, "tracking": wanted, "order": state.name},
            words=("tracking_not_sent_later", said) if placed.words else None,
        )  # fmt: skip
    if not placed.person:
        return Sent(note=note)
    words = not_sent(wanted, placed.words) if placed.words else None
    return Sent(note=note, attention=f"{FLOW}: {note}", words=words)


def not_sent(wanted: dict[str, Any], why: Words) -> Words:
    """ "<tracking> not sent: <why>" (a note's part) in the merchant's words."""
    return "tracking_not_sent", {"number": wanted.get("number"), "company": _company(wanted), "why": why}

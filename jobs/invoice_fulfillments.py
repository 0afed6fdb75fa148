"""Which fulfillments are an NF-e's (flow `invoices`): the ledger's record, and where it has none.

Which fulfillments are an NF-e's is the ledger's record, not a guess from Shopify (an order may
have several NF-e, and a person's fulfillments, a marked-up pickup, are not the ERP's): each
invoices message keeps the ids it created under `fulfillments` in its response, with the key it
applied. They are written on the message as each is created (`remember`: with FULFILLED_FOR naming
the key, which `key` cannot yet, as it means "ran to the end": jobs.invoice_record), and a rerun of
the message carries them on (`carried`), so a retry after a failure past the fulfillmentCreate, or
a replay that finds nothing left to fulfil, keeps knowing them. The NF-e's fulfillments are those
every invoices message of the order (of the same ERP) recorded for its key (`of_nfe`).

Where the record names none for an NF-e whose tracking the ERP gives (`unrecorded`), the goods may
still have shipped under a fulfillment the record does not tie to it:
- a re-issue: NF-e 1 was applied and fulfilled, then cancelled in the ERP and NF-e 2 issued for the
  same goods; NF-e 2 found nothing left to fulfil. The fulfillments recorded under the NF-e the ERP
  order now lists cancelled carry NF-e 2's goods: taken as NF-e 2's (ADOPTED on the message, naming
  where they came from);
- an NF-e applied before the app recorded fulfillments per NF-e, or whose message was rerun before
  that (a PENDING capture re-checked, a retry past the fulfillmentCreate, a replay): its message
  records `"fulfillments": []`. The order's active fulfillments no message recorded, made after
  the app first read the NF-e, are taken as its own (ADOPTED);
both only when the NF-e is the order's only valid one, or the only valid one owning none: else
which fulfillment is whose cannot be told, and a person must place the tracking (the message fails
as TRACKING_FULFILLMENT_UNKNOWN naming the order, the NF-e and the tracking).
A fulfillment Shopify shows made before the app first read the NF-e (its message row is written
before any outside call: Shopify's createdAt, to the second, earlier than that second) was made by
a person — the store shipped, or marked it fulfilled, by hand — and is left alone: the message says
the ERP's tracking was not sent for that reason and flags the order for a person. A local pickup
(marked ready for pickup, no fulfillment) has nothing to carry tracking. Nothing fulfilled at all
(a fulfillment order on hold, every fulfillment cancelled) is TRACKING_NO_FULFILLMENT, for a person:
once the hold is released, Retry fulfils the goods and sends the tracking (a fulfillment a person
made meanwhile is theirs: the tracking goes on it by hand).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs import order_events
from jobs.invoice_record import ADOPTED, FULFILLED_FOR, FULFILLING_AT, FULFILLMENTS, KEY, WRITTEN
from jobs.nfe import normalise
from jobs.order_event_codec import event_from_payload
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, utcnow
from ledger.words import Words
from shopify_app.admin_api.order_settlement import FulfillmentInfo, Settlement


def _owner(response: dict[str, Any]) -> str | None:
    """The NF-e key a message's recorded fulfillments belong to."""
    return response.get(FULFILLED_FOR) or response.get(KEY)


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


def fulfilling_at(message_id: int) -> str | None:
    """When the message first asked Shopify to fulfil (`mark_fulfilling`), None: never."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        stamp = (message.response_payload or {}).get(FULFILLING_AT) if message is not None else None
        return stamp if isinstance(stamp, str) else None


def mark_fulfilling(message_id: int) -> None:
    """Write at once on the message, before its first fulfillmentCreate, when the app first asked
    Shopify to fulfil (kept): a fulfillment no message recorded made after it may be the app's own,
    its answer lost; one made while the app had asked for none is a person's (`unrecorded`)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None and FULFILLING_AT not in (message.response_payload or {}):
            message.response_payload = {
                **(message.response_payload or {}),
                FULFILLING_AT: utcnow().isoformat(),
            }


@dataclass(frozen=True)
class Record:
    """What one invoices message of the order says about fulfillments."""

    message_id: int
    seq: int  # its event's seqEvento
    created_at: datetime  # when the app first read its event (the row is written before any call)
    key: str | None  # the NF-e it is about: whose fulfillments it recorded, wrote, or its event names
    owner: str | None  # whose fulfillments it recorded (None: none)
    ids: tuple[str, ...]  # the fulfillments recorded: created, and adopted
    adopted: dict[str, Any] | None  # its ADOPTED record
    tracking: bool  # its event gives tracking
    pickup: bool  # it dealt with a local pickup (ready_for_pickup)
    fulfilling_at: datetime | None = None  # when it first asked Shopify to fulfil (FULFILLING_AT)
    legacy: bool = False  # done by a version that recorded no fulfillments per NF-e


def records(unit: order_events.EventUnit) -> list[Record]:
    """Every invoices message of the order (of the same ERP: `unit.generation`), in id order."""
    with session_scope() as session:
        rows = order_events.order_messages(session, unit)
        found = []
        for message in rows:
            response = message.response_payload or {}
            event = event_from_payload(message.request_payload or {})
            adopted = response.get(ADOPTED) if isinstance(response.get(ADOPTED), dict) else None
            ids = [*(response.get(FULFILLMENTS) or []), *((adopted or {}).get("ids") or [])]
            owner = _owner(response)
            named = normalise(event.invoice.key) if event.invoice is not None else None
            created = message.created_at
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            asked = response.get(FULFILLING_AT)
            asked_at = datetime.fromisoformat(asked) if isinstance(asked, str) else None
            asked_at = asked_at.replace(tzinfo=UTC) if asked_at and not asked_at.tzinfo else asked_at
            # done by a version that recorded no fulfillments per NF-e: no owner, no first ask kept
            legacy = (
                message.status == MessageStatus.DONE.value and not owner and FULFILLING_AT not in response
            )
            found.append(Record(
                message.id, order_events.seq_of(message.unit_key), created,
                owner or response.get(WRITTEN) or named, owner, tuple(dict.fromkeys(ids)), adopted,
                event.tracking is not None, bool(response.get("ready_for_pickup")), asked_at, legacy,
            ))  # fmt: skip
    return found


@dataclass(frozen=True)
class NfeFulfillments:
    """What the ledger knows of an NF-e's fulfillments."""

    ids: list[str] = field(default_factory=list)  # recorded for it, by any message, in order
    later_tracking: int | None = None  # a later F event of the NF-e that gave tracking (its seq)
    adopted: dict[str, Any] | None = None  # what this message adopted for it before (a rerun)


def of_nfe(unit: order_events.EventUnit, key: str, found: Sequence[Record]) -> NfeFulfillments:
    """The fulfillments the order's invoices messages (`found`: `records`) recorded for NF-e `key`,
    this one's included, and the first later F event of the key that gave tracking."""
    ids: list[str] = []
    later: list[int] = []
    adopted = None
    for record in found:
        if record.owner != key:
            continue
        ids += [i for i in record.ids if i not in ids]
        if record.seq > unit.event.seq_evento and record.tracking:
            later.append(record.seq)
        if record.message_id == unit.message_id:
            adopted = record.adopted
    return NfeFulfillments(ids, min(later) if later else None, adopted)


@dataclass(frozen=True)
class Placement:
    """Where tracking goes for an NF-e the record names no fulfillment of (`unrecorded`): the
    fulfillments taken as its own (`ids`, with the ADOPTED record to keep), else why none."""

    ids: list[str] = field(default_factory=list)
    adopted: dict[str, Any] | None = None
    why: str | None = None  # why nothing carries the tracking (for the message)
    person: bool = False  # a person must place it (else, e.g. a local pickup, nothing ships)
    code: str | None = None  # the failure code when the message must fail for a person
    words: Words | None = None  # `why` in the merchant's words (shopify_app.note_words)


def unrecorded(
    unit: order_events.EventUnit,
    key: str,
    state: Settlement,
    found: Sequence[Record],
    *,
    valid: Collection[str],
    cancelled: Collection[str],
    made_now: Collection[str] = (),
    pickup: bool = False,
    service: str = "",
) -> Placement:
    """NF-e `key`'s fulfillments where no message recorded any for it (see the module): those of the
    NF-e the ERP lists `cancelled` it re-issues, else the active ones no message recorded, made after
    the app first read the NF-e — when `key` is the only one of the order's `valid` NF-e owning
    none; else why nothing carries the tracking. `pickup`: the NF-e is a local pickup; `service`: the
    fulfillment orders a fulfillment service fulfils (jobs.invoice_lines.SERVICE_HOLDS), named."""
    owned: dict[str, list[str]] = {}
    for record in found:
        if record.owner and record.ids:
            mine = owned.setdefault(record.owner, [])
            mine += [i for i in record.ids if i not in mine]
    bare = [k for k in valid if k != key and not owned.get(k)]
    kept = {i for k, ids in owned.items() if k not in cancelled for i in ids}
    reissued = [k for k in owned if k in cancelled and k != key]
    inherited = list(dict.fromkeys(i for k in reissued for i in owned[k] if i not in kept))
    if inherited:
        if bare:
            return _unknown(state, key, inherited, bare)
        origin = f"NF-e {', '.join(reissued)}, cancelled in the ERP: this NF-e re-issues its goods"
        return Placement(inherited, {"ids": inherited, "from": origin})
    recorded = {i for ids in owned.values() for i in ids} | set(made_now)
    loose = [f for f in state.fulfillments if f.active and f.id not in recorded]
    # Since when a loose fulfillment may be the app's own (a fulfillmentCreate whose answer was lost):
    # its first ask to fulfil the NF-e (less ASKED_MARGIN: Shopify's clock is not ours), or, for a
    # message of a version that recorded none per NF-e, when it read the event. The app never having
    # asked, every loose one is a person's (made while a run waited or failed, say).
    mine = [r for r in found if r.key == key or r.message_id == unit.message_id]
    since = [r.fulfilling_at - ASKED_MARGIN for r in mine if r.fulfilling_at is not None]
    since += [r.created_at for r in mine if r.legacy and r.message_id != unit.message_id]
    read_at = min(since, default=None)
    by_hand = [f for f in loose if read_at is None or _made_before(f, read_at)]
    after = [f.id for f in loose if f not in by_hand]
    if after:
        if bare:
            return _unknown(state, key, after, bare)
        origin = "on the order, recorded by no message (applied before fulfillments were recorded per NF-e)"
        return Placement(after, {"ids": after, "from": origin})
    if by_hand:
        names = ", ".join(f.name or f.id for f in by_hand)
        return Placement(why=(
            f"the goods of NF-e {key} were fulfilled in Shopify by hand before the app fulfilled them "
            f"(fulfillment {names}: a person's, which the app leaves alone); add the tracking to it in "
            "Shopify if the customer should get it"
        ), person=True, words=("tracking_by_hand", {"key": key, "names": names}))  # fmt: skip
    if pickup:
        return Placement(why=f"NF-e {key} is a local pickup (marked ready for pickup): nothing ships",
                         words=("tracking_pickup", {"key": key}))  # fmt: skip
    if service:
        return Placement(why=(
            f"NF-e {key}'s goods are fulfilled by a fulfillment service ({service}), whose fulfillment "
            "carries its own tracking; add this one to it in Shopify if the customer should get it"
        ), words=("tracking_by_service", {"key": key, "service": service}))  # fmt: skip
    return Placement(why=(
        f"nothing of Shopify order {state.name} is fulfilled to carry it (no active fulfillment: a "
        f"fulfillment order on hold, or every fulfillment cancelled); release the hold, then Replay this "
        "NF-e's message (Retry if it failed): the "
        f"app fulfils NF-e {key}'s goods and sends the tracking (goods you fulfil yourself: add the "
        "tracking to that fulfillment)"
    ), person=True, code="TRACKING_NO_FULFILLMENT",
       words=("tracking_no_fulfillment", {"name": state.name, "key": key}))  # fmt: skip


def _unknown(state: Settlement, key: str, candidates: list[str], bare: list[str]) -> Placement:
    shown = {f.id: f.name or f.id for f in state.fulfillments}
    names = ", ".join(shown.get(i, i) for i in candidates)
    return Placement(why=(
        f"no fulfillment is recorded for NF-e {key}, and which of fulfillment {names} carries its goods "
        f"cannot be told (NF-e {', '.join(bare)} of the order has none recorded either); add the tracking "
        f"in Shopify to the fulfillment of NF-e {key}'s goods"
    ), person=True, code="TRACKING_FULFILLMENT_UNKNOWN",
       words=("tracking_fulfillment_unknown",
              {"key": key, "names": names, "bare": ", ".join(bare)}))  # fmt: skip


ASKED_MARGIN = timedelta(seconds=60)


def _made_before(fulfillment: FulfillmentInfo, read_at: datetime) -> bool:
    """Whether Shopify shows `fulfillment` made before the second the app first read the NF-e
    (Shopify's times are to the second: the same second may be the app's own)."""
    if not fulfillment.created_at:
        return False
    try:
        made = datetime.fromisoformat(fulfillment.created_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    made = made if made.tzinfo else made.replace(tzinfo=UTC)
    return made < read_at.replace(microsecond=0)

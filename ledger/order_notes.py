"""The notes for a person on an order link: one per flow, each set and cleared by its own flow.

Several flows flag the same order for a person: an invoice's capture warning (part of the NF-e not
charged, a refund owed), a Shopify edit NOT applied in the ERP, a cancellation after invoicing (an
NF-e to cancel, goods that may have left), an ERP event that failed. Each needs its person, so none
may hide another: a flow writes and clears only its own note, and the person sees them all. A
person closes one too: with its failed message's Mark as handled (ledger.handled), or, for a note no
message stands behind, on the note itself (shopify_app.api_order_notes): that slot only, by `clear`.

They live in `OrderLink.needs_attention`, one line per note, each line starting with its flow's
name as every note always has ("invoices: ...", "order_edits: ..."). That keeps the column a
plain text a person (or `ledger.privacy`'s scrubbing, or a LIKE) reads as is, and a row written
before notes were kept per flow, one "flow: text" string, reads as that flow's one note.

A slot is a flow's name, and apart from it each of the flow's ERP events that failed
(`jobs.order_events`): "order_edits (ERP event #12): ..." is the ERP's picking edit #12 that could
not be applied in Shopify, a note of its own beside the Shopify edit NOT applied in the ERP
("order_edits: ..."), and beside the note of its event #13 if that one failed too (a later event
of a flow may run behind a failed earlier one: `wait_for_earlier`); each event's note goes once
that event is applied or skipped, the others stay, as their events are still failed. An event is
its number and the ERP it came from: after the ERP connection moved to another ERP
(ErpConnection.generation n), that ERP numbers its events on its own, so its #12 is
"(ERP event #12, erp<n>)", another note than the first ERP's "(ERP event #12)" (as a row written
before, which reads as the first ERP's). Within a slot the flow decides: its new note replaces
its old one, and it clears its note only when it is the one it means (`clear(..., starting=...)`:
a cancellation's "cancel the NF-e" is not cleared by the cancellation that clears its "ERP number
unknown").

A flow may also keep a note on one topic of its own beside its note, a slot of its own: "order_edits
(delivery address): ..." is a delivery address changed in Shopify that the ERP order, picked, no
longer took (jobs.order_edits.address), beside a Shopify edit NOT applied ("order_edits: ...").
A message's unit key names its topic (`topic_of`: "address:<order>" is the delivery address's).
"order_edits (fulfilled lines): ..." is the ERP's picking that Shopify could not take on lines a
person had fulfilled (jobs.order_edits.fulfilled): its event applied the rest, so the note is
the topic's, written and cleared by the order's picking edits, not its event's.

Read order: a cancellation's notes first (an NF-e to cancel, goods that may have left: the note
that must stay in sight), then the others as they were written. A line naming no known flow (text
written by hand, or a continuation line of an older note) is kept as it was: a line naming none
belongs to the note above it, or is a note of no flow, which no flow clears.

A note may carry its words (`put(..., words=...)`), as a skipped message does (ledger.trace.skip):
one or more parts, each a key and its params (ids, numbers, order names, `money`, the ERP's or a
person's own text; never English text of the app's; a param may be a part itself, or a list of
parts), kept in `OrderLink.attention_words` by the note's slot (its `label`) and written, replaced
and cleared with the note. The Orders page says them in the merchant's language
(shopify_app.note_words); the English line stays the stored truth, which a person reads and
`ledger.privacy` scrubs (its params too). A note put without words drops the slot's earlier words,
so none outlives the text it said: a row written before, or a note given none, reads as its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.flows import BY_NAME
from ledger.models import OrderLink, utcnow

FIRST = "cancellations"  # its notes are read first: an NF-e to cancel, goods that may have left
_LINE = re.compile(
    r"^(?P<flow>[a-z_]+)"
    r"(?: \(ERP event #(?P<event>\d+)(?:, erp(?P<generation>\d+))?\)| \((?P<topic>[a-z ]+)\))?:"
)
_BREAK = re.compile(r"\s*[\r\n]+\s*")
_EVENT_UNIT = re.compile(r"^event:(\d+)(?::erp(\d+))?$")  # jobs.order_events.unit_key
# A unit key's prefix -> the topic of the note it leaves: a delivery address not taken
# (jobs.order_edits.address), a payment lost once in the ERP (jobs.order_payment_lost), a fraud
# verdict once in the ERP (jobs.order_risk_late); a card
# payment's data (jobs.card_payments) leaves none, but its message, held, is shown and closed on its
# own topic, never as the orders flow's own note (which Mark as handled on it would clear).
TOPICS = {"address": "delivery address", "payment": "payment", "card": "card payment", "risk": "fraud risk"}
Words = tuple[str, dict[str, Any]]  # (key, params), as ledger.trace.Words
MONEY = "money"  # a param {"money": "12.50"}: an amount, said as the page's language writes money
DELIVERY = "delivery"  # a param holding a delivery address as written: ledger.privacy scrubs it whole


@dataclass(frozen=True)
class Note:
    flow: str  # the flow that wrote it ("" : a text naming no flow)
    event: int | None  # the ERP event (seq_evento) it is about, for an event that failed
    text: str  # the note as written, starting with the flow's name
    generation: int = 0  # the ERP that event came from (ErpConnection.generation; 0: the first)
    topic: str = ""  # a note on one topic of the flow's ("delivery address"), beside its own

    @property
    def slot(self) -> tuple[str, int | None, int, str]:
        """The flow's own note, one of its failed events (by number and ERP), or one of its
        topics: one note each."""
        return self.flow, self.event, self.generation, self.topic

    @property
    def label(self) -> str:
        """The slot as the note names it ("invoices", "order_edits (ERP event #12)", "order_edits
        (delivery address)"), without its words (which may quote a delivery address); "" for a
        note naming no flow."""
        found = _LINE.match(self.text) if self.flow else None
        return found[0].removesuffix(":") if found else ""


def parse(stored: str | None) -> list[Note]:
    """The notes of a needs_attention value, in the order read (a cancellation's first)."""
    notes: list[Note] = []
    for line in (stored or "").splitlines():
        if not line.strip():
            continue
        found = _LINE.match(line)
        if found and found["flow"] in BY_NAME:
            event = int(found["event"]) if found["event"] else None
            generation = int(found["generation"] or 0)
            notes.append(Note(found["flow"], event, line, generation, found["topic"] or ""))
        elif notes:  # a line of an older note written with line breaks
            last = notes[-1]
            notes[-1] = Note(last.flow, last.event, f"{last.text}\n{line}", last.generation, last.topic)
        else:
            notes.append(Note("", None, line))
    return sorted(notes, key=lambda n: n.flow != FIRST)  # stable: the rest as written


def event_of(unit_key: str) -> tuple[int, int] | None:
    """The ERP event a message's unit key names ("event:<seq>" of the first ERP, "event:<seq>:erp<n>"
    of the n-th) as (seq_evento, generation), else None: the slot of the note its failure leaves."""
    found = _EVENT_UNIT.match(unit_key)
    return (int(found[1]), int(found[2] or 0)) if found else None


def topic_of(unit_key: str) -> str:
    """The topic of the note a message's unit key leaves ("" : the flow's own note)."""
    return TOPICS.get(unit_key.split(":", 1)[0], "")


def generation_of(unit_key: str) -> int:
    """The ERP generation of an event unit key (0: the shop's first ERP, as for a key naming no event)."""
    event = event_of(unit_key)
    return event[1] if event else 0


def notes(link: OrderLink) -> list[Note]:
    """The order link's notes, a cancellation's first."""
    return parse(link.needs_attention)


def note_of(
    link: OrderLink, flow: str, *, event: bool | int = False, generation: int = 0, topic: str = ""
) -> str | None:
    """`flow`'s own note on the link (`topic`: its note on that topic); `event`: the note of that
    failed ERP event (of the `generation`-th ERP), or True: the first of its failed events' notes.
    None when there is none."""
    if event is True:
        return next((n.text for n in notes(link) if n.flow == flow and n.event is not None), None)
    wanted = (flow, None, 0, topic) if event is False else (flow, event, generation, "")
    return next((n.text for n in notes(link) if n.slot == wanted), None)


def money(amount: Decimal | str | int | float) -> dict[str, str]:
    """A money param (MONEY): the amount as the English text writes it ("12.50")."""
    return {MONEY: str(amount)}


def joined(parts: Sequence[Any], join: str = "comma") -> dict[str, Any]:
    """A param of several parts said one after another (`join`: "and", "comma", "semicolon": said in
    the page's language, shopify_app.note_words.JOINS)."""
    return {"join": join, "parts": list(parts)}


def words_of(link: OrderLink) -> dict[str, list[dict[str, Any]]]:
    """The notes' words by slot label, only those of a note the link still holds."""
    stored = link.attention_words if isinstance(link.attention_words, dict) else {}
    labels = {n.label for n in notes(link) if n.label}
    return {label: parts for label, parts in stored.items() if label in labels and isinstance(parts, list)}


def words_of_note(
    link: OrderLink, flow: str, *, event: int | None = None, generation: int = 0, topic: str = ""
) -> list[Words] | None:
    """The parts of `flow`'s note in that slot as `put` takes them; None: no note, or one with no words."""
    wanted = (flow, event, generation, "" if event is not None else topic)
    note = next((n for n in notes(link) if n.slot == wanted), None)
    parts = words_of(link).get(note.label) if note is not None else None
    return [_as_words(p) for p in parts] if parts else None


def _as_words(part: Any) -> Any:
    """A stored part back as `put` takes it (a key and params, nested parts as tuples)."""
    if isinstance(part, dict) and "key" in part:
        params = part.get("params") if isinstance(part.get("params"), dict) else {}
        return str(part["key"]), {k: _as_words(v) for k, v in params.items()}
    if isinstance(part, list):
        return [_as_words(p) for p in part]
    return part


def _stored(value: Any) -> Any:
    """A part or param as JSON: a (key, params) tuple a part, a list of them a list, an amount text."""
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], dict)
    ):
        return {"key": value[0], "params": {k: _stored(v) for k, v in value[1].items()}}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _stored(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a Decimal, a date: its text


def put(
    link: OrderLink,
    flow: str,
    text: str,
    *,
    event: int | None = None,
    generation: int = 0,
    topic: str = "",
    words: Words | Sequence[Words] | None = None,
) -> None:
    """Set `flow`'s note (`event`: the note of that flow's ERP event that failed, of the
    `generation`-th ERP; `topic`: its note on that topic), replacing only the note of the same slot:
    the flow's own earlier one, or that same event's or topic's. `text` may start with the flow's
    name already (a note built by the flow, "invoices: ..."); line breaks become spaces, as a line
    is a note. `words`: the note in the merchant's words, one part or several (said one after
    another, "; " between); None drops the slot's earlier words with its earlier text."""
    if event is not None:
        erp = f", erp{generation}" if generation else ""
        line, topic = f"{flow} (ERP event #{event}{erp}): {text}", ""
    elif topic:
        line, generation = f"{flow} ({topic}): {text}", 0
    else:
        line, generation = text if text.startswith(f"{flow}: ") else f"{flow}: {text}", 0
    new = Note(flow, event, _BREAK.sub(" ", line.strip()), generation, topic)
    kept = notes(link)
    at = next((i for i, n in enumerate(kept) if n.slot == new.slot), None)
    if at is None:
        kept.append(new)
    else:
        kept[at] = new
    parts = [words] if isinstance(words, tuple) and words and isinstance(words[0], str) else list(words or [])
    _store(link, kept, {new.label: [_stored(p) for p in parts] if parts else None})


def clear(
    link: OrderLink,
    flow: str,
    *,
    starting: str | tuple[str, ...] = "",
    event: int | None = None,
    generation: int = 0,
    topic: str = "",
) -> bool:
    """Clear `flow`'s own note when it starts with `starting` (the note the caller means; "" any of
    the flow's); `event`: the note of that ERP event (of the `generation`-th ERP) only, never
    another event's; `topic`: its note on that topic only. Another flow's note is never touched.
    Whether a note was cleared."""
    if event is not None:
        keep = [n for n in notes(link) if n.slot != (flow, event, generation, "")]
    else:
        mine = (flow, None, 0, topic)
        keep = [n for n in notes(link) if not (n.slot == mine and n.text.startswith(starting))]
    if len(keep) == len(notes(link)):
        return False
    _store(link, keep)
    return True


def _store(link: OrderLink, kept: list[Note], words: dict[str, Any] | None = None) -> None:
    """Written in the order read, so a reader of the column as is (the reconciliation's rows, the
    demo) sees a cancellation's note first too. `words`: a slot's words set (None: dropped); the
    words of a note no longer kept go with it."""
    text = "\n".join(n.text for n in sorted(kept, key=lambda n: n.flow != FIRST)) or None
    if text != link.needs_attention:
        link.needs_attention, link.updated_at = text, utcnow()
    labels = {n.label for n in kept if n.label}
    stored = dict(link.attention_words) if isinstance(link.attention_words, dict) else {}
    for label, parts in (words or {}).items():
        stored[label] = parts
    said = {label: parts for label, parts in stored.items() if label in labels and parts} or None
    if said != link.attention_words:
        link.attention_words = said  # a new dict: the JSON column sees the change

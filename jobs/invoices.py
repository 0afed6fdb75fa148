"""Invoicing ERP -> Shopify (flow `invoices`): the NF-e / NFC-e on the Shopify order.

Source: EventoPedido 'F' (jobs.order_events enqueues `apply_event(shop_id, seq_evento)`), which
carries the fiscal document and, for deliveries, the tracking. Unit of work: one event.

Steps, each checked against Shopify's own state first so the same invoice twice changes
nothing (idempotent on the key):
1. validate the 44-character key (layout, model 55/65, modulo 11: jobs.nfe) — an invalid key
   is rejected with the value and the rule, and nothing is written; so is a valid key whose own
   model, series, number, issuer CNPJ or year-month disagree with the document the event
   describes (NFE_KEY_MISMATCH: it is another document's key), whose issuer is not of the order's
   company (its CNPJ root) or whose cUF is not its issuer's state (NFE_KEY_MISMATCH too), or whose
   document was issued before the ERP order existed (NFE_KEY_INVALID). A refused key is checked again as
   the ERP order now lists the same document (jobs.invoice_keys): the event stays as it was read,
   so a Retry after the merchant corrects the key in the ERP applies the corrected one;
2. order metafields, namespace "nfe" (chave, numero, serie, modelo, data_emissao, danfe_url,
   xml_url) of the latest valid NF-e — when `nfe.chave` already holds this key, only what the
   order lacks (a DANFE or XML link the ERP gave on a later event) is written, nothing of it
   deleted (jobs.invoice_fields) — and
   `nfe.chaves`, every valid key of the order (an order may have several NF-e:
   jobs.invoice_documents);
3. one fulfillment per location for what the NF-e carries (jobs.invoice_lines: per SKU at most
   the units the ERP served, less those fulfilled already; an NF-e that is not the order's last
   fulfils them only when its total pays for them all — its event lists the ERP order's lines as
   they stand, not its own share — else nothing yet, the message and the order link saying the
   fulfilment waits for the last NF-e, which fulfils the remainder of all the ERP served with its
   own tracking; a code given later for an NF-e that fulfilled nothing is not put on it but named
   for a person, as which parcel it is for cannot be told), with tracking when the ERP gives it
   (a url that is not an absolute http(s) address left out), Shopify e-mailing the customer per
   the shop's setting `fulfillment_notify_customer`; each fulfillment made is written on the
   message at once as this NF-e's (jobs.invoice_tracking), so retries and several NF-e per order
   keep knowing which are whose. What no NF-e line carries (an item a person added in Shopify
   after the picking) is left unfulfilled and named on the order link once the last NF-e is in. A
   local pickup (deliveryMethod PICK_UP) is marked ready for pickup instead, once the last NF-e is
   in (Shopify notifies the customer): the goods are still in the store, and marking it picked up
   is the merchant's, in Shopify;
4. the tag "NF-e emitida" ("NFC-e emitida" for a model 65);
5. capture what the order's NF-e still ask for (the totals of its valid NF-e so far —
   jobs.invoice_documents: partial invoicing, a re-issue — plus the tips and gift cards sold that
   no NF-e line carries, minus the money already taken: a gift card paying, an automatic capture,
   an earlier NF-e's or partial capture) from the open authorisations, each with finalCapture
   once nothing more is expected (the NF-e carry every line the ERP served — their events list
   it and their totals are short of no served unit — or their totals reach the ERP's served
   total, to a cent's rounding per NF-e: a lower total captures less and releases the rest;
   before, the rest stays authorised for the next NF-e, named on the order link for a person, and
   money taken ahead is no refund; an NF-e applied already — a
   replay, another event of the same key — captures nothing more, so a refund made since stays
   refunded; an authorisation that allows one capture only — OrderTransaction.multiCapturable
   false — is captured final even so, and what it released is named for a person; a later NF-e,
   nothing left to capture from it, ends done with its amount named as not charged, for a person to
   charge the customer another way: jobs.invoice_capture.closed_by_one_capture). Never above
   what was authorised: when the NF-e asks for more (a weighed item picked heavier, which the order edit
   leaves at its Shopify price for that reason), all that was authorised is captured and the
   part not charged is written on the order link for a person, as is money taken above the NF-e
   (a refund owed). Nor above Shopify's order total, what the customer sees they owe
   (jobs.invoice_capture.within_total): a heavier weight beside a cut, which left room in the
   authorisation, is not captured (Shopify would show it paid above its total, a refund owed) but
   named on the order link as not charged, as the heavier weight alone is. The message still ends
   `done`: the invoice is on the order and the money
   that could be taken was. Only a capture Shopify answers SUCCESS is money taken
   (jobs.invoice_capture): one PENDING at the gateway (a payments app resolves it later) is not
   asked again, and the message, written and fulfilled, is checked again (Transient) until Shopify
   shows it taken or refused — the re-check follows the captures the message recorded it asked
   (`capture_asked`, kept at once whatever the answer: a run failing after its capture — a
   fulfillment refused, a crash — is rerun by the same re-check) and plans nothing anew; one
   refused (FAILURE) is named for a person with the amount and the authorisation, as is an
   authorisation that expired uncaptured. While one is refused or pending, the order's other
   authorisations are not released;
6. tracking the ERP gives after the NF-e was applied — a later F event of the same key (a
   carrier's code comes after invoicing; a changed code, carrier or url), which finds nothing left
   to fulfil — goes to the fulfillments made at that NF-e (fulfillmentTrackingInfoUpdate, the
   customer notified per the same setting) where Shopify shows another: the same event twice sends
   nothing, an older event replayed does not put back an older code, another NF-e's fulfillments
   and a local pickup (no fulfillment) are left alone, and a refusal fails the message as
   TRACKING_REFUSED for a person (jobs.invoice_tracking). Where no message recorded the NF-e's
   fulfillments (a re-issue of a cancelled NF-e, an NF-e applied before they were recorded), the
   ones to take are worked out or a person is told — never a silent drop
   (jobs.invoice_fulfillments). The message says what it did ("tracking X (carrier) sent to
   fulfillment #1001-F1"). Such an event keeps its NF-e where it was first applied among the
   order's NF-e: the order goes on showing the latest one. It never charges on its own: behind an
   earlier event of the same NF-e that failed or is parked (its capture refused) it is held
   (EARLIER_EVENT_NOT_APPLIED) until that one is applied — or closed with "Mark as handled"
   (ledger.handled: a person settled the NF-e's money outside the app). Then it writes the NF-e,
   fulfils and sends its tracking, and captures nothing: the goods did leave
   (the ERP invoiced them; tracking needs a fulfillment), but the money is the person's — the
   message and the order's note say "capture of NF-e K not asked: event #n was handled outside the
   app by <who>: <note>", and what it did not ask for (SETTLED) is not charged by the next NF-e.
An event whose own document is cancelled — its status C, or the ERP order (read for every event:
the ERP's current truth, e.g. a replay of an NF-e cancelled since) lists its key cancelled — is
skipped with the reason before any write, as an event with no document takes only a valid one
(the earliest no done message applied yet: jobs.invoice_documents.document_of; one that gives
tracking on an order of several NF-e all applied fails as TRACKING_NFE_UNKNOWN instead of guessing).
The NF-e written on the order is marked on the message at once (jobs.invoice_record.WRITTEN), so
an old ERP's half-done invoice is told from one that did nothing (jobs.order_events.half_done).
A Shopify order cancelled meanwhile is skipped when a later C event of the order was applied or
the ERP lists the NF-e cancelled (else ORDER_CANCELLED, for a person).
The OrderLink keeps the latest NF-e's fields, what the order was paid (captured, or paid at
checkout), Shopify's financial status after the capture (orderCapture's answer, else the order as
read), the ERP status and this flow's note (`ledger.order_notes`): beside, never over, another
flow's (a cancellation's NF-e to cancel, an edit NOT applied in the ERP), cleared once a later
capture settles it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from erp.records import Invoice, Order, OrderEvent
from jobs import (
    invoice_capture,
    invoice_documents,
    invoice_fields,
    invoice_fulfillments,
    invoice_keys,
    invoice_lines,
    invoice_tracking,
    old_orders,
    order_clients,
    order_events,
    order_map,
)
from jobs.carrier_names import shopify_carrier
from jobs.invoice_capture import ASKED, Asked, Capture
from jobs.invoice_record import (
    ADOPTED,
    ASKED_SO_FAR,
    CAPTURE_RUN,
    CAPTURES_BEFORE,
    CAPTURING,
    CAPTURING_AT,
    CHARGED_AT,
    ENDED,
    FULFILLING_AT,
    FULFILLMENTS,
    KEY,
    SETTLED,
    WRITTEN,
)
from jobs.nfe import INVOICE_TAG, normalise
from jobs.order_edits import to_shopify as picking
from ledger import bindings, order_notes, shop_settings
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.handled import unless_handled
from ledger.models import LocationMapping, Message, MessageStatus, OrderLink, Shop
from ledger.words import Words
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_results import FulfillmentOrder
from shopify_app.admin_api.order_settlement import Settlement, settlement

log = logging.getLogger(__name__)

FLOW = "invoices"
NAMESPACE = "nfe"
TAG = INVOICE_TAG  # "NF-e emitida", "NFC-e emitida" (model 65)
ZERO = Decimal("0")
# What the merchant does next with a local pickup marked ready (recorded on the message).
PICKED_UP_BY_MERCHANT = "the customer collects it at the store; the merchant marks it picked up in Shopify"
# Why an NF-e that is not the order's last fulfilled nothing (recorded on the message, and for a person).
FULFILMENT_WAITS = "fulfilment waits for the last NF-e of this order: its lines are not known per NF-e"
WAITS_WORDS: Words = ("fulfilment_waits", {})  # FULFILMENT_WAITS in the merchant's words
TRACKING_WAITING = "tracking_waiting"  # a done message's: the code its NF-e gave while its fulfilment waited


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: enqueue the EventoPedido poller."""
    order_events.poll_now(shop_id)


def apply_event(shop_id: int, seq_evento: int, generation: int = 0) -> str:
    """The job the poller enqueues for an 'F' event (of the shop's `generation`-th ERP); the
    message's final status."""
    return order_events.apply_by_seq(shop_id, seq_evento, FLOW, replay, generation)


@unless_handled
def replay(message_id: int) -> str:
    """Redo one 'F' event, re-reading the Shopify order (retry, replay, resume)."""
    return order_events.execute(message_id, _apply, before_rerun=invoice_documents.keep_charge_time)


FIELD_KEYS = ("chave", "numero", "serie", "modelo", "data_emissao", "danfe_url", "xml_url")  # one NF-e's


def invoice_metafields(order_id: str, invoice: Invoice) -> list[dict[str, Any]]:
    """Pure: the metafieldsSet input for an invoice (links only when the ERP gave them)."""
    values = [
        ("chave", "single_line_text_field", invoice.key),
        ("numero", "single_line_text_field", str(invoice.number)),
        ("serie", "single_line_text_field", str(invoice.series)),
        ("modelo", "single_line_text_field", invoice.model),
        ("data_emissao", "date_time", invoice.issued_at.replace(microsecond=0).isoformat()),
        ("danfe_url", "url", web_url(invoice.danfe_url)),
        ("xml_url", "url", web_url(invoice.xml_url)),
    ]
    return [
        {"ownerId": order_id, "namespace": NAMESPACE, "key": key, "type": kind, "value": value}
        for key, kind, value in values
        if value
    ]


def web_url(value: str | None) -> str | None:
    """An absolute http(s) address, else None. Shopify validates a `url` metafield (and a tracking
    URL) and metafieldsSet is atomic: one relative or malformed link from the ERP would refuse
    the key, the number and the rest, and stop the invoice before its fulfillment and capture."""
    if not value or any(c.isspace() for c in value.strip()):
        return None
    try:
        parsed = urlsplit(value.strip())
        usable = parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:
        return None
    if not usable:
        log.warning("invoices: the ERP's link %r is not an http(s) address; left out", value)
        return None
    return value.strip()


def tracking_input(event: OrderEvent) -> dict[str, Any] | None:
    """Pure: fulfillmentCreate trackingInfo from the ERP's rastreio (None when not given)."""
    if event.tracking is None:
        return None
    return {
        "company": shopify_carrier(event.tracking.carrier),  # "CORREIOS SEDEX" -> "Correios"
        "number": event.tracking.code,
        "url": web_url(event.tracking.url),
    }


def _apply(unit: order_events.EventUnit) -> dict[str, Any]:
    event = unit.event
    # The ERP's current truth about the order's NF-e, read before any write: an event replayed after
    # its NF-e was cancelled (its stored status still says V) must not count or charge it again.
    erp_order = order_clients.erp_client(unit.shop_id).get_order(event.nro_pedvenda)
    erp_documents = list(erp_order.invoices)
    # An event carrying a document the ERP order does not list (another order's NF-e: a valid key of
    # the same company) is read as one carrying none: the ERP order's own document applies, never the
    # other's (its key written on two orders, its goods fulfilled here).
    foreign = invoice_documents.not_of_order(event.invoice, erp_documents)
    if foreign is not None:
        log.warning("invoices: order %s: ERP event %s carries NF-e %s, which ERP order %s does not list; "
                    "the order's own NF-e applies", unit.order_id, event.seq_evento, foreign,
                    event.nro_pedvenda)  # fmt: skip
        event = replace(event, invoice=None)
    if event.invoice is None:  # the event does not carry it (its layout is [assumed]): the order does
        document = invoice_documents.document_of(unit, erp_documents)
        if document is None:
            raise Rejected(
                f"ERP event {event.seq_evento} (invoiced) carries no fiscal document, and ERP order "
                f"{event.nro_pedvenda} lists none valid", system="consinco", code="DOCUMENTO_AUSENTE",
                words=("invoice_no_document", {"seq": event.seq_evento, "nro": event.nro_pedvenda}),
            )  # fmt: skip
        event = replace(event, invoice=document)
    _skip_if_cancelled(event, erp_documents)
    # Checked before any write; a refused key is read again from the ERP order (jobs.invoice_keys):
    # the merchant corrects it there and clicks Retry, which replays the event's stored copy.
    invoice, key = invoice_keys.checked(
        event.invoice,
        erp_documents,
        company=(unit.shop_id, erp_order.nro_empresa),
        order_created=erp_order.created_at,
    )
    refused = event.invoice.key if normalise(event.invoice.key) != invoice.key else None
    event = replace(event, invoice=invoice)
    _skip_if_cancelled(event, erp_documents)  # the ERP's copy may say it is cancelled
    _refuse_unknown_status(event, erp_documents)
    with session_scope() as session:
        order_events.wait_for_earlier(
            session, unit.shop_id, event, must_apply=("order_edits",), generation=unit.generation
        )
        picked_before = _picking_applied(session, unit, key.key)
        picked_by_nfe = picked_before and _picking_applied(session, unit, key.key, separations=False)
    # The order's valid NF-e so far, this one included (partial invoicing, a re-issue), read before
    # any write: the amount due is their sum, and the capture is final only after the last one.
    documents = invoice_documents.known(unit, event, erp_documents, erp_order.lines, erp_order.freight)
    settled: invoice_documents.Settled | None = None
    if documents.applied_by is None:  # this event would charge the NF-e: not behind one that failed
        _hold_behind_unapplied(unit, key.key)
        # ...nor behind one a person closed as handled: they settled the NF-e's money outside the app.
        settled = invoice_documents.handled_before(unit, key.key)
    done: dict[str, Any] = {"key": key.key, "model": key.model, "total": str(event.invoice.total)}
    if refused:
        done["key_from_erp_order"] = (
            f"the event's key {refused} was refused; the ERP order's document gives {key.key}"
        )
    if foreign is not None:
        done["event_document_not_of_order"] = (
            f"the event carried NF-e {foreign}, which the ERP order does not list; its own {key.key} applied"
        )
    if event.altered and not picked_by_nfe:
        # "Faturado com alteração": the invoice's own lines say what was cut, substituted or
        # weighed, so the Shopify order is edited first, as a separation event would have (its
        # changes are recorded under this event). After a separation event, only what it did not
        # apply (a line cut or weighed again at the checkout, with no second separation event):
        # left out, the order kept the old quantity and showed a balance due after the capture.
        try:
            done["picking"] = picking.edit_from_event(replace(unit, event=event), only_new=picked_before)
        except order_events.Skipped as skipped:
            done["picking"] = skipped.reason
    client = for_shop(unit.shop_domain)
    state = _settlement(client, unit.order_id)
    if state is None:
        raise _unreadable(unit, key.key)
    # When an earlier run of this message charged the NF-e, or began to (CHARGED_AT, CAPTURING_AT),
    # the capture records of its runs cut short while asking (ASKED_SO_FAR) and the captures Shopify
    # held when its charge began (CAPTURES_BEFORE, with another NF-e's captures landed since an
    # earlier run that had every answer: CAPTURE_RUN), read before `_remember` below rewrites its
    # response: a rerun and a replay keep them.
    charged_before, so_far, held_before = _charge_before(unit, key.key, state)
    # An earlier NF-e a person closed as handled counts what Shopify never held as paid outside; one
    # whose capture was cut short (its message left failed), only what of it landed — beside what
    # this message's own earlier runs captured, told apart by `held_before`.
    documents = invoice_documents.settle(
        documents, state, own_charged=charged_before is not None, held_before=held_before
    )
    if len(documents.keys) > 1:
        done["invoiced"] = {"keys": documents.keys, "total": str(documents.total)}
        if documents.outside > ZERO:
            done["invoiced"]["settled_outside"] = str(documents.outside)
        if documents.unlanded > ZERO:  # left to the Retry of the NF-e's message cut short
            done["invoiced"]["not_taken_cut_short"] = str(documents.unlanded)
    if state.cancelled_at:
        gone = _cancelled_after(unit, event)
        if gone:
            why, (key, params) = gone
            raise order_events.Skipped(
                f"Shopify order {state.name} is cancelled and {why}: nothing to invoice",
                words=(key, {"name": state.name, **params}),
            )
        raise Rejected(
            f"Shopify order {state.name} is cancelled but the ERP invoiced it (NF-e {key.key})",
            system="shopify", code="ORDER_CANCELLED",
            words=("invoice_order_cancelled", {"name": state.name, "key": key.key}),
        )  # fmt: skip
    shown = documents.keys[-1] == key.key  # else this is a replay of an earlier NF-e: a later one is
    # The key on the order with no message recording it written: this message's own interrupted run.
    written = state.nfe.get("chave") != key.key or invoice_fields.written_before(unit, key.key)
    done["metafields"] = _write_metafields(
        client, unit.order_id, event.invoice, documents.keys, state, written=written
    )
    done[WRITTEN] = key.key  # on the message at once: Shopify-side work begun (jobs.invoice_record)
    _mark(unit.message_id, {WRITTEN: key.key})
    # The fulfillments earlier runs of this message made for the NF-e, read before `_remember` below
    # rewrites its response (and kept in what it writes): a rerun keeps naming them (jobs.invoice_tracking).
    made_before = invoice_fulfillments.carried(unit.message_id, key.key)
    if made_before:
        done[FULFILLMENTS] = made_before
    if (asked_to_fulfil := invoice_fulfillments.fulfilling_at(unit.message_id)) is not None:
        done[FULFILLING_AT] = asked_to_fulfil  # kept: a fulfillment made since may be its own
    # The money first: the goods are leaving, so nothing about the fulfillment holds the capture up.
    asked, ended = _asked_before(unit, key.key)
    recheck = asked is not None and not ended  # a run asked the capture and did not end: follow it
    if (outside := _settled_before(unit, key.key)) is not None:  # a replay keeps what its first run left
        done[SETTLED] = outside
    if so_far:
        done[ASKED_SO_FAR] = so_far
    if held_before is not None:
        done[CAPTURES_BEFORE] = held_before
    now = datetime.now(UTC)
    on_delivery = invoice_capture.delivery_method(state, _pay_on_delivery(unit.shop_id))
    if recheck and asked is not None:  # asked before (any answer): only what those captures became is read
        capture = invoice_capture.recheck(client, state, asked, on_delivery=on_delivery)
        done[CHARGED_AT] = _earliest(charged_before, asked.at).isoformat()
    elif documents.applied_by is not None:  # the same invoice twice: its money was taken the first time
        capture = invoice_capture.applied_already(key.key, documents.applied_by, unit.message_id, state)
        done[CHARGED_AT] = _earliest(charged_before, asked.at if asked else None, now).isoformat()
    elif settled is not None:  # a person settled it: written and fulfilled below, never captured
        capture = invoice_capture.settled_outside(key.key, settled.seq, settled.by, settled.note, state)
        amount = invoice_capture.not_asked(
            documents.total, event.invoice.total, state, documents.charged_since
        )
        done[SETTLED] = {"seq": settled.seq, "by": settled.by, "at": settled.at, "note": settled.note,
                         "amount": str(amount)}  # fmt: skip
        done[CHARGED_AT] = _earliest(charged_before, now).isoformat()
    else:
        # A failure from here on is about the money; when the charge began is kept from the first run.
        begun = _earliest(charged_before, now)
        marks = {CAPTURING: key.key, CAPTURING_AT: begun.isoformat()}
        held_now = [c.id for c in state.captures]
        if charged_before is None:  # the charge begins now: the captures Shopify holds are not its own
            held_before = held_now
        if held_before is not None:
            done[CAPTURES_BEFORE] = marks[CAPTURES_BEFORE] = held_before
        # Not answered until every orderCapture sent is: a rerun after a cut short counts what landed since.
        marks[CAPTURE_RUN] = {"held": held_now, "answered": False}
        _mark(unit.message_id, marks)
        done[CHARGED_AT] = begun.isoformat()

        def asked_so_far(record: dict[str, Any]) -> None:  # kept after each capture's answer
            _mark(unit.message_id, {ASKED_SO_FAR: [*so_far, record]})

        # A run before this one was cut short while asking (no full capture record): the captures
        # that landed are in Shopify's transactions, which the plan counts (never asked again), and
        # a refund the merchant made after the charge began is theirs, not money owed.
        since = documents.charged_since
        if charged_before is not None:
            since = _earliest(since, charged_before)
        answered = {CAPTURE_RUN: {"held": held_now, "answered": True}}
        try:
            capture = invoice_capture.capture(
                client, unit.order_id, documents.total, state, final=documents.final,
                count=len(documents.keys), since=since, on_delivery=on_delivery, now=now, at=begun,
                progress=asked_so_far,
            )  # fmt: skip
        except ShopifyUserErrors:  # refused: no transaction made, every capture sent answered
            _mark(unit.message_id, answered)
            raise
        done.update(answered)
        if not capture.asked:  # nothing sent; a capture record (below) leaves the rerun to recheck
            _mark(unit.message_id, answered)
    done["final_capture"] = asked.final if asked is not None else None if settled else documents.final
    done.update({"captured": str(capture.captured) if capture.captured is not None else None,
                 "capture": capture.note})  # fmt: skip
    if capture.asked:  # kept at once: a retry after any failure below follows these captures, never asks anew
        done[ASKED] = capture.asked
        _remember(unit.message_id, done)
    elif asked is not None:  # a replay of the done message keeps when the NF-e was charged
        done[ASKED] = asked.record()
    notify = _notify_customer(unit.shop_id)
    # An earlier NF-e whose message is not done fulfils its own goods on its Retry, with its tracking:
    # this one's capture may close the authorisation, its fulfilment takes its own lines only.
    fulfilled = _fulfil(client, unit, event, key.key, erp_order, made_before,
                        final=documents.final and not documents.others_open,
                        several=len(documents.keys) > 1, notify=notify)  # fmt: skip
    done[FULFILLMENTS], on_hold = fulfilled.created, fulfilled.attention
    if (asked_to_fulfil := invoice_fulfillments.fulfilling_at(unit.message_id)) is not None:
        done[FULFILLING_AT] = asked_to_fulfil
    if fulfilled.waiting:
        done["fulfilment"] = fulfilled.waiting
    if fulfilled.pickup:
        done["ready_for_pickup"] = fulfilled.pickup
    if fulfilled.by_service:  # said on the message: the service ships them, nothing for a person to do
        done["fulfilled_by_service"] = [f"{fo} ({name})" for fo, name in fulfilled.by_service.items()]
    if (tag := TAG.format(kind=key.kind)) not in state.tags:
        client.tags_add(unit.order_id, [tag])
        done["tagged"] = True
    attention = "; ".join(a for a in (capture.attention, on_hold) if a) or None
    if attention:
        done["needs_attention"] = attention
    # a part with no words: the note reads as its text
    worded = bool(capture.words or not capture.attention) and bool(fulfilled.words or not on_hold)
    # each of _fulfil's parts names the flow again ("...; invoices: ..."), but the note's first
    held = [w if i == 0 and not capture.attention else ("invoices_again", {"part": w})
            for i, w in enumerate(fulfilled.words)]  # fmt: skip
    said = (*capture.words, *held) if worded else ()
    told = replace(capture, attention=attention, words=said)
    # An NF-e applied already: its money is not looked at again, so a note of its capture stays; one
    # only of its goods (a hold released, its tracking sent since) this run settled, when it flags nothing.
    settled = documents.applied_by is None or recheck or (not attention and _goods_only(unit.link_id))
    _update_link(unit.link_id, event if shown else None, told, state, settled=settled)
    # Tracking the ERP gives after the NF-e was applied (a later F event of the key): onto the
    # fulfillments made at it, when Shopify shows another (jobs.invoice_tracking).
    # Its fulfilment waiting for the last NF-e, nothing carries it: that NF-e's fulfillment gets its own.
    wanted = tracking_input(event)
    if fulfilled.waiting and wanted is not None:
        tracking = invoice_tracking.Sent(
            note=f"{invoice_tracking.describe(wanted)} not sent: {fulfilled.waiting}"
        )
        done[TRACKING_WAITING] = wanted  # named for a person once the last NF-e fulfils (`_earlier_codes`)
    elif wanted is not None and not fulfilled.made_now and _waited(unit, key.key):
        tracking = _shipped_with_the_last(unit, key.key, wanted)
    else:
        tracking = invoice_tracking.send(
            client, unit, key.key, tracking_input(event), state, fulfilled.made_now, notify=notify,
            valid=documents.keys, cancelled={normalise(d.key) for d in erp_documents if d.cancelled},
            later=documents.applied_by not in (None, unit.message_id), pickup=bool(fulfilled.pickup),
            service=", ".join(sorted(set(fulfilled.by_service.values()))),
        )  # fmt: skip
    if tracking.note:
        done["tracking"] = tracking.note
    if tracking.updated:
        done["tracking_sent"] = tracking.updated
    if tracking.adopted:
        done[ADOPTED] = tracking.adopted
    if tracking.attention:  # the message ends done: the order link tells a person
        done["needs_attention"] = "; ".join(a for a in (attention, tracking.attention) if a)
        _flag(unit.link_id, tracking.attention, tracking.words)
    if fulfilled.made_now:
        for earlier in _earlier_codes(unit, key.key, carried=(wanted or {}).get("number")):
            done.setdefault("tracking_of_earlier", []).append(earlier.note)
            _flag(unit.link_id, earlier.attention or "", earlier.words)
    if capture.pending:  # written and fulfilled; the money is checked again until the gateway answers
        if capture.asked:
            _remember(unit.message_id, done)
        raise Transient(
            f"capture pending at the gateway: {', '.join(capture.pending)} (not taken yet); the NF-e is on "
            "the order and fulfilled, and the capture is checked again until Shopify shows it taken or "
            "refused",
            pending=list(capture.pending),
        )
    done[ENDED] = True  # the run ends: its captures answered, a replay asks and rechecks nothing
    log.info("invoices: order %s NF-e %s: %s", unit.order_id, key.key, done,
             extra={"shop_id": unit.shop_id, "flow": FLOW})  # fmt: skip
    return done


def _asked_before(unit: order_events.EventUnit, key: str) -> tuple[Asked | None, bool]:
    """The captures an earlier run of this message asked for NF-e `key`'s money, whatever Shopify
    answered (kept in its response at once: jobs.invoice_capture.Asked; None: none), and whether
    that run ended (ENDED: the message was done, every capture answered). One that did not end — a
    capture pending at the gateway, or a failure after the capture (a fulfillment refused, a
    network error, a crash) — is followed by the rerun (invoice_capture.recheck), never planned
    anew: worked out again, what is due would count a refund made since as money owed."""
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        response = (message.response_payload or {}) if message is not None else {}
    if response.get("key") != key or not isinstance(response.get(ASKED), dict):
        return None, False
    return Asked.from_record(response[ASKED]), bool(response.get(ENDED))


def _charge_before(
    unit: order_events.EventUnit, key: str, state: Settlement
) -> tuple[datetime | None, list[dict[str, Any]], list[str] | None]:
    """When an earlier run of this message charged NF-e `key`, or began to (None: none did): the
    time its response keeps (CHARGED_AT: a done run's, carried by every replay, or a run that kept
    its capture record; CAPTURING_AT: the run that began asking), the earliest; the capture
    records of its runs cut short while asking (ASKED_SO_FAR); and the ids of the captures that are
    not its own (CAPTURES_BEFORE, Shopify's when that charge began; None: not kept, a charge begun
    before it was), with those another NF-e's since the last run that began asking, when that run
    had every answer (CAPTURE_RUN: invoice_documents.held_by_others, `state` Shopify's now)."""
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        response = (message.response_payload or {}) if message is not None else {}
    if response.get(KEY) != key and response.get(CAPTURING) != key:
        return None, [], None
    times = [invoice_documents.kept_time(response.get(name)) for name in (CHARGED_AT, CAPTURING_AT)]
    found = [t for t in times if t is not None]
    so_far = response.get(ASKED_SO_FAR)
    records = [r for r in so_far if isinstance(r, dict)] if isinstance(so_far, list) else []
    held = response.get(CAPTURES_BEFORE)
    before = [str(c) for c in held] if isinstance(held, list) else None
    asked = response.get(ASKED) if response.get(KEY) == key else None
    named = {str(c.get("transaction")) for r in [*records, asked] if isinstance(r, dict)
             for c in r.get("captures") or [] if isinstance(c, dict) and c.get("transaction")}  # fmt: skip
    before = invoice_documents.held_by_others(
        before, response.get(CAPTURE_RUN), [c.id for c in state.captures], named
    )
    return (min(found) if found else None), records, before


def _earliest(*times: datetime | None) -> datetime:
    """The earliest of the times given (at least one is)."""
    return min(t for t in times if t is not None)


def _settled_before(unit: order_events.EventUnit, key: str) -> dict[str, Any] | None:
    """What an earlier run of this message left to a person for NF-e `key` (SETTLED: its earlier
    event closed as handled); None: nothing. A replay keeps it, so the order's next NF-e goes on
    not charging the money settled outside the app."""
    with session_scope() as session:
        message = session.get(Message, unit.message_id)
        response = (message.response_payload or {}) if message is not None else {}
    if response.get("key") != key or not isinstance(response.get(SETTLED), dict):
        return None
    return dict(response[SETTLED])


def _hold_behind_unapplied(unit: order_events.EventUnit, key: str) -> None:
    """Refuse to charge NF-e `key` from this event while an earlier event of the same NF-e failed or
    is parked (jobs.invoice_documents.unapplied_before; one still pending, even with its job lost,
    made this one wait in wait_for_earlier, and the orders catch-up redoes it): that
    message's failure (a capture Shopify refused, say) is a person's to decide — Retry it, or settle
    the money another way and close it with "Mark as handled" — and a later event of the NF-e (its
    carrier's tracking) capturing on its own would charge what nobody decided, twice if the merchant
    collected it meanwhile. Held with the reason and both ways out; once the earlier one is done,
    this one's Retry applies only what it brings (its tracking). Once it is closed as handled, this
    one's Retry writes and fulfils the NF-e and captures nothing (`handled_before`) — only if the
    earlier one failed over the money (its capture: invoice_documents.about_money); closed for another
    reason (an item fixed by hand in Shopify) it settled no money, and this one captures as usual.
    The text offers "Mark as handled" only in the first case."""
    earlier = invoice_documents.unapplied_before(unit, key)
    if earlier is None:
        return
    seq, status, why, money = earlier
    if money:
        way_out = (
            f"Either Retry event #{seq} (it charges the NF-e), or, if you settle its money outside the app, "
            f"close event #{seq} with “Mark as handled” and a note saying how it was paid; then Retry this "
            "event: after “Mark as handled” it writes the NF-e, fulfils and sends the tracking, and captures "
            "nothing"
        )
    else:
        way_out = (
            f"Fix and Retry event #{seq}, then Retry this event. Its failure is not about the money: if you "
            f"fix it by hand in Shopify and close event #{seq} with “Mark as handled”, this event's Retry "
            "still captures the NF-e"
        )
    raise Rejected(
        f"held: event #{seq} of NF-e {key} (ERP order {unit.event.nro_pedvenda}) is {status}"
        f"{f' ({why})' if why else ''}; a later event of the same NF-e does not capture or fulfil it on "
        f"its own. {way_out}",
        system="app", code="EARLIER_EVENT_NOT_APPLIED", detail={"waiting_for_seq": seq, "nfe_key": key},
        words=_held_words(unit, key, seq, status, why, money),
    )  # fmt: skip


def _held_words(
    unit: order_events.EventUnit, key: str, seq: int, status: str, why: str | None, money: bool
) -> Words | None:
    """EARLIER_EVENT_NOT_APPLIED in the merchant's words: the earlier event's failure (`why`) said as
    the note it left on the order link says it (None when that note has no words, or its status
    none: the note reads as its text)."""
    said_status = order_events.HELD_STATUS.get(status)
    if said_status is None:
        return None
    failure: Words | str = ""
    if why:
        with session_scope() as session:
            link = session.get(OrderLink, unit.link_id)
            parts = (
                order_notes.words_of_note(link, FLOW, event=seq, generation=unit.generation) if link else None
            )
        if not parts:
            return None
        failure = (
            "held_why",
            {"why": parts[0] if len(parts) == 1 else order_notes.joined(parts, "semicolon")},
        )
    way_out = ("held_way_out_money" if money else "held_way_out_other", {"seq": seq})
    said = {"seq": seq, "key": key, "nro": unit.event.nro_pedvenda, "status": (said_status, {}),
            "why": failure, "way_out": way_out}  # fmt: skip
    return "invoice_held_behind", said


def _mark(message_id: int, marks: dict[str, Any]) -> None:
    """Add `marks` to the message's response at once, keeping what it holds (an earlier run's
    capture record and fulfillments, which this run reads back)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None:
            message.response_payload = {**(message.response_payload or {}), **marks}


def _flag(link_id: int, note: str, words: Words | None = None) -> None:
    """Add `note` to this flow's note on the order link (`ledger.order_notes`: beside every other
    flow's, never over one); `words`: it in the merchant's words, kept after the note's own (none
    when either part has none: the note reads as its text)."""
    with session_scope() as session:
        link = session.get(OrderLink, link_id)
        if link is None:
            return
        text, flag = note.removeprefix(f"{FLOW}: "), order_notes.note_of(link, FLOW)
        if not flag:
            order_notes.put(link, FLOW, text, words=words)
        elif text not in flag:
            before = order_notes.words_of_note(link, FLOW)
            said = [*before, words] if before and words else None
            order_notes.put(link, FLOW, f"{flag}; {text}", words=said)


def _remember(message_id: int, done: dict[str, Any]) -> None:
    """Keep what this run did on its message before it goes on (a capture asked: any failure after
    it leaves the message to a rerun) or ends retrying (a capture pending at the gateway): the
    rerun's re-check reads what was asked from there."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is not None:
            message.response_payload = dict(done)


def _refuse_unknown_status(event: OrderEvent, erp_documents: list[Invoice]) -> None:
    """Refuse (nothing written, charged or fulfilled) an NF-e whose status is neither valid nor
    cancelled as the installation writes them (erp.names formats nfe_valid / nfe_cancelled): a
    denied or voided document, or a code the app does not know, is never taken for valid. The ERP
    order's copy of the document says its status now (a Retry after it was corrected there)."""
    assert event.invoice is not None
    invoice = event.invoice
    now = next((d for d in erp_documents if normalise(d.key) == normalise(invoice.key)), invoice)
    if now.valid:
        return
    invoice = replace(invoice, status=now.status)
    raise Rejected(
        f"ERP event {event.seq_evento} names NF-e {invoice.key} (number {invoice.number}) with status "
        f"'{invoice.status}', neither valid nor cancelled: nothing of it is written, charged or fulfilled. "
        "If the ERP writes an authorised NF-e so, name that code in CONSINCO_FIELD_MAP (formats.nfe_valid), "
        "then retry this message",
        system="consinco",
        code="NFE_STATUS_UNKNOWN",
        detail={"status": invoice.status, "key": invoice.key, "number": invoice.number},
        words=("invoice_nfe_status_unknown", {"seq": event.seq_evento, "key": invoice.key,
                                              "number": invoice.number, "status": invoice.status}),
    )  # fmt: skip


def _skip_if_cancelled(event: OrderEvent, erp_documents: list[Invoice]) -> None:
    """Skip (nothing written, charged or fulfilled) an event whose NF-e is cancelled: its own status
    C, or the ERP order lists its key cancelled (only a valid NF-e counts)."""
    assert event.invoice is not None
    cancelled = {normalise(document.key) for document in erp_documents if document.cancelled}
    if event.invoice.cancelled or normalise(event.invoice.key) in cancelled:
        raise order_events.Skipped(
            f"ERP event {event.seq_evento} names NF-e {event.invoice.key} (number {event.invoice.number}), "
            f"which the ERP lists cancelled (status C): nothing of it is written, charged or fulfilled",
            words=(
                "invoice_nfe_cancelled",
                {"seq": event.seq_evento, "key": event.invoice.key, "number": event.invoice.number},
            ),
        )


def _picking_applied(
    session: Any, unit: order_events.EventUnit, key: str, *, separations: bool = True
) -> bool:
    """Whether a separation event of this order was applied (its changes are in Shopify already;
    not asked when `separations` is False), or another invoice event of the SAME NF-e `key` applied
    the picking its lines carry ("faturado com alteração": the carrier's tracking comes as a later
    copy of it, which must not edit the order again; its message's `picking` holds the edit).
    Another NF-e's event does not count: with partial invoicing each NF-e's altered event carries
    its own lines' picking (a repeat of a line another event applied is the ledger rows' to find:
    jobs.order_edits.repeats — so is the picking an NF-e cancelled and re-issued under a new key
    carries again: each change applied alike before is not sent again, `repeats.applied_alike`).
    Only the ERP's events count: an order edit made in Shopify and applied to the ERP (the same
    flow, direction shopify_to_erp, unit `edit:<id>`) says nothing about the picking, nor does one
    of another ERP (the connection moved: its order of the same number is another order). This
    event's own message does not count: its retry redoes its edit, which finds what its first run
    committed (jobs.order_edits.to_shopify)."""
    rows = session.execute(
        select(Message.unit_key, Message.flow, Message.status, Message.response_payload).where(
            Message.shop_id == unit.shop_id,
            Message.flow.in_(("order_edits", FLOW)),
            Message.direction == ERP_TO_SHOPIFY,
            Message.unit_key.like("event:%"),
            Message.erp_id == str(unit.event.nro_pedvenda),
            Message.id != unit.message_id,
        )
    )
    settled = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)

    def applied(flow: str, status: str, payload: dict[str, Any] | None) -> bool:
        if flow == "order_edits":
            return separations and status in settled
        response = payload or {}
        same = normalise(str(response.get("key") or "")) == normalise(key)
        return same and isinstance(response.get("picking"), dict)

    return any(
        order_notes.generation_of(unit_key) == unit.generation and applied(flow, status, payload)
        for unit_key, flow, status, payload in rows
    )


def _cancelled_after(
    unit: order_events.EventUnit, event: OrderEvent
) -> tuple[str, tuple[str, dict[str, Any]]] | None:
    """Why an invoice on a cancelled Shopify order is owed nothing, and its words (trace.skip; None:
    it is, a person must look): a later C event of the order was applied (the ERP cancelled it and
    its NF-e; an invoice held behind its picking edit is freed only afterwards), or the ERP lists
    the NF-e cancelled."""
    with session_scope() as session:
        later = session.scalars(
            select(Message.unit_key).where(
                Message.shop_id == unit.shop_id,
                Message.flow == order_events.CANCELLATIONS,
                Message.erp_id == str(event.nro_pedvenda),
                Message.unit_key.like("event:%"),
                Message.status.in_((MessageStatus.DONE.value, MessageStatus.SKIPPED.value)),
            )
        ).all()
    seqs = sorted(
        order_events.seq_of(key)
        for key in later
        if order_notes.generation_of(key) == unit.generation and order_events.seq_of(key) > event.seq_evento
    )
    if seqs:
        why = f"ERP event #{seqs[0]} cancelled ERP order {event.nro_pedvenda} after this invoice"
        return why, ("invoice_cancelled_by_event", {"seq": seqs[0], "nro": event.nro_pedvenda})
    assert event.invoice is not None
    documents = order_clients.erp_client(unit.shop_id).get_order(event.nro_pedvenda).invoices
    if event.invoice.cancelled or any(
        d.cancelled and normalise(d.key) == normalise(event.invoice.key) for d in documents
    ):
        why = f"the ERP lists its NF-e {event.invoice.key} cancelled"
        return why, ("invoice_cancelled_nfe_gone", {"key": event.invoice.key})
    return None


def _settlement(client: AdminClient, order_id: str) -> Settlement | None:
    """The order as invoicing reads it; None: Shopify reads it null (`_unreadable`)."""
    return settlement(client, order_id)


def _unreadable(unit: order_events.EventUnit, key: str) -> Rejected:
    """The refusal of an NF-e whose Shopify order read null: deleted, or too old for the app to
    read (jobs.old_orders): then a person applies NF-e `key` by hand."""
    return old_orders.unreadable(
        unit.shop_id, unit.order_id,
        f"Apply NF-e {key} to the order (fulfil its items, capture its payment)",
        ("too_old_todo_invoice", {"key": key}),
    )  # fmt: skip


def counted_keys(response: dict[str, Any]) -> list[str]:
    """The NF-e keys a done message of this flow counted as the order's valid ones when it ran (its
    response's "invoiced" keys, written when there were several; else its own key); none when it
    names no key."""
    if not response.get("key"):
        return []
    return [str(key) for key in (response.get("invoiced") or {}).get("keys") or [response["key"]]]


def kept_keys(state: Settlement) -> list[str]:
    """The valid NF-e keys the order holds (`nfe.chaves`, a JSON list; an order invoiced before the
    list was kept holds its one key in `nfe.chave`)."""
    try:
        keys = json.loads(state.nfe.get("chaves") or "[]")
    except ValueError:
        keys = []
    if not keys and state.nfe.get("chave"):
        keys = [state.nfe["chave"]]
    return [str(k) for k in keys]


def _write_metafields(
    client: AdminClient, order_id: str, invoice: Invoice, keys: list[str], state: Settlement,
    *, written: bool = True,
) -> str:  # fmt: skip
    """The NF-e's own metafields (the order shows the latest valid NF-e applied: `keys[-1]`) and
    `nfe.chaves`, every valid key of the order in the order applied (jobs.invoice_documents), in
    one metafieldsSet. A replay of an earlier NF-e leaves the later one's fields alone.

    The order showing this NF-e already (another F event of the same key: the carrier's tracking),
    only what it supplies now and the order does not hold is written (a DANFE or XML link the ERP
    had not given when the NF-e was applied), and nothing of that NF-e is deleted
    (jobs.invoice_fields): the same event twice writes nothing.

    metafieldsSet writes only the keys it is given, so when the key changes (a re-issued NF-e,
    the next NF-e of a partial invoicing) the old NF-e's fields the new one does not supply (a
    DANFE or XML link the ERP has not given yet) are deleted in the same pass: the order never
    shows one NF-e's key beside another's DANFE. A retry after the set finds them still there and
    deletes them then: the key on the order is this NF-e's, but no message recorded writing it
    (not `written`), so those fields are still the old NF-e's."""
    latest = state.nfe.get("chave")
    key_list = {"ownerId": order_id, "namespace": NAMESPACE, "key": "chaves",
                "type": "list.single_line_text_field", "value": json.dumps(keys)}  # fmt: skip
    listed = "chaves" in state.nfe and sorted(kept_keys(state)) == sorted(keys)
    if invoice.key != keys[-1]:  # a replay of an earlier NF-e: a later one is shown
        if listed:
            return "already there"
        client.metafields_set([key_list])
        return "key list written"
    fields = invoice_metafields(order_id, invoice)
    if latest == invoice.key and written:  # the same NF-e: what the order lacks, nothing deleted
        changed = invoice_fields.missing(fields, state.nfe)
        if changed or not listed:
            client.metafields_set([*changed, *([] if listed else [key_list])])
        outcome = invoice_fields.outcome(changed, state.nfe, invoice.key)
        if listed:
            return outcome
        return "key list written" if not changed else f"{outcome}; key list written"
    supplied = {field["key"] for field in fields}
    stale = [{"ownerId": order_id, "namespace": NAMESPACE, "key": key}
             for key in FIELD_KEYS if key in state.nfe and key not in supplied]  # fmt: skip
    if latest and latest != invoice.key:
        log.warning("invoices: order %s had NF-e %s, now %s", order_id, latest, invoice.key)
    client.metafields_set([*fields, key_list])
    outcome = "written"
    if stale:
        client.metafields_delete(stale)
        before = f"NF-e {latest}" if latest != invoice.key else "the NF-e shown before"
        outcome += f"; {', '.join(m['key'] for m in stale)} of {before} deleted"
    return outcome


def _notify_customer(shop_id: int) -> bool:
    """The shop's setting `fulfillment_notify_customer`: Shopify e-mails the customer the
    fulfillment made at the NF-e and the tracking given after it."""
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        return bool(shop is not None and shop_settings.get(shop, "fulfillment_notify_customer"))


def _pay_on_delivery(shop_id: int) -> frozenset[str]:
    """The shop's setting pay_on_delivery_gateways (manual methods collected at delivery), as keys."""
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        return order_map.gateway_keys(shop_settings.get(shop, "pay_on_delivery_gateways") if shop else [])


@dataclass
class Fulfilled:
    """What `_fulfil` did: the fulfillments of the NF-e this message made (earlier runs' and this
    one's: `made_now`), the local pickups' state (for the message), and what a person must see
    (None: nothing)."""

    created: list[str] = field(default_factory=list)
    made_now: list[str] = field(default_factory=list)
    pickup: dict[str, Any] = field(default_factory=dict)
    attention: str | None = None
    waiting: str | None = None  # why nothing was fulfilled yet (FULFILMENT_WAITS), None: not waiting
    by_service: dict[str, str] = field(default_factory=dict)  # FO id -> the service that fulfils it
    words: tuple[Words, ...] = ()  # `attention` in the merchant's words, one part per note it joins


def _fulfil(
    client: AdminClient, unit: order_events.EventUnit, event: OrderEvent, key: str, erp_order: Order,
    made_before: list[str] | None = None, *, final: bool = True, several: bool = False, notify: bool = False,
) -> Fulfilled:  # fmt: skip
    """Fulfil what the NF-e carries (jobs.invoice_lines), one fulfillment per location. A SCHEDULED
    fulfillment order (a delivery date ahead) is opened first: the ERP invoiced it, so it leaves now.
    One ON_HOLD is not released (someone held it for a reason: an address, a fraud check): it is
    named for a person, as is what no NF-e line carries (an item a person added in Shopify after
    the picking), left unfulfilled — once the last NF-e is in (`final`): before, the next NF-e of a
    partial invoicing may carry it. An NF-e that is not the last fulfils what its event lists only
    when its total pays for all of it (jobs.invoice_lines.paid_for: the event lists the ERP order's
    lines as they stand, and which of them the NF-e carries cannot be told); else nothing yet
    (`waiting`, FULFILMENT_WAITS, for the message and a person), and its tracking is not sent. The
    last of `several` NF-e fulfils the remainder of all the ERP served (its `erp_order`'s lines).

    A local pickup's fulfillment order (deliveryMethod PICK_UP) is not fulfilled: the goods stay in
    the store until the customer comes. Once the last NF-e is in it is marked ready for pickup
    (Shopify notifies the customer), and the merchant marks it picked up in Shopify when they
    collect it. Not again when Shopify shows it IN_PROGRESS (ready already, or partly picked up)
    or answers that nothing is left to prepare: a redelivery notifies nobody twice. The last of
    `several` NF-e is planned against every line the ERP served, as the earlier ones fulfilled none
    of the pickup's units.

    Each fulfillment made is written on the message at once, for NF-e `key`, beside those its
    earlier runs made (`made_before`; jobs.invoice_fulfillments.remember / carried): which fulfillments
    are the NF-e's is what tracking given later updates. `notify`: Shopify e-mails the customer."""
    order = client.order(unit.order_id, with_fulfillment_orders=True)
    if order is None:
        raise _unreadable(unit, key)
    # The last of several NF-e fulfils the remainder of all the ERP served: an earlier one may have
    # fulfilled nothing (below), and its event may list only its own NF-e's lines.
    lines = erp_order.lines if final and several else event.lines or erp_order.lines
    with session_scope() as session:
        skus = sorted({line.id_sku for line in lines if line.id_sku})
        found = bindings.get_many(session, unit.shop_id, "variant", skus)
        sku_of_variant = {b.shopify_id: sku for sku, b in found.items() if b.shopify_id}
        other_companies = {  # the locations of the shop's other stores (ERP companies)
            m.location_id: m.nro_empresa
            for m in session.scalars(select(LocationMapping).where(LocationMapping.shop_id == unit.shop_id))
            if m.nro_empresa != erp_order.nro_empresa
        }
    plan = invoice_lines.plan_fulfilment(
        order.fulfillment_orders,
        order.lines,
        invoice_lines.invoiced_units(lines),
        sku_of_variant,
        other_companies,
    )
    waiting = None
    assert event.invoice is not None
    # Tested against every unit the event lists, not only those left to fulfil: a unit a person
    # fulfilled by hand is still one this NF-e may be paying for (its goods shipped, the NF-e of
    # the rest still to come), so the rest fitting in its money says nothing of what it carries.
    listed = invoice_lines.invoiced_units(lines)
    if not final and not invoice_lines.paid_for(lines, listed, event.invoice.total, erp_order.freight):
        # The event lists the ERP order's lines as they stand, more than this NF-e's money pays for:
        # which of them it carries cannot be told, so nothing ships before the last NF-e (a pickup
        # waits for it anyway, `_ready_for_pickup`).
        waiting = FULFILMENT_WAITS
        pickup_ids = {fo.id for fo in order.fulfillment_orders if fo.pickup}
        plan = replace(
            plan, lines={i: lines_ for i, lines_ in plan.lines.items() if i in pickup_ids}, held=[]
        )
    by_location: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    ready = []
    for fo in order.fulfillment_orders:
        if fo.id not in plan.lines:
            continue
        if fo.status == "SCHEDULED" and (final or not fo.pickup):
            client.fulfillment_order_open(fo.id)
        if fo.pickup:
            ready.append(fo)
        else:
            by_location.setdefault(fo.location_id, {})[fo.id] = plan.lines[fo.id]
    tracking = tracking_input(event)
    done = Fulfilled(list(made_before or []))
    if by_location:  # before the calls (an answer may be lost)
        invoice_fulfillments.mark_fulfilling(unit.message_id)
    for group in by_location.values():
        made = client.fulfillment_create(dict(group), tracking=tracking, notify_customer=notify)
        done.made_now.append(made)
        done.created.append(made)
        invoice_fulfillments.remember(unit.message_id, key, done.created)
    done.pickup = _ready_for_pickup(client, ready, final)
    done.waiting = waiting
    done.by_service = plan.by_service
    notes, said = [], []
    if waiting:
        total = event.invoice.total
        notes.append(f"{FLOW}: {waiting} (NF-e total {total} is below what the ERP served, so a "
                     "further NF-e may carry part of the goods; if none is coming, a discount given at "
                     "invoicing, fulfil the goods in Shopify)")  # fmt: skip
        said.append(("fulfilment_waiting", {"waits": WAITS_WORDS, "total": order_notes.money(total)}))
    if plan.held:
        notes.append(f"{FLOW}: invoiced, but fulfillment order(s) {', '.join(plan.held)} are on hold in "
                     "Shopify and were not fulfilled: release the hold, then Replay this NF-e's message: the "
                     "app fulfils them")  # fmt: skip
        said.append(("fulfilment_on_hold", {"held": ", ".join(plan.held)}))
    if plan.elsewhere:
        held = ", ".join(plan.elsewhere)
        companies = ", ".join(str(c) for c in sorted(set(plan.elsewhere.values())))
        notes.append(f"{FLOW}: invoiced by ERP company {erp_order.nro_empresa}, but fulfillment order(s) "
                     f"{held} are at the location of ERP company {companies} (moved in Shopify after the "
                     "import) and were not fulfilled there: move them back to the invoicing store's location "
                     "(Change location), then Replay this NF-e's message; or fulfil them by hand"
                     )  # fmt: skip
        said.append(("fulfilment_elsewhere", {"held": held, "companies": companies,
                                              "company": erp_order.nro_empresa}))  # fmt: skip
    if plan.left and not final:
        log.info("invoices: order %s: %s wait for the next NF-e", unit.order_id, plan.left)
    elif plan.left:
        left = ", ".join(f"{units} x {sku}" for sku, units in sorted(plan.left.items()))
        notes.append(f"{FLOW}: not on the NF-e: {left} left unfulfilled (added in Shopify after the "
                     "picking, or not picked): ship and charge it apart, or take it off")  # fmt: skip
        said.append(("fulfilment_left", {"left": left}))
    done.attention = "; ".join(notes) or None
    done.words = tuple(said)
    return done


# The parts of this flow's note about the goods and their tracking, which every run works out anew
GOODS_WORDS = frozenset({
    "fulfilment_on_hold", "fulfilment_waiting", "fulfilment_left", "fulfilment_elsewhere",
    "tracking_not_sent", "tracking_refused", "tracking_not_sent_later", "tracking_with_the_last",
})  # fmt: skip


def _goods_only(link_id: int) -> bool:
    """Whether this flow's note on the order link speaks only of goods and tracking (GOODS_WORDS, a
    later part under "invoices_again" too): nothing of the money. A note with no words: not known."""
    with session_scope() as session:
        link = session.get(OrderLink, link_id)
        parts = order_notes.words_of_note(link, FLOW) if link is not None else None
    if not parts:
        return False
    keys = []
    for part in parts:
        if isinstance(part, tuple) and part[0] == "invoices_again":
            part = part[1].get("part")
        keys.append(part[0] if isinstance(part, tuple) else None)
    return all(key in GOODS_WORDS for key in keys)


def _waited(unit: order_events.EventUnit, key: str) -> bool:
    """Whether a done message of NF-e `key` (this one's earlier run included) fulfilled nothing as its
    fulfilment waited for the order's last NF-e (FULFILMENT_WAITS), and none is recorded as the NF-e's
    since: its goods left under the last NF-e's fulfillment."""
    with session_scope() as session:
        rows = order_events.order_messages(session, unit, Message.status == MessageStatus.DONE.value)
        waited = any(
            (m.response_payload or {}).get("key") == key and (m.response_payload or {}).get("fulfilment")
            for m in rows
        )
    if not waited:
        return False
    return not invoice_fulfillments.of_nfe(unit, key, invoice_fulfillments.records(unit)).ids


def _earlier_codes(
    unit: order_events.EventUnit, key: str, *, carried: str | None
) -> list[invoice_tracking.Sent]:
    """The carriers' codes given for the order's other NF-e while their fulfilment waited for the last
    (TRACKING_WAITING on their done messages): once the last NF-e fulfils their goods under its own
    code, each is named for a person as `_shipped_with_the_last` names one given after it. Kept on
    the message alone, a code given before the last NF-e was said nowhere once it came. One equal to
    the code the last NF-e's fulfillment carries (`carried`: one parcel for both) is not."""
    with session_scope() as session:
        rows = order_events.order_messages(session, unit, Message.status == MessageStatus.DONE.value)
        waiting = {
            str(done["key"]): done[TRACKING_WAITING]
            for m in rows
            if (done := m.response_payload or {}).get(TRACKING_WAITING) and str(done.get("key")) != key
        }
    waiting = {other: wanted for other, wanted in waiting.items() if wanted.get("number") != carried}
    return [_shipped_with_the_last(unit, other, wanted) for other, wanted in sorted(waiting.items())]


def _shipped_with_the_last(
    unit: order_events.EventUnit, key: str, wanted: dict[str, Any]
) -> invoice_tracking.Sent:
    """Tracking given for an NF-e that fulfilled nothing (`_waited`): which parcel it is for cannot be
    told, and the last NF-e's fulfillment carries that NF-e's own: not sent, named for a person."""
    note = (
        f"{invoice_tracking.describe(wanted)} not sent: NF-e {key} fulfilled nothing ({FULFILMENT_WAITS}); "
        "its goods were fulfilled with the order's last NF-e, whose fulfillment carries that NF-e's "
        "tracking: if this is another parcel, add it in Shopify"
    )
    log.info("invoices: order %s: %s", unit.order_id, note)
    words = invoice_tracking.not_sent(wanted, ("tracking_with_the_last", {"key": key, "waits": WAITS_WORDS}))
    return invoice_tracking.Sent(note=note, attention=f"{FLOW}: {note}", words=words)


def _ready_for_pickup(client: AdminClient, ready: list[FulfillmentOrder], final: bool) -> dict[str, Any]:
    """Mark the invoiced local pickups ready for pickup (see `_fulfil`); what was done, by outcome."""
    if not ready:
        return {}
    if not final:
        why = "a local pickup is marked ready for pickup once the order's last NF-e is in"
        return {"waiting": [fo.id for fo in ready], "why": why}
    outcome: dict[str, Any] = {}
    for fo in ready:
        marked = fo.status != "IN_PROGRESS" and client.fulfillment_order_prepared_for_pickup(fo.id)
        outcome.setdefault("marked" if marked else "already_ready", []).append(fo.id)
    outcome["next"] = PICKED_UP_BY_MERCHANT
    return outcome


def _update_link(
    link_id: int, event: OrderEvent | None, capture: Capture, state: Settlement, *, settled: bool = True
) -> None:
    """The money and this flow's note (`ledger.order_notes`: only ours is set or cleared); the NF-e
    fields and ERP status from `event` (None: a replay of an earlier NF-e while the order shows a
    later one, which the link keeps too). Not `settled` (the NF-e was applied already and its money
    not looked at again), our earlier note stays."""
    with session_scope() as session:
        link = session.get(OrderLink, link_id)
        if link is None:
            return
        if event is not None and event.invoice is not None:
            invoice = event.invoice
            link.nfe_key, link.nfe_number = invoice.key, str(invoice.number)
            link.nfe_series, link.nfe_model = str(invoice.series), invoice.model
            link.erp_status = event.situacao or "F"
        # What the order was paid, a sale's at checkout (Pix, boleto) as much as a capture's, as
        # Shopify's "Paid": the page's column; nothing paid, what was captured (0 after a refused
        # capture) or none.
        paid = capture.paid if capture.paid is not None else state.paid
        if paid > ZERO:
            link.captured_amount = paid
        elif capture.captured is not None:
            link.captured_amount = capture.captured
        link.shopify_status = capture.financial_status or state.financial_status or link.shopify_status
        if link.authorized_amount is None and state.authorizations:
            link.authorized_amount = sum((a.amount for a in state.authorizations), Decimal("0"))
        if capture.attention:  # beside another flow's note (an edit NOT applied, an NF-e to cancel)
            order_notes.put(link, FLOW, capture.attention, words=list(capture.words) or None)
        elif settled:
            order_notes.clear(link, FLOW)  # our own earlier flag (e.g. a refused capture), now resolved

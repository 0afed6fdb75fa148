"""Mark as handled on an order's note itself, for a note no parked or failed message stands behind.

Most notes on an order link (`ledger.order_notes`) sit beside a message that failed, and Mark as
handled on that message closes both (`ledger.handled`). Some say what a flow that succeeded still
leaves to a person, with no message to close: an invoice's capture warning (part of the NF-e not
charged, a refund owed: jobs.invoice_capture), the ERP's picking Shopify could not take on lines a
person had fulfilled or lowered ("order_edits (fulfilled lines)", "(lowered lines)":
jobs.order_edits), a cancellation's after-invoicing or goods-may-have-left note
(jobs.cancellations). Without this, a person who dealt with one (refunded the customer, fixed the
lines in Shopify) could not clear it, and the order stayed "needs attention" for ever.

An operator closes one note by its slot's label ("invoices", "order_edits (fulfilled lines)") with
a note saying how: that slot only goes (its words with it), every other note stays, and the action
is audited as order.note_handled, naming the slot, never the note's words (they may quote a
delivery address). A slot a held message stands behind is refused (409 note_has_message, naming
it): closing the note alone would leave the message failed, shown as the same note again, so its
own Mark as handled closes both. Nothing else is kept: the flow writes the note again if the
problem comes back (a later picking edit, another NF-e).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from ledger import handled, order_notes
from ledger.models import OrderLink, Role
from shopify_app.api_common import (
    MAX_INT,
    ApiError,
    db,
    field_text,
    invalid,
    json_body,
    locale,
    not_found,
    reject_unknown,
    write_audit,
)
from shopify_app.api_orders import held_messages, order_json
from shopify_app.roles import require_role

bp = Blueprint("order_notes", __name__, url_prefix="/orders")

LABEL_MAX = 200  # "order_edits (ERP event #123456789, erp12)" and the like


@bp.post("/<int:order_id>/notes/handled")
@require_role(Role.OPERATOR)
def mark_note_handled(order_id: int) -> ResponseReturnValue:
    """Clear one note of the order (`label`, as attention_notes[].label names it) that a person
    settled, with `note` saying how; audited. The order as the page shows it, the note gone."""
    body = json_body()
    reject_unknown(body, {"label", "note"})
    errors: dict[str, str] = {}
    label = field_text(body, "label", LABEL_MAX, errors)
    note = field_text(body, "note", handled.NOTE_MAX, errors)
    if errors:
        raise invalid(errors)
    with db() as session:
        link = session.get(OrderLink, order_id, with_for_update=True) if order_id <= MAX_INT else None
        if link is None or link.shop_id != g.shop.id:
            raise not_found("order")
        found = next((n for n in order_notes.notes(link) if n.label and n.label == label), None)
        if found is None:  # a flow cleared it, or a person did, since the page was read
            raise ApiError(409, "note_gone", f"the order holds no note {label!r} now: reload it", label=label)
        held = held_messages(session, g.shop.id, [link.shopify_order_id]).get(link.shopify_order_id, [])
        behind = next((m for m in held if m.slot == found.slot), None)
        if behind is not None:
            raise ApiError(
                409,
                "note_has_message",
                f"the note {label!r} closes with its message {behind.message_id}: mark that message handled",
                label=label,
                message_id=behind.message_id,
            )
        before = [n.label for n in order_notes.notes(link) if n.label]
        order_notes.clear(link, found.flow, event=found.event, generation=found.generation, topic=found.topic)
        write_audit(
            session, "order.note_handled", f"order:{link.id}", {"notes": before},
            {"note": note, "notes_cleared": [label]},
        )  # fmt: skip
        return jsonify(order_json(link, g.role.at_least(Role.ADMIN), held, where=locale()))

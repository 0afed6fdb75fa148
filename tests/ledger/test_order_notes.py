"""The notes for a person on an order link, one per flow (ledger.order_notes): none hides another,
each flow clears only its own, and a note written before notes were kept per flow still reads."""

from __future__ import annotations

from ledger import order_notes
from ledger.models import OrderLink

EDIT = "order_edits: Shopify edit of #1001 NOT applied in the ERP: ERP order 7 is being separated"
CAPTURE = "invoices: the NF-e total 120.00 is 20.00 above what the customer paid or authorised"


def flows(link: OrderLink) -> list[tuple[str, int | None]]:
    return [(n.flow, n.event) for n in order_notes.notes(link)]


def test_an_invoice_note_written_after_an_edit_note_keeps_both_and_each_clears_its_own() -> None:
    link = OrderLink()
    order_notes.put(link, "order_edits", EDIT)
    order_notes.put(link, "invoices", CAPTURE)
    assert link.needs_attention == f"{EDIT}\n{CAPTURE}"
    order_notes.put(link, "invoices", "invoices: refund 3.00 to the customer")  # its own replaces its own
    assert order_notes.note_of(link, "order_edits") == EDIT
    assert order_notes.note_of(link, "invoices") == "invoices: refund 3.00 to the customer"
    assert order_notes.clear(link, "invoices")
    assert link.needs_attention == EDIT
    assert not order_notes.clear(link, "invoices")  # nothing of its own left
    assert order_notes.clear(link, "order_edits", starting="order_edits: ")
    assert link.needs_attention is None


def test_an_old_single_note_reads_as_its_flows_and_clears() -> None:
    """A row written when the column held one note ("flow: text") is that flow's one note."""
    link = OrderLink(needs_attention=EDIT)
    assert flows(link) == [("order_edits", None)] and order_notes.note_of(link, "order_edits") == EDIT
    order_notes.put(link, "invoices", CAPTURE)
    assert (
        order_notes.note_of(link, "order_edits") == EDIT and order_notes.note_of(link, "invoices") == CAPTURE
    )
    assert order_notes.clear(link, "order_edits", starting="order_edits: ")
    assert link.needs_attention == CAPTURE

    old_event = OrderLink(needs_attention="invoices (ERP event #77): Cliente bloqueado\nvenda suspensa")
    [note] = order_notes.notes(old_event)  # the line break of an old note is that note's
    assert (note.flow, note.event, note.text) == ("invoices", 77, old_event.needs_attention)
    assert not order_notes.clear(old_event, "invoices")  # the flow's own note is not its failed event's
    assert not order_notes.clear(old_event, "invoices", event=78)
    assert order_notes.clear(old_event, "invoices", event=77) and old_event.needs_attention is None


def test_a_flow_clears_only_the_note_it_means() -> None:
    """The cancellation that clears its "ERP number unknown" leaves its "cancel the NF-e"."""
    nfe = "cancellations: Order #1 was cancelled in Shopify, but ERP order 7 is already invoiced"
    link = OrderLink(needs_attention=nfe)
    assert not order_notes.clear(link, "cancellations", starting=("cancellations: ERP number unknown. ",))
    assert link.needs_attention == nfe
    assert not order_notes.clear(link, "order_edits")  # another flow's: never touched
    assert link.needs_attention == nfe


def test_a_cancellations_note_reads_first_and_a_failed_event_is_a_note_of_its_own() -> None:
    link = OrderLink()
    order_notes.put(link, "order_edits", EDIT)
    order_notes.put(link, "order_edits", "refused by Shopify", event=12)  # the ERP's picking edit
    order_notes.put(link, "cancellations", "cancellations: NF-e 123 was cancelled in the ERP")
    assert flows(link) == [("cancellations", None), ("order_edits", None), ("order_edits", 12)]
    assert (
        order_notes.note_of(link, "order_edits", event=True)
        == "order_edits (ERP event #12): refused by Shopify"
    )
    order_notes.put(link, "order_edits", "refused again", event=12)  # the same event: its note replaced
    assert flows(link) == [("cancellations", None), ("order_edits", None), ("order_edits", 12)]
    assert order_notes.note_of(link, "order_edits", event=12) == "order_edits (ERP event #12): refused again"


def test_each_failed_erp_event_keeps_its_own_note_until_it_is_settled() -> None:
    """Two failed events of one flow (the ERP's picking edits #12 and #13, both refused by Shopify;
    wait_for_earlier lets #13 run behind a failed #12): #13's failure does not replace #12's note,
    and #13 applied later clears only its own, as #12 is still failed."""
    link = OrderLink()
    order_notes.put(link, "order_edits", "Shopify refused the edit (line 3)", event=12)
    order_notes.put(link, "order_edits", "Shopify refused the edit (line 5)", event=13)
    assert flows(link) == [("order_edits", 12), ("order_edits", 13)]
    assert order_notes.clear(link, "order_edits", event=13)  # #13 applied (order_events._settled)
    assert order_notes.note_of(link, "order_edits", event=True) == (
        "order_edits (ERP event #12): Shopify refused the edit (line 3)"
    )
    assert not order_notes.clear(link, "order_edits", event=13)
    assert order_notes.clear(link, "order_edits", event=12) and link.needs_attention is None


def test_an_event_of_another_erp_with_the_same_number_is_another_note() -> None:
    """After the ERP connection moved to another ERP (generation 1), its event #12 is not the first
    ERP's #12 (each ERP numbers its events on its own): applied, it clears its own note only; a row
    written before generations were noted ("(ERP event #12)") is the first ERP's."""
    link = OrderLink(needs_attention="invoices (ERP event #12): Shopify refused the tracking")
    order_notes.put(link, "invoices", "held: event #11 is failed", event=12, generation=1)
    assert [(n.flow, n.event, n.generation) for n in order_notes.notes(link)] == [
        ("invoices", 12, 0),
        ("invoices", 12, 1),
    ]
    assert link.needs_attention.splitlines()[1] == "invoices (ERP event #12, erp1): held: event #11 is failed"
    assert order_notes.clear(link, "invoices", event=12, generation=1)
    assert link.needs_attention == "invoices (ERP event #12): Shopify refused the tracking"
    assert not order_notes.clear(link, "invoices", event=12, generation=1)
    assert order_notes.clear(link, "invoices", event=12) and link.needs_attention is None


def test_an_event_unit_key_names_its_event_and_its_erp() -> None:
    """The one reading of jobs.order_events.unit_key, for the notes, the event appliers and the
    link made by hand alike: "event:<seq>" is the first ERP's, "event:<seq>:erp<n>" the n-th's."""
    assert order_notes.event_of("event:12") == (12, 0) and order_notes.generation_of("event:12") == 0
    assert order_notes.event_of("event:12:erp2") == (12, 2)
    assert order_notes.generation_of("event:12:erp2") == 2
    assert order_notes.event_of("order:12") is None


def test_a_note_is_one_line_and_a_text_naming_no_flow_is_kept() -> None:
    link = OrderLink(needs_attention="payment method pix has no mapping")
    order_notes.put(link, "invoices", "first line\r\n  second line")
    assert [(n.flow, n.text) for n in order_notes.notes(link)] == [
        ("", "payment method pix has no mapping"),
        ("invoices", "invoices: first line second line"),
    ]
    assert not order_notes.clear(link, "orders")


def test_a_topic_note_sits_beside_its_flows_own_and_neither_clears_nor_replaces_the_other() -> None:
    """A delivery address the picked ERP order did not take ("order_edits (delivery address): ...")
    and a Shopify edit NOT applied ("order_edits: ...") are two notes: the edit's echo clearing its
    note, or a new edit note, leaves the address's; a message's unit key names its topic."""
    link = OrderLink()
    order_notes.put(link, "order_edits", "new address not in the ERP", topic="delivery address")
    order_notes.put(link, "order_edits", EDIT)
    address = "order_edits (delivery address): new address not in the ERP"
    assert link.needs_attention == f"{address}\n{EDIT}"
    assert order_notes.note_of(link, "order_edits", topic="delivery address") == address
    assert [(n.flow, n.topic) for n in order_notes.notes(link)] == [
        ("order_edits", "delivery address"),
        ("order_edits", ""),
    ]
    assert order_notes.clear(link, "order_edits", starting="order_edits: ")
    assert link.needs_attention == address
    assert order_notes.topic_of("address:1001") == "delivery address" and order_notes.topic_of("edit:9") == ""
    assert order_notes.clear(link, "order_edits", topic="delivery address")
    assert link.needs_attention is None

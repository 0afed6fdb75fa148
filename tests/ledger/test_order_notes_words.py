"""A note's words (ledger.order_notes): kept beside its English line by its slot, replaced and
cleared with it, never outliving the text they said; scrubbed with it (ledger.privacy)."""

from __future__ import annotations

from ledger import order_notes
from ledger.models import OrderLink
from ledger.privacy import REDACTED, scrub_words

EDIT = "order_edits: The ERP refused the edit of order #1001 (ERP order 7): Cliente bloqueado."
EDIT_WORDS = ("edit_refused", {"name": "#1001", "nro": 7, "why": "Cliente bloqueado."})


def test_a_note_keeps_its_words_by_slot_and_clearing_it_clears_them() -> None:
    link = OrderLink()
    order_notes.put(link, "order_edits", EDIT, words=EDIT_WORDS)
    order_notes.put(
        link, "invoices", "invoices: refund 3.00", words=[("a", {"amount": order_notes.money("3.00")})]
    )
    assert link.attention_words == {
        "order_edits": [
            {"key": "edit_refused", "params": {"name": "#1001", "nro": 7, "why": "Cliente bloqueado."}}
        ],
        "invoices": [{"key": "a", "params": {"amount": {"money": "3.00"}}}],
    }
    assert order_notes.words_of_note(link, "order_edits") == [EDIT_WORDS]
    assert order_notes.clear(link, "order_edits")
    assert set(order_notes.words_of(link)) == {"invoices"} and set(link.attention_words) == {"invoices"}
    assert order_notes.clear(link, "invoices")
    assert link.needs_attention is None and link.attention_words is None


def test_a_note_put_again_without_words_drops_the_words_of_its_earlier_text() -> None:
    link = OrderLink()
    order_notes.put(link, "order_edits", EDIT, words=EDIT_WORDS)
    order_notes.put(link, "order_edits", "order_edits: something the flow gave no words")
    assert order_notes.words_of(link) == {} and link.attention_words is None
    assert order_notes.words_of_note(link, "order_edits") is None


def test_event_and_topic_notes_keep_words_of_their_own_slot() -> None:
    link = OrderLink()
    order_notes.put(link, "order_edits", EDIT, words=EDIT_WORDS)
    order_notes.put(
        link, "order_edits", "Cliente bloqueado", event=12, generation=1, words=("x", {"seq": 12})
    )
    order_notes.put(link, "order_edits", "moved", topic="delivery address", words=("y", {}))
    assert set(order_notes.words_of(link)) == {
        "order_edits",
        "order_edits (ERP event #12, erp1)",
        "order_edits (delivery address)",
    }
    assert order_notes.clear(link, "order_edits", event=12, generation=1)
    assert set(order_notes.words_of(link)) == {"order_edits", "order_edits (delivery address)"}
    assert order_notes.clear(link, "order_edits", topic="delivery address")
    assert set(order_notes.words_of(link)) == {"order_edits"}


def test_an_old_row_with_only_text_reads_with_no_words() -> None:
    link = OrderLink(needs_attention=EDIT)
    assert order_notes.words_of(link) == {} and order_notes.words_of_note(link, "order_edits") is None
    stale = OrderLink(needs_attention=EDIT, attention_words={"invoices": [{"key": "a", "params": {}}]})
    assert order_notes.words_of(stale) == {}  # words of a note the link no longer holds are not read


def test_nested_parts_and_lists_are_stored_as_json_and_read_back() -> None:
    link = OrderLink()
    words = (
        "outer",
        {"nfe": ("the_nfes", {"count": 2}), "all": order_notes.joined([("a", {}), ("b", {})], "and")},
    )
    order_notes.put(link, "invoices", "invoices: x", words=words)
    assert link.attention_words == {
        "invoices": [
            {
                "key": "outer",
                "params": {
                    "nfe": {"key": "the_nfes", "params": {"count": 2}},
                    "all": {"join": "and", "parts": [{"key": "a", "params": {}}, {"key": "b", "params": {}}]},
                },
            }
        ]
    }


def test_scrubbing_takes_a_delivery_address_and_a_persons_note_whole_and_known_values_in_any_param() -> None:
    words = {
        "order_edits (delivery address)": [
            {"key": "address_not_sent", "params": {"name": "#1", "nro": 7, order_notes.DELIVERY: "Rua A, 10"}}
        ],
        "invoices": [
            {
                "key": "capture_settled_outside",
                "params": {"by": "ana", "note": "pago em dinheiro", "key": "k", "seq": 3},
            }
        ],
        "cancellations": [
            {"key": "cancel_refused_by_erp", "params": {"why": "CPF 123.456.789-09 ana@x.com"}}
        ],
    }
    scrubbed = scrub_words(words, ["ana"])
    assert scrubbed is not None
    assert scrubbed["order_edits (delivery address)"][0]["params"][order_notes.DELIVERY] == REDACTED
    assert scrubbed["order_edits (delivery address)"][0]["params"]["nro"] == 7
    assert scrubbed["invoices"][0]["params"]["note"] == REDACTED
    assert "ana" not in str(scrubbed["invoices"]) and scrubbed["invoices"][0]["params"]["seq"] == 3
    why = scrubbed["cancellations"][0]["params"]["why"]
    assert "123.456.789-09" not in why and "ana@x.com" not in why
    assert scrub_words(None) is None

"""A check the order flows' tests run on every note put with words (ledger.order_notes.put): its
words said in English are the note as the flow wrote it, so shopify_app.note_words never tells
another story than the stored line, and every key a flow uses is in the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger import order_notes
from shopify_app.note_words import say_note

SAID: list[str] = []  # the notes checked, for a test to see the check ran


def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    put = order_notes.put

    def put_and_check(link: Any, flow: str, text: str, **kwargs: Any) -> None:
        put(link, flow, text, **kwargs)
        if not kwargs.get("words"):
            return
        said = order_notes.words_of(link)
        for note in order_notes.notes(link):
            if note.label in said:
                english = say_note(said[note.label], "en")
                written = note.text[len(note.label) + 1 :].lstrip()
                assert english is not None, f"a key of {said[note.label]} is not in shopify_app.note_words"
                assert " ".join(english.split()) == " ".join(written.split()), (english, written)
                SAID.append(note.label)

    monkeypatch.setattr(order_notes, "put", put_and_check)
    yield

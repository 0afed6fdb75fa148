"""Text cut to a width the way a person reads it: whole ", " parts given up (`within`: the long
wordy ones first, then from the end; `whole_parts`: from the end), and a part
alone too long cut between words, so a number is never cut in two ("Apto 1203" never reads "Apto 1",
"..., 1234" never "..., 12"). Used for the customer's address within GE_PESSOA's columns
(erp.payloads) and for the delivery within obsPedido (jobs.order_map.observation_where);
`first_parts` for the parts of a list said one after another (an order's delivery slot, a line's
properties: jobs.order_slot, jobs.order_line_note)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

PARTS = ", "


def whole_parts(text: str, fits: Callable[[str, str], bool]) -> str:
    """`text` with its ", " parts dropped from the end, one by one, until `fits(kept, its last part)`
    or one part is left (which may still not fit: `within` cuts it)."""
    parts = text.split(PARTS)
    while len(parts) > 1 and not fits(PARTS.join(parts), parts[-1]):
        parts.pop()
    return PARTS.join(parts)


def first_parts(parts: Sequence[str], separator: str, width: int) -> str | None:
    """`parts` joined by `separator` within `width`: whole parts dropped from the end while longer
    (one kept at least), then cut at the last space within `width` (a number never cut in two:
    "14h às 18h" never reads "14h às 1"), by characters when that space would give up more than
    half of it (one long word: its start says more than nothing); None when nothing is left."""
    kept = list(parts)
    while len(kept) > 1 and len(separator.join(kept)) > width:
        kept.pop()
    text = separator.join(kept)
    if len(text) > width:
        cut = text[: width + 1].rsplit(" ", 1)[0].rstrip()
        text = cut if width // 2 <= len(cut) <= width else text[:width]
    return text.rstrip() or None


def within(text: str, width: int) -> str:
    """`text` in `width` characters: first its longest ", " parts holding no digit are given up (a
    condominium's name, "entrada pela lateral": the tower, block and apartment a delivery needs are
    short and numbered: "Condominio Residencial Parque Jardim Europa, Torre B, Apto 1203" keeps
    "Torre B, Apto 1203"), one part kept at least; then whole parts from its end (`whole_parts`);
    then, when one part alone is longer, cut at the last space that keeps it within, never inside a
    word (nor a number); by characters only when its first word alone is longer than `width`."""
    parts = text.split(PARTS)
    while len(PARTS.join(parts)) > width and len(parts) > 1:
        wordy = [part for part in parts if not any(c.isdigit() for c in part)]
        if not wordy:
            break
        parts.remove(max(wordy, key=len))  # (the first of the longest)
    kept = whole_parts(PARTS.join(parts), lambda kept, _last: len(kept) <= width)
    if len(kept) <= width:
        return kept
    cut = kept[: width + 1]  # the character after the width tells whether the cut ends a word
    space = cut.rfind(" ")
    return (kept[:space] if space > 0 else kept[:width]).rstrip(" ,;-/")

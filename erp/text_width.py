"""Text cut to a width the way a person reads it: whole ", " parts given up from the end, and a part
alone too long cut between words, so a number is never cut in two ("Apto 1203" never reads "Apto 1",
"..., 1234" never "..., 12"). Used for the customer's address within GE_PESSOA's columns
(erp.payloads) and for the delivery within obsPedido (jobs.order_map.observation_where)."""

from __future__ import annotations

from collections.abc import Callable

PARTS = ", "


def whole_parts(text: str, fits: Callable[[str, str], bool]) -> str:
    """`text` with its ", " parts dropped from the end, one by one, until `fits(kept, its last part)`
    or one part is left (which may still not fit: `within` cuts it)."""
    parts = text.split(PARTS)
    while len(parts) > 1 and not fits(PARTS.join(parts), parts[-1]):
        parts.pop()
    return PARTS.join(parts)


def within(text: str, width: int) -> str:
    """`text` in `width` characters: whole parts from its end (`whole_parts`), then, when its first
    part alone is longer, cut at the last space that keeps it within, never inside a word (nor a
    number); by characters only when its first word alone is longer than `width`."""
    kept = whole_parts(text, lambda kept, _last: len(kept) <= width)
    if len(kept) <= width:
        return kept
    cut = kept[: width + 1]  # the character after the width tells whether the cut ends a word
    space = cut.rfind(" ")
    return (kept[:space] if space > 0 else kept[:width]).rstrip(" ,;-/")

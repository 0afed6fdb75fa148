"""Customer text within the NF-e's character set, before it reaches the ERP.

Why: the ERP issues the order's NF-e from what the app sends (the customer register's name and
address, GE_PESSOA), and the NF-e schema's TString takes Latin-1 only ([!-ÿ]: accents such as Á, ç,
ã are in it). An iPhone types ’ (U+2019) in "D’Ávila" and "Rua Sant’Ana", and a complement may carry
an emoji: sent as typed, SEFAZ refuses the NF-e (Rejeição 225, schema) at invoicing, after the order
was picked. So the text is NFC-normalised (a letter and its combining accent become the one Latin-1
letter), typographic quotes and dashes become ' " -, and a letter outside Latin-1 is transliterated,
never deleted ("Łukasz Wiśniewski" sent as "UKASZ WINIEWSKI" names someone else on the register and
the NF-e): its compatibility decomposition (NFKD) keeps its Latin-1 base ("ś" s, "ễ" e, "Ǿ" Ø, "ﬁ"
fi), and the letters that have none are mapped (`_NO_DECOMPOSITION`: Ł L, Đ D, Œ OE, ı i...). What
Latin-1 has is kept as typed (ã, ç, Ø, ß, Æ). Control characters and what still falls outside
Latin-1 (emoji, symbols, other scripts) are dropped, and runs of spaces, tabs and line breaks become
one space.
"""

from __future__ import annotations

import unicodedata

_TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        "\u2026": "...",
    }
)


# Letters outside Latin-1 with no decomposition to a Latin-1 base (NFKD leaves them whole).
_NO_DECOMPOSITION = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ɖ": "D", "ɖ": "d", "Ħ": "H", "ħ": "h", "Ŧ": "T",
    "ŧ": "t", "Ŀ": "L", "ŀ": "l", "Ŋ": "N", "ŋ": "n", "ı": "i", "ȷ": "j", "ĸ": "k", "Œ": "OE",
    "œ": "oe", "ẞ": "SS", "Ƒ": "F", "ƒ": "f", "Ə": "E", "ə": "e", "Ɛ": "E", "ɛ": "e", "Ɨ": "I",
    "ɨ": "i", "Ƶ": "Z", "ƶ": "z", "Ƀ": "B", "ƀ": "b",
}  # fmt: skip


def nfe_text(value: str) -> str:
    """`value` within Latin-1, printable, its spaces collapsed (see the module)."""
    text = unicodedata.normalize("NFC", value).translate(_TYPOGRAPHIC)
    kept = "".join(c if ord(c) <= 0xFF or c.isspace() else _latin_1(c) for c in text)
    kept = "".join(c for c in kept if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(kept.split())


def _latin_1(char: str) -> str:
    """A character outside Latin-1 as Latin-1: its mapped letters, else what its NFKD decomposition
    has in Latin-1 (the base letter, without the accents), "" for none (an emoji, a symbol)."""
    mapped = _NO_DECOMPOSITION.get(char)
    if mapped is not None:
        return mapped
    return "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) <= 0xFF)

"""Customer text within the NF-e's character set, before it reaches the ERP.

Why: the ERP issues the order's NF-e from what the app sends (the customer register's name and
address, GE_PESSOA), and the NF-e schema's TString takes Latin-1 only ([!-ÿ]: accents such as Á, ç,
ã are in it). An iPhone types ’ (U+2019) in "D’Ávila" and "Rua Sant’Ana", and a complement may carry
an emoji: sent as typed, SEFAZ refuses the NF-e (Rejeição 225, schema) at invoicing, after the order
was picked. So the text is NFC-normalised (a letter and its combining accent become the one Latin-1
letter), typographic quotes and dashes become ' " -, control characters and anything above U+00FF
are dropped (no transliteration: what is left of Latin-1 is kept as typed), and runs of spaces,
tabs and line breaks become one space.
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


def nfe_text(value: str) -> str:
    """`value` within Latin-1, printable, its spaces collapsed (see the module)."""
    text = unicodedata.normalize("NFC", value).translate(_TYPOGRAPHIC)
    kept = "".join(c for c in text if c.isspace() or (ord(c) <= 0xFF and unicodedata.category(c) != "Cc"))
    return " ".join(kept.split())

"""A job's words beside its English text: what the pages say in the merchant's language.

A job that writes a text a person reads (a skip's reason, a run's error line, a dry run's held
reason, an order line's change) keeps the English text, for logs and search, and beside it its
words: a key the pages' catalogues know and its params (shopify_app.words renders them in the
request's locale). Params are ids, numbers, money and names, never English text; an ERP's or
Shopify's own message stays a param as it came.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

Words = tuple[str, dict[str, Any]]  # (key, params): ids, numbers, money, names; never English text


def stored(words: Words) -> dict[str, Any]:
    """The words as a JSON column holds them: {"key": ..., "params": {...}}, a param that is words
    itself (a (key, params) part said inside) as words too; anything exotic as text."""
    key, params = words
    return {"key": key, "params": json.loads(json.dumps(_nested(params), default=str))}


def _nested(value: Any) -> Any:
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], dict)
    ):
        return stored(value)
    if isinstance(value, dict):
        return {k: _nested(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nested(v) for v in value]
    return value


def joined(parts: list[Words] | tuple[Words, ...]) -> list[dict[str, Any]]:
    """Several words said one after the other ("; "), as stored."""
    return [stored(part) for part in parts]


# Words built beside a text that later steps may extend (an order line's reason): kept with the
# English they say, so a step that changes the text without giving words drops them rather than
# leaving words that say less than the text.
Said = tuple[str, tuple[Words, ...]]  # (the English text, the parts that say it)


def said(english: str, *parts: Words) -> dict[str, Any]:
    """`reason` and `words` for a record built with both (LineChange(..., **said(text, part)))."""
    return {"reason": english, "words": (english, parts)}


def stored_for(english: str | None, words: Said | None) -> list[dict[str, Any]] | None:
    """The parts as stored, when they say `english` as it stands; None otherwise."""
    if words is None or english is None or words[0] != english:
        return None
    return joined(words[1])


def around(words: Said | None, english: str, text: str, key: str, params: dict[str, Any]) -> Said | None:
    """Words for `text`, which a later step writes around `english` ("<english>: <what it did>"):
    one part of `key` saying `english`'s own words as its param "said" (several parts joined as
    they read: "; "); None when `words` do not say `english` as it stands."""
    if words is None or words[0] != english or not words[1]:
        return None
    parts = words[1]
    inner = parts[0] if len(parts) == 1 else {"join": "semicolon", "parts": list(parts)}
    return text, ((key, {"said": inner, **params}),)


# A record a page reads whole (a reconciliation report's row, a message's response) keeps a text's
# words beside it under the text's name and this suffix: {"why": "...", "why_words": [...]}
# (shopify_app.words.texts_in_locale says each such text in the request's locale).
SUFFIX = "_words"


def beside(name: str, english: str, *parts: Words) -> dict[str, Any]:
    """{name: english, name + SUFFIX: the parts as stored} (the parts said one after the other)."""
    return {name: english, name + SUFFIX: joined(parts)}


def quantity(value: Decimal) -> str:
    """A quantity as a param: no trailing zeros ("1", "1.5"), as ERP quantities read "1.000"."""
    return format(value.normalize(), "f")

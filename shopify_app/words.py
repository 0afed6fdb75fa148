"""Saying a job's stored words (ledger.words) in the request's locale, from a catalogue of texts.

Each catalogue (skip_words, run_words, dry_run_words, line_words) maps a key to its (pt-BR, en)
texts; the stored words are {"key": ..., "params": {...}}, or a list of them said one after the
other. Words this catalogue cannot say (an old row, a key it lacks) give None: the page then shows
the English text the job kept beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Text = tuple[str, str]  # (pt-BR, en)
JOIN = "; "


class _Params(dict[str, Any]):
    """A placeholder the stored params lack reads as itself, not as an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def say(catalogue: Mapping[str, Text], key: str, params: dict[str, Any] | None, locale: str) -> str | None:
    """The words of `key` in `locale` with `params` in place (None: no such key)."""
    text = catalogue.get(key)
    if text is None:
        return None
    return text[1 if locale == "en" else 0].format_map(_Params(params or {}))


def said(catalogue: Mapping[str, Text], words: Any, locale: str) -> str | None:
    """Stored words ({"key", "params"}, or a list of them) in `locale`; None when any part is not
    this catalogue's (or there are none): the caller falls back to the English text."""
    parts = words if isinstance(words, list) else [words]
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            return None
        params = part.get("params")
        text = say(catalogue, str(part.get("key")), params if isinstance(params, dict) else None, locale)
        if text is None:
            return None
        texts.append(text)
    return JOIN.join(texts) if texts else None


def in_locale(catalogue: Mapping[str, Text], words: Any, english: str | None, locale: str) -> str | None:
    """The words in `locale`, else the English text the job kept beside them."""
    return said(catalogue, words, locale) or english

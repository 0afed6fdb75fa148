"""Saying a job's stored words (ledger.words) in the request's locale, from a catalogue of texts.

Each catalogue (skip_words, run_words, dry_run_words, line_words, reconcile_words, stock_words)
maps a key to its (pt-BR, en) texts; the stored words are {"key": ..., "params": {...}}, or a list
of them said one after the other (a record read whole keeps them beside its text: `texts_in_locale`).
Words this catalogue cannot say (an old row, a key it lacks) give None: the page then shows the
English text the job kept beside them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.words import SUFFIX
from settings import get_settings

Text = tuple[str, str]  # (pt-BR, en)
JOIN = "; "
# What a param holds, where a catalogue says (its KINDS: param name -> kind), said as the page's
# language writes it: a NUMBER ("1.5" kg reads "1,5" in pt-BR), MONEY ("1234.5" reads "R$ 1.234,50").
# English reads both as the jobs write them.
NUMBER, MONEY = "number", "money"
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _grouped(value: Decimal, places: int | None) -> str:
    """`value` as pt-BR writes it: "." between thousands, "," before the decimals."""
    text = f"{value:,.{places}f}" if places is not None else f"{value:,f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def number(value: Any, locale: str) -> str:
    """A quantity in `locale` ("1.5" -> "1,5" in pt-BR); anything not a plain decimal as it is."""
    text = str(value)
    if locale == "en" or not _DECIMAL.match(text):
        return text
    return _grouped(Decimal(text), None)


def money(value: Any, locale: str) -> str:
    """An amount in `locale`: as the jobs write it in English ("1234.50"), "R$ 1.234,50" in pt-BR
    (as shopify_app.note_words says money); anything not an amount as it is."""
    text = str(value)
    if locale == "en":
        return text
    try:
        return "R$ " + _grouped(Decimal(text), 2)
    except InvalidOperation:
        return text


def moment(value: Any, locale: str) -> str:
    """A time a job kept in UTC (ISO, or "2026-12-05 14:30") as `locale` reads it: pt-BR as the team
    writes it, in the chain's time (ERP_TIMEZONE: "05/12/2026 11:30"), English in UTC, said so
    ("2026-12-05 14:30 UTC"); anything not a time as it is."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if locale == "en":
        return f"{at:%Y-%m-%d %H:%M} UTC"
    try:
        zone = ZoneInfo(get_settings().erp_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{at:%d/%m/%Y %H:%M} UTC"
    return f"{at.astimezone(zone):%d/%m/%Y %H:%M}"


_KINDS = {NUMBER: number, MONEY: money}
# A param of several parts said one after another ({"join": ..., "parts": [...]}: ledger.order_notes.joined).
JOINS: dict[str, Text] = {
    "and": (" e ", " and "),
    "comma": (", ", ", "),
    "semicolon": ("; ", "; "),
    "none": ("", ""),  # sentences that carry their own spacing
}


class _Unknown(Exception):
    """A nested part whose key the catalogue lacks: the words are not said (the English text is)."""


def _param(
    catalogue: Mapping[str, Text],
    value: Any,
    locale: str,
    kind: str | None,
    kinds: Mapping[str, str] | None = None,
) -> Any:
    """A param as said: a part ({"key", "params"}) in the same catalogue, language and `kinds` (an
    order line's reason said inside a later step's), an amount ({"money": ...}) as MONEY, parts
    joined ({"join", "parts"}: JOINS) or a list (commas), a value of a `kind` as that kind; any other
    value as it is."""
    if isinstance(value, dict) and "key" in value:
        params = value.get("params")
        given = params if isinstance(params, dict) else None
        text = say(catalogue, str(value["key"]), given, locale, kinds)
        if text is None:
            raise _Unknown
        return text
    if isinstance(value, dict) and MONEY in value:
        return money(value[MONEY], locale)
    at = 1 if locale == "en" else 0
    if isinstance(value, dict) and "parts" in value:
        sep = JOINS.get(str(value.get("join")), JOINS["comma"])[at]
        return sep.join(str(_param(catalogue, v, locale, None, kinds)) for v in value["parts"] or [])
    if isinstance(value, list):
        return JOINS["comma"][at].join(str(_param(catalogue, v, locale, None, kinds)) for v in value)
    if value is None:
        return ""
    return _KINDS[kind](value, locale) if kind in _KINDS else value


class _Params(dict[str, Any]):
    """A placeholder the stored params lack reads as itself, not as an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def say(
    catalogue: Mapping[str, Text],
    key: str,
    params: dict[str, Any] | None,
    locale: str,
    kinds: Mapping[str, str] | None = None,
) -> str | None:
    """The words of `key` in `locale` with `params` in place (None: no such key, or a nested part's);
    `kinds`: which params are a NUMBER or MONEY, said as `locale` writes them."""
    text = catalogue.get(key)
    if text is None:
        return None
    try:
        shown = {
            k: _param(catalogue, v, locale, (kinds or {}).get(k), kinds) for k, v in (params or {}).items()
        }
    except _Unknown:
        return None
    return text[1 if locale == "en" else 0].format_map(_Params(shown))


def said(
    catalogue: Mapping[str, Text], words: Any, locale: str, kinds: Mapping[str, str] | None = None
) -> str | None:
    """Stored words ({"key", "params"}, or a list of them) in `locale`; None when any part is not
    this catalogue's (or there are none): the caller falls back to the English text."""
    parts = words if isinstance(words, list) else [words]
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            return None
        params = part.get("params")
        given = params if isinstance(params, dict) else None
        text = say(catalogue, str(part.get("key")), given, locale, kinds)
        if text is None:
            return None
        texts.append(text)
    return JOIN.join(texts) if texts else None


def in_locale(
    catalogue: Mapping[str, Text],
    words: Any,
    english: str | None,
    locale: str,
    kinds: Mapping[str, str] | None = None,
) -> str | None:
    """The words in `locale`, else the English text the job kept beside them."""
    return said(catalogue, words, locale, kinds) or english


def texts_in_locale(
    value: Any,
    catalogue: Mapping[str, Text],
    locale: str,
    kinds: Mapping[str, str] | None = None,
) -> Any:
    """A copy of a record a page reads whole (a reconciliation report, a message's response) with
    each text that has its words beside it ({"why": ..., "why_words": ...}: ledger.words.beside)
    said in `locale`, at any depth; a text with no words (a record stored before them) or words this
    catalogue cannot say stays as written. The words stay beside it."""
    said = copy.deepcopy(value)
    _say_texts(said, catalogue, locale, kinds)
    return said


def _say_texts(
    value: Any, catalogue: Mapping[str, Text], locale: str, kinds: Mapping[str, str] | None
) -> None:
    if isinstance(value, list):
        for item in value:
            _say_texts(item, catalogue, locale, kinds)
        return
    if not isinstance(value, dict):
        return
    for name in list(value):
        if isinstance(name, str) and not name.endswith(SUFFIX) and name + SUFFIX in value:
            english = value[name]
            if english is None or isinstance(english, str):
                value[name] = in_locale(catalogue, value[name + SUFFIX], english, locale, kinds)
                continue
        _say_texts(value[name], catalogue, locale, kinds)

"""Readers of single Consinco fields: plain dict access, one type check, a clear error.

Why hand-rolled and not reflection/pydantic: the initial load parses ~500,000 price and stock
rows; a direct `raw.get(name)` and an `isinstance` per field keeps that fast, and every failure
names the endpoint and the wire field (ErpUnexpectedShape), which is what an integrator needs to
fix a CONSINCO_FIELD_MAP entry.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from erp.errors import ErpUnexpectedShape

_MISSING = "is missing or null"


def obj(raw: Any, where: str, name: str = "record") -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ErpUnexpectedShape(where, name, "is not a JSON object", raw)
    return raw


def seq(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    """A list field; missing or null reads as empty (Consinco omits empty collections)."""
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ErpUnexpectedShape(where, key, "is not a list", value)
    return value


def int_(raw: dict[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if type(value) is int:
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,30}\s*", value):  # ("²".isdigit(), "--5")
        return int(value)
    raise ErpUnexpectedShape(where, key, _MISSING if value is None else "is not an integer", value)


def opt_int(raw: dict[str, Any], key: str, where: str) -> int | None:
    return None if raw.get(key) is None else int_(raw, key, where)


def dec(raw: dict[str, Any], key: str, where: str) -> Decimal:
    """A number field as a Decimal. NaN and infinities ("NaN", "Infinity", JSON's NaN token) are no
    number a record can carry: Decimal('NaN') > 0 raises, and an infinite weight cannot be sent to
    Shopify as JSON; they are the record's malformed field, like text."""
    value = raw.get(key)
    kind = type(value)
    if kind is Decimal:
        if value.is_finite():
            return value
    elif kind is int:
        return Decimal(value)
    elif kind is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    elif kind is float:
        number = Decimal(repr(value))  # 'nan', 'inf' read as Decimal's NaN and Infinity
        if number.is_finite():
            return number
    raise ErpUnexpectedShape(where, key, _MISSING if value is None else "is not a number", value)


def positive(raw: dict[str, Any], key: str, where: str) -> Decimal:
    """A number field that must be above zero (a packaging's quantity: every unit figure divides by
    it): 0 or below is the record's malformed field."""
    number = dec(raw, key, where)
    if number > 0:
        return number
    raise ErpUnexpectedShape(where, key, "is not a positive number", raw.get(key))


def opt_dec(raw: dict[str, Any], key: str, where: str) -> Decimal | None:
    value = raw.get(key)
    if value is None or (type(value) is Decimal and value.is_finite()):  # (dec's first case, without a call)
        return value
    return dec(raw, key, where)


def str_(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if type(value) is str:
        return value
    if type(value) is int:  # codes sometimes arrive as numbers (EAN, NCM, CEST: erp.codes pads them)
        return str(value)
    raise ErpUnexpectedShape(where, key, _MISSING if value is None else "is not a string", value)


def opt_str(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or type(value) is str:  # (str_'s first case, without a second call)
        return value
    return str_(raw, key, where)


def flag(raw: dict[str, Any], key: str, where: str, default: bool | None = None) -> bool:
    """A boolean, also from Consinco's 'S'/'N' (and 'A'/'I' status) indicators."""
    value = raw.get(key)
    if value is True or value is False:
        return value
    if value in ("S", "A"):
        return True
    if value in ("N", "I"):
        return False
    if value is None and default is not None:
        return default
    raise ErpUnexpectedShape(where, key, _MISSING if value is None else "is not a boolean or S/N", value)


def when(raw: dict[str, Any], key: str, where: str, zone: tzinfo = UTC) -> datetime:
    """An aware UTC date-time. A date-time without offset is read in `zone` (the installation's
    `formats.datetime_zone`, erp/names.py; UTC by default); a date alone means midnight there.

    A date alone is a change column of day precision (Consinco's DTA columns): a change made later
    that day carries the same value, so a read's watermark must not move past the day's start
    (erp/paging.py takes care of it)."""
    value = raw.get(key)
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                if zone is UTC:
                    # The usual case (the contract's naive UTC): read again with UTC's offset, for
                    # which fromisoformat sets timezone.utc itself, ~5x cheaper than .replace(): the
                    # initial load reads ~135,000 of these. A date alone comes back naive ("+00:00"
                    # is then read as its time of day): replaced as before.
                    utc = datetime.fromisoformat(value + "+00:00")
                    return utc if utc.tzinfo is UTC else parsed.replace(tzinfo=UTC)
                parsed = parsed.replace(tzinfo=zone)
            return parsed.astimezone(UTC)
    raise ErpUnexpectedShape(where, key, _MISSING if value is None else "is not an ISO date-time", value)


def opt_when(raw: dict[str, Any], key: str, where: str, zone: tzinfo = UTC) -> datetime | None:
    return None if raw.get(key) is None else when(raw, key, where, zone)


def opt_day(raw: dict[str, Any], key: str, where: str) -> date | None:
    value = raw.get(key)
    if value is None:
        return None
    if type(value) is str:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ErpUnexpectedShape(where, key, "is not an ISO date", value)


def iso(moment: datetime, zone: tzinfo = UTC) -> str:
    """A date-time as the API wants it: in `zone` (UTC by default), no offset, microseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (UTC)")
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="microseconds")

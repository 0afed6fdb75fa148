"""A stable content hash of a record, so an unchanged record costs nothing on the next run.

The digest is SHA-256 over canonical JSON: keys sorted, no whitespace, and the types JSON
cannot hold normalised first (Decimal by value, datetimes in UTC, sets sorted). The same
record therefore hashes the same across runs, processes and machines, whatever order its
dict was built in, and `Decimal("1.50")` hashes like `Decimal("1.5")`.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any


def digest(obj: Any) -> str:
    """The hex SHA-256 of `obj` in canonical JSON form (64 characters).

    Raises:
        TypeError: when `obj` holds a value with no canonical form (e.g. an arbitrary object).
    """
    text = json.dumps(canonical(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(obj: Any) -> Any:
    """`obj` turned into plain JSON values whose serialisation does not depend on how it was built."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        # An integral float equals the int with that value; keep them one hash.
        return int(obj) if obj.is_integer() else obj
    if isinstance(obj, Decimal):
        return _decimal_text(obj)
    if isinstance(obj, enum.Enum):
        return canonical(obj.value)
    if isinstance(obj, datetime):
        aware = obj if obj.tzinfo is not None else obj.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(obj, date | time):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return canonical(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(key): canonical(value) for key, value in obj.items()}
    if isinstance(obj, set | frozenset):
        items = [canonical(item) for item in obj]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(obj, list | tuple):
        return [canonical(item) for item in obj]
    raise TypeError(f"no canonical JSON form for {type(obj).__name__}")


def _decimal_text(value: Decimal) -> str:
    """Decimal by value: trailing zeros and exponent spelling do not change the text."""
    if value.is_nan() or value.is_infinite():
        return str(value)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")

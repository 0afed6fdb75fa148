"""The NF-e fields on an order that shows the NF-e already (flow `invoices`: jobs.invoices._write_metafields).

Another F event of the same NF-e (the carrier's tracking, given after invoicing) may supply what
the first one did not (a DANFE or XML link the ERP had not given yet, an issue date, a series): only
those are written, and nothing the order holds of that NF-e is deleted, so the same event twice
writes nothing and an event without the links leaves them in place. The order's fields are that
NF-e's own only once a message recorded writing it (jobs.invoice_record.WRITTEN, or KEY once it
applied it): before that, the key on the order is this message's own interrupted run's (its
metafieldsSet done, the deletion of the previous NF-e's links not), and what the NF-e does not
supply is still the previous NF-e's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobs import order_events
from jobs.invoice_record import KEY, WRITTEN
from jobs.nfe import normalise
from ledger.db import session_scope

LABELS = {
    "chave": "key",
    "numero": "number",
    "serie": "series",
    "modelo": "model",
    "data_emissao": "issue date",
    "danfe_url": "DANFE link",
    "xml_url": "XML link",
}
LINKS = ("danfe_url", "xml_url")


def missing(fields: list[dict[str, Any]], held: dict[str, str]) -> list[dict[str, Any]]:
    """Pure: the metafieldsSet inputs among `fields` whose value the order does not hold (`held`, its
    "nfe" metafields by key); a date_time compared as the instant it names, however written."""
    return [f for f in fields if not _same(f, held.get(f["key"]))]


def outcome(changed: list[dict[str, Any]], held: dict[str, str], key: str) -> str:
    """Pure: what writing `changed` did to NF-e `key` on the order, in words ("DANFE and XML links
    added to NF-e K"); "already there" when nothing."""
    if not changed:
        return "already there"
    added = [f["key"] for f in changed if not held.get(f["key"])]
    updated = [f["key"] for f in changed if held.get(f["key"])]
    parts = []
    if added:
        parts.append(f"{_names(added)} added to NF-e {key}")
    if updated:
        parts.append(f"{_names(updated)} updated on NF-e {key}")
    return "; ".join(parts)


def written_before(unit: order_events.EventUnit, key: str) -> bool:
    """Whether a message of the order (this one's earlier run included) recorded writing NF-e
    `key` on it: the order's NF-e fields are then that NF-e's own."""
    with session_scope() as session:
        for message in order_events.order_messages(session, unit):
            response = message.response_payload or {}
            named = {normalise(str(response.get(name) or "")) for name in (WRITTEN, KEY)}
            if normalise(key) in named:
                return True
    return False


def _same(field: dict[str, Any], value: str | None) -> bool:
    if value is None:
        return False
    if field["type"] == "date_time":
        ours, theirs = _instant(field["value"]), _instant(value)
        if ours is not None and theirs is not None:
            return ours == theirs
    return value == field["value"]


def _instant(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _names(keys: list[str]) -> str:
    names = [LABELS.get(k, k) for k in keys if not (set(LINKS) <= set(keys) and k in LINKS)]
    if set(LINKS) <= set(keys):
        names.append("DANFE and XML links")
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])}{', ' if ' and ' in names[-1] else ' and '}{names[-1]}"

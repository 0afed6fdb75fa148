"""The delivery or pickup slot a customer chose at checkout, for the ERP order's obsPedido.

Why: a supermarket delivers and hands over orders in time windows ("amanhã, 08h às 12h"). The
storefront's delivery-date app (Zapiet, a theme's own calendar, a Brazilian scheduling app) writes
the chosen date and time as order attributes (Shopify's customAttributes, the REST webhook's
note_attributes: "Delivery-Date" 2026-12-05, "Delivery-Time" 13:00 - 14:00). PedidoVenda has no
field for them, and the picking and delivery teams read the ERP order, so obsPedido names the slot
right after the order's name, kept whole before the address and the buyer's note
(jobs.order_map.observation), and a slot changed in Shopify after the import is sent as an address
change is (jobs.order_edits.address).

Which attributes carry the slot is the shop's setting `delivery_slot_attributes` (names compared
as ledger.shop_settings.slot_key tells them: letter case, accents and the marks between words
aside, so "Data de entrega", "data_de_entrega" and "DATA-DE-ENTREGA" are one), their order the
order the slot is written in. Attributes whose names begin with "_" are an app's hidden ones and never read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from erp.nfe_text import nfe_text
from erp.text_width import first_parts
from ledger.shop_settings import slot_key
from settings import get_settings

SLOT_WIDTH = 64  # the slot's characters in obsPedido at most: a long value never pushes out the address
SLOT_PARTS = "; "  # between its attributes (", " parts an address; " - " parts obsPedido)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def slot_keys(value: Any) -> tuple[str, ...]:
    """The setting delivery_slot_attributes as keys (`slot_key`), in its order, without repeats;
    what is not a name is left out."""
    names = value if isinstance(value, list) else []
    keys = (slot_key(name) for name in names if isinstance(name, str))
    return tuple(dict.fromkeys(key for key in keys if key))


def delivery_slot(attributes: Mapping[str, str], keys: Sequence[str]) -> str | None:
    """The slot as obsPedido names it: each attribute the setting lists, in the setting's order,
    as "name: value" (its name as the order carries it; an ISO date "2026-12-05" as the team
    reads it, "05/12/2026"), within the NF-e's characters and SLOT_WIDTH: longer, the values alone
    when they fit ("05/12/2026; 14:00 às 16:00": the window is what the team needs), else whole
    attributes dropped from its end, then cut between words. None when the order carries none."""
    if not keys:
        return None
    by_key: dict[str, list[tuple[str, str]]] = {}
    for name, value in attributes.items():
        text = nfe_text(value or "")
        if not name.startswith("_") and text:
            by_key.setdefault(slot_key(name), []).append((nfe_text(name), _date(text)))
    named = [(name, value) for key in keys for name, value in by_key.get(key, [])]
    parts = [f"{name}: {value}" for name, value in named]
    values = [value for _name, value in named]
    if len(SLOT_PARTS.join(parts)) > SLOT_WIDTH >= len(SLOT_PARTS.join(values)):
        parts = values  # the names given up before a value (the time a date's name would push out)
    return first_parts(parts, SLOT_PARTS, SLOT_WIDTH)


def _date(value: str) -> str:
    """An ISO date as the team reads it ("05/12/2026"); an ISO time with its offset (a UTC "Z"
    one) in the ERP's time zone, where the store delivers ("2026-12-05T01:00:00Z": 04/12/2026
    22:00 in Brasília); any other text as it is."""
    match = _ISO_DATE.fullmatch(value)
    if match:
        return f"{match[3]}/{match[2]}/{match[1]}"
    if _ISO_DATE.match(value) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            local = moment.astimezone(ZoneInfo(get_settings().erp_timezone))
            return f"{local:%d/%m/%Y %H:%M}"
    return value


def webhook_attributes(payload: Mapping[str, Any]) -> dict[str, str]:
    """The REST order body's note_attributes ([{name, value}]) as customAttributes parse to."""
    raw = payload.get("note_attributes")
    found = raw if isinstance(raw, list) else []
    return {
        str(a["name"]): "" if a.get("value") is None else str(a["value"])
        for a in found
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    }

"""The carrier the ERP names with an invoice, as Shopify knows it (trackingInfo company).

Why: Shopify builds the tracking link itself only for a company named exactly as on its list of
supported tracking companies (FulfillmentTrackingInfo.company in the 2026-10 schema lists
"Correios"); the ERP's transportadora is free text ("CORREIOS SEDEX", "JADLOG LOGISTICA S.A."),
so a raw name leaves the customer a number with no link. Known spellings of the carriers a
Brazilian supermarket uses become one name each; a name not known passes as the ERP gave it.
Pure, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# Words that open a carrier's name (after accents, case and punctuation are dropped) -> its name
# in Shopify. The Correios' services (SEDEX, PAC) and the company's own name are the Correios.
_KNOWN: tuple[tuple[tuple[str, ...], str], ...] = (
    (("CORREIOS",), "Correios"),
    (("SEDEX",), "Correios"),
    (("PAC",), "Correios"),
    (("ECT",), "Correios"),
    (("EMPRESA", "BRASILEIRA", "DE", "CORREIOS"), "Correios"),
    (("JADLOG",), "Jadlog"),
    (("JAD", "LOG"), "Jadlog"),
    (("LOGGI",), "Loggi"),
    (("TOTAL", "EXPRESS"), "Total Express"),
    (("TOTALEXPRESS",), "Total Express"),
    (("FEDEX",), "FedEx"),
    (("DHL", "EXPRESS"), "DHL Express"),
)


def _words(name: str) -> tuple[str, ...]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return tuple(re.sub(r"[^A-Z0-9]+", " ", plain.upper()).split())


def shopify_carrier(name: str | None) -> str | None:
    """Shopify's name for the ERP's carrier `name`; the name as given (trimmed) when not known;
    None when there is none."""
    given = (name or "").strip()
    if not given:
        return None
    words = _words(given)
    for start, known in _KNOWN:
        if words[: len(start)] == start:
            return known
    return given

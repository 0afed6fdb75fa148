"""An order line's note for the ERP item (itemDto.observacaoItem): what the customer asked of it.

Why: a supermarket's storefront asks things of a line that the picking team must read at the
shelf or the counter: the deli's "Corte: fatiado fino", the butcher's "Moída: sim", the bakery's
"Ponto: bem assado", "Aceita substituto: Não". Shopify keeps them as line item properties (the
line's customAttributes, written by the product page or an options app); the ERP order item has
a free text for them, observacaoItem. Each property the customer saw goes, "name: value" in the
order given ("; " between them), within the NF-e's characters (the ERP may print it on the invoice
as the item's additional information) and ITEM_NOTE_WIDTH (whole properties dropped from the end
first, then cut). Properties whose names begin with "_" are an app's hidden ones (Shopify's
convention: never shown at checkout) and never sent. None: nothing to say.
"""

from __future__ import annotations

from collections.abc import Mapping

from erp.nfe_text import nfe_text
from erp.text_width import first_parts

ITEM_NOTE_WIDTH = 200  # observacaoItem's characters (assumed as obsPedido's: the width is not public)
PARTS = "; "


def line_note(properties: Mapping[str, str]) -> str | None:
    """The line's observacaoItem (module docstring); None when it has no property to tell."""
    parts = []
    for name, value in properties.items():
        said = nfe_text(value or "")
        if not name.startswith("_") and said and (named := nfe_text(name)):
            parts.append(f"{named}: {said}")
    return first_parts(parts, PARTS, ITEM_NOTE_WIDTH)

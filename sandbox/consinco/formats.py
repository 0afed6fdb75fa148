"""Format switches: how the sandbox writes values where a real installation may differ.

Like the fault switches (faults.py), set from tests or `POST /_sandbox/formatos`, all off by
default (the contract of docs/consinco-api.md). `date_only_changes`: the prices' and stock's change
columns (MRL_PRODEMPSEG / MRL_PRODUTOEMPRESA.DTAALTERACAO, DTA columns in Consinco's naming, not
DTAHOR) kept as dates: served as "2026-11-28" and compared by their day (catalogue.py).
`offset_paging`: every list endpoint pages by plain OFFSET, as TDN's Page / PageSize suggest of a
real installation: no cursor, no memory of the pages served (paging.py, `Pager.read(offset=True)`);
a row changed mid-read then moves the rows after it up one.
`upper_text`: free text an order brings (obsPedido, obsNotaFiscal, clienteDto's names and address)
stored upper-cased and without accents, as many installations keep it (their screens and import
routines upper-case and strip accents: "São João" is kept "SAO JOAO"); served so from then on.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

ORDER_TEXT = ("obsPedido", "obsNotaFiscal")  # PedidoVenda's free text
CUSTOMER_TEXT = ("nomeRazaoSocial", "nomeFantasia", "logradouro", "complementoLogradouro", "bairro", "cidade")


@dataclass
class Formats:
    """Current switches; all off by default."""

    date_only_changes: bool = False
    offset_paging: bool = False
    upper_text: bool = False

    def set(
        self,
        *,
        date_only_changes: bool | None = None,
        offset_paging: bool | None = None,
        upper_text: bool | None = None,
    ) -> None:
        if date_only_changes is not None:
            self.date_only_changes = date_only_changes
        if offset_paging is not None:
            self.offset_paging = offset_paging
        if upper_text is not None:
            self.upper_text = upper_text

    def clear(self) -> None:
        self.set(date_only_changes=False, offset_paging=False, upper_text=False)

    def state(self) -> dict[str, Any]:
        return {
            "alteracaoSoData": self.date_only_changes,
            "paginacaoOffset": self.offset_paging,
            "textoMaiusculo": self.upper_text,
        }

    def stored(self, body: Any) -> Any:
        """An order's body (POST / PUT PedidoVenda) as the installation keeps its text (`upper_text`)."""
        if not self.upper_text or not isinstance(body, dict):
            return body
        kept = {k: upper_text(v) if k in ORDER_TEXT else v for k, v in body.items()}
        customer = body.get("clienteDto")
        if isinstance(customer, dict):
            kept["clienteDto"] = {k: upper_text(v) if k in CUSTOMER_TEXT else v for k, v in customer.items()}
        return kept


def upper_text(value: Any) -> Any:
    """Text as such an installation keeps it: upper-cased, accents (combining marks) dropped."""
    if not isinstance(value, str):
        return value
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return plain.upper()

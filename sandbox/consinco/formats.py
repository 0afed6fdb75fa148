"""Format switches: how the sandbox writes values where a real installation may differ.

Like the fault switches (faults.py), set from tests or `POST /_sandbox/formatos`, all off by
default (the contract of docs/consinco-api.md). `date_only_changes`: the prices' and stock's change
columns (MRL_PRODEMPSEG / MRL_PRODUTOEMPRESA.DTAALTERACAO, DTA columns in Consinco's naming, not
DTAHOR) kept as dates: served as "2026-11-28" and compared by their day (catalogue.py).
`offset_paging`: every list endpoint pages by plain OFFSET, as TDN's Page / PageSize suggest of a
real installation: no cursor, no memory of the pages served (paging.py, `Pager.read(offset=True)`);
a row changed mid-read then moves the rows after it up one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Formats:
    """Current switches; all off by default."""

    date_only_changes: bool = False
    offset_paging: bool = False

    def set(self, *, date_only_changes: bool | None = None, offset_paging: bool | None = None) -> None:
        if date_only_changes is not None:
            self.date_only_changes = date_only_changes
        if offset_paging is not None:
            self.offset_paging = offset_paging

    def clear(self) -> None:
        self.set(date_only_changes=False, offset_paging=False)

    def state(self) -> dict[str, Any]:
        return {"alteracaoSoData": self.date_only_changes, "paginacaoOffset": self.offset_paging}

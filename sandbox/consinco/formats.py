"""Format switches: how the sandbox writes values where a real installation may differ.

Like the fault switches (faults.py), set from tests or `POST /_sandbox/formatos`, all off by
default (the contract of docs/consinco-api.md). `date_only_changes`: the prices' and stock's change
columns (MRL_PRODEMPSEG / MRL_PRODUTOEMPRESA.DTAALTERACAO, DTA columns in Consinco's naming, not
DTAHOR) kept as dates: served as "2026-11-28" and compared by their day (catalogue.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Formats:
    """Current switches; all off by default."""

    date_only_changes: bool = False

    def set(self, *, date_only_changes: bool | None = None) -> None:
        if date_only_changes is not None:
            self.date_only_changes = date_only_changes

    def clear(self) -> None:
        self.set(date_only_changes=False)

    def state(self) -> dict[str, Any]:
        return {"alteracaoSoData": self.date_only_changes}

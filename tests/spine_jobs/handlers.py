"""Handlers the inbox tests route topics to (RQ imports them by dotted name, like real ones)."""

from __future__ import annotations

from ledger.errors import Transient

CALLS: list[str] = []


def record(event) -> None:
    CALLS.append(event.topic)


def always_transient(event) -> None:
    raise Transient("ERP unreachable")


def crashes(event) -> None:
    raise ValueError("handler bug")

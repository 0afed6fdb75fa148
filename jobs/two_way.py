"""Flows that run both ways keep one module per side; a message's `direction` picks the side.

A message a person closed as handled is final: the flows' `replay` (`ledger.handled.unless_handled`)
ends before it gets here."""

from __future__ import annotations

import importlib

from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP


def replay(package: str, message_id: int) -> None:
    """Redo message `message_id` with `<package>.to_erp` or `<package>.to_shopify`."""
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        side = "to_erp" if message.direction == SHOPIFY_TO_ERP else "to_shopify"
    importlib.import_module(f"{package}.{side}").replay(message_id)

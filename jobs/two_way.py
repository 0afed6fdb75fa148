"""Flows that run both ways keep one module per side; a message's `direction` picks the side.

A message a person closed as handled is final: the flows' `replay` (`ledger.handled.unless_handled`)
ends before it gets here."""

from __future__ import annotations

import importlib

from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message


def replay(package: str, message_id: int) -> None:
    """Redo message `message_id` with `<package>.to_erp` or `<package>.to_shopify`."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None:
            raise LookupError(f"message {message_id} does not exist")
        side = "to_erp" if message.direction == SHOPIFY_TO_ERP else "to_shopify"
    importlib.import_module(f"{package}.{side}").replay(message_id)

"""Flows that run both ways keep one module per side; a message's `direction` picks the side.

A message a person closed as handled (`ledger.handled`) is final: a replay still queued for it
(a Retry clicked before) ends without running it, which would reopen it and wipe that record."""

from __future__ import annotations

import importlib

from ledger import handled
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message


def replay(package: str, message_id: int) -> None:
    """Redo message `message_id` with `<package>.to_erp` or `<package>.to_shopify`."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None:
            raise LookupError(f"message {message_id} does not exist")
        if handled.info(message) is not None:
            return
        side = "to_erp" if message.direction == SHOPIFY_TO_ERP else "to_shopify"
    importlib.import_module(f"{package}.{side}").replay(message_id)

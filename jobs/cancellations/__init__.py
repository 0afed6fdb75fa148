"""Cancellations, both ways (flow `cancellations`).

- Shopify -> ERP (`to_erp`): orders/cancelled cancels the ERP order when it is not invoiced;
  an invoiced one is flagged for a person (an NF-e cannot be silently undone).
- ERP -> Shopify (`to_shopify`): an order cancelled in the ERP (EventoPedido 'C', before or
  after invoicing) becomes orderCancel with reason, restock and refund per settings.

A message's `direction` says which side redoes it.
"""

from __future__ import annotations

from typing import Any

from jobs import two_way
from ledger.handled import unless_handled


def on_webhook(event: Any) -> Any:
    from jobs.cancellations import to_erp

    return to_erp.on_webhook(event)


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: the EventoPedido poller reads the ERP side."""
    from jobs.cancellations import to_shopify

    to_shopify.run(shop_id)


@unless_handled
def replay(message_id: int) -> None:
    two_way.replay(__name__, message_id)

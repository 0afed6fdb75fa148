"""Order edits, both ways (flow `order_edits`).

- Shopify -> ERP (`to_erp`): orders/edited webhooks change the ERP order while it is not yet
  separated; after that the edit is flagged for a person.
- Shopify -> ERP (`address`): a delivery address changed in Shopify (orders/updated) rewrites the
  ERP order's obsPedido while it is not yet separated; after that it is flagged for a person.
- ERP -> Shopify (`to_shopify`): cuts, substitutions and weights found at picking (EventoPedido
  'S') become a Shopify order edit before the invoice is confirmed.

A message's `direction` says which side redoes it.
"""

from __future__ import annotations

from typing import Any

from jobs import two_way
from ledger.handled import unless_handled


def on_webhook(event: Any) -> Any:
    from jobs.order_edits import to_erp

    return to_erp.on_webhook(event)


def on_refund(event: Any) -> Any:
    from jobs.order_edits import to_erp

    return to_erp.on_refund(event)


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: the EventoPedido poller reads the ERP side."""
    from jobs.order_edits import to_shopify

    to_shopify.run(shop_id)


@unless_handled
def replay(message_id: int) -> None:
    two_way.replay(__name__, message_id)

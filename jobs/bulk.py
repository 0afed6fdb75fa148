"""bulk_operations/finish: wake the bulk runner waiting on that operation (it then reads the result)."""

from __future__ import annotations

import logging

from jobs.inbox import WebhookEvent
from shopify_app.admin_api import notify_bulk_finished

log = logging.getLogger(__name__)


def on_finish(event: WebhookEvent) -> None:
    bulk_id = event.payload.get("admin_graphql_api_id")
    if not isinstance(bulk_id, str) or not bulk_id:
        raise ValueError("bulk_operations/finish payload has no admin_graphql_api_id")
    log.info("bulk: %s finished (%s) for %s", bulk_id, event.payload.get("status"), event.shop_domain)
    notify_bulk_finished(event.shop_domain, bulk_id)

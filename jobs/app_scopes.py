"""app/scopes_update: Shopify changed the access scopes granted to the app on a shop.

The shop row records the new grant; a scope the app requires (settings.SCOPES) no longer
granted parks the shop `needs_reauth` with a reason naming it (shopify_app.scopes); a grant
that makes such a shop whole puts it back to active and enqueues the catch-up reconciliation an
install would (the orders refused while it was parked: shopify_app.enqueue). A payload
without its `current` list fails the inbox row with the reason (the delivery stays stored).
"""

from __future__ import annotations

import logging

from jobs.inbox import Ignored, WebhookEvent, not_installed
from ledger.db import session_scope
from ledger.models import ShopStatus
from settings import get_settings
from shopify_app.enqueue import enqueue_catch_up
from shopify_app.scopes import apply_scopes_update, parse_update
from shopify_app.shops import find_shop

log = logging.getLogger(__name__)


def on_update(event: WebhookEvent) -> Ignored | None:
    update = parse_update(event.payload, event.topic, event.triggered_at)  # ValueError: row failed
    required = get_settings().scope_list
    with session_scope() as session:
        shop = find_shop(session, event.shop_domain, for_update=True)
        if shop is None:
            return not_installed(event.shop_domain)
        if shop.status == ShopStatus.UNINSTALLED.value:
            return Ignored(
                f"ignored: the app is uninstalled from {shop.domain}; installing it grants scopes anew"
            )
        applied = apply_scopes_update(session, shop, update, required)
        shop_id, status, reason = shop.id, shop.status, shop.status_reason
    if applied.stale:
        return Ignored(f"ignored: this scopes update is {applied.stale}")
    log.info("app_scopes: %s grants %s scopes (shop %s)", event.shop_domain, len(update.current), status)
    if status == ShopStatus.NEEDS_REAUTH.value:
        log.warning("app_scopes: %s needs re-authorization: %s", event.shop_domain, reason)
    if applied.restored:  # the orders refused while it was parked: as an install making it whole
        enqueue_catch_up(get_settings().redis_url, shop_id, event.shop_domain, after="a whole grant")
    return None

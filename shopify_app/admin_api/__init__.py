"""The one GraphQL client every flow uses to reach Shopify's Admin API (2026-10).

from shopify_app.admin_api import for_shop
client = for_shop("shop.myshopify.com")
client.inventory_set_quantities([...], key=idempotency_key(shop, "stock", batch_id, content))
"""

from shopify_app.admin_api.bulk import notify_bulk_finished
from shopify_app.admin_api.client import AdminClient, build_client, for_shop
from shopify_app.admin_api.idempotency import idempotency_key

__all__ = ["AdminClient", "build_client", "for_shop", "idempotency_key", "notify_bulk_finished"]

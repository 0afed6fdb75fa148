"""What the Flows page compares to know its list of failed jobs is stale, without telling a shop how
many jobs failed in other shops: RQ's failed registries hold every shop's jobs, and their size alone
would let any viewer follow other stores' failures. The mark is an HMAC of the shop and that size
under the app's secret key, so it changes when the size does and says nothing else."""

from __future__ import annotations

import hashlib
import hmac

from shopify_app.api_common import app_settings

LENGTH = 16  # hex digits: the `failed` query parameter of GET /api/flows/changes takes up to 20


def failed_mark(shop_id: int, total: int | None) -> str | None:
    """The shop's mark of RQ's failed registries' size `total`; None when Redis could not say."""
    if total is None:
        return None
    key = app_settings().secret_key.encode()
    return hmac.new(key, f"failed:{shop_id}:{total}".encode(), hashlib.sha256).hexdigest()[:LENGTH]
